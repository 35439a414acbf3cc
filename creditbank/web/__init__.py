"""Server-rendered pages on the same app as the API (Jinja2; static assets shipped in the package)."""
