"""Command groups of the `vista` CLI, one module each.

Each module defines `register(app: typer.Typer) -> None`, called by
`console.cli.app` at import time, so a feature adds its commands without
editing cli.py. Use the plumbing in `console.cli.kit`.
"""
