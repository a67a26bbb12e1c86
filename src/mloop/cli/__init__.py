"""The ``mloop`` command line (Typer + rich)."""
