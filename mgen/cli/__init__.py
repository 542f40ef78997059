"""The command-line interface: one file per command, wired together in app.py."""
