"""The API's routers, one module per resource; :func:`creditbank.api.app.create_app` mounts them."""
