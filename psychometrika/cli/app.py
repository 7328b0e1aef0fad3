"""The typer application every command of the ``psychometrika`` command line is registered on.

The command modules of this package (:mod:`~psychometrika.cli.instruments`, :mod:`~psychometrika.cli.study`,
:mod:`~psychometrika.cli.report`, :mod:`~psychometrika.cli.tools`) add their commands to :data:`app` when they are
imported; :mod:`psychometrika.cli` imports all of them and runs the application (:func:`psychometrika.cli.main`).
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Measure large language models with psychological instruments.")

#: Where commands print their results (wide lines when the output is not a terminal, e.g. in tests and logs).
console = Console(width=None if sys.stdout.isatty() else 200)

#: Global options given before the command (``psychometrika --debug ...``).
state = {"debug": False}


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks on errors.")) -> None:
    state["debug"] = debug


__all__ = ["app", "console", "state"]
