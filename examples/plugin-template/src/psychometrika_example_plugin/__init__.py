"""Instruments in this package's folder are discovered by psychometrika through the entry point
``psychometrika.instruments`` (see pyproject.toml). No code is needed beyond this file."""
