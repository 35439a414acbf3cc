"""``python -m creditbank`` runs the command line."""

from creditbank.cli import main

main()
