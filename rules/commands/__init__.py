"""One module per `python -m rules` command."""
