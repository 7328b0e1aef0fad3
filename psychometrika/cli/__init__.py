"""The ``psychometrika`` command line (typer + rich).

One module per command group, each registering its commands on :data:`psychometrika.cli.app.app`:

* :mod:`~psychometrika.cli.instruments` — ``instruments list|show|validate|schema``;
* :mod:`~psychometrika.cli.study` — ``plan``, ``run``, ``export``, ``quickstart``;
* :mod:`~psychometrika.cli.report` — ``report``, ``reproduce``;
* :mod:`~psychometrika.cli.tools` — ``bench``, ``serve``, ``convert``;
* :mod:`~psychometrika.cli.steer` — ``steer build``.

Every user error prints one clear message (file:line:column: field: problem, and a hint) and exits with
status 2; a backend failure exits with status 3; ``--debug`` shows the Python traceback as well.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ..errors import BackendError, PsychometrikaError
from ..secrets import redact_text
# each module registers its commands on ``app`` when imported; this order is the order of ``--help``
from . import study, report, tools, instruments, steer  # noqa: F401,I001
from .app import app, console


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the ``psychometrika`` command: run ``app`` and map errors to messages and exit statuses."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        rc = app(args=args, standalone_mode=False)
    except PsychometrikaError as exc:
        if debug:
            raise
        print(f"error: {redact_text(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except BackendError as exc:
        if debug:
            raise
        print(f"backend error: {redact_text(str(exc))}", file=sys.stderr)
        sys.exit(3)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click/typer usage errors
            exc.show()
            sys.exit(2)
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {redact_text(str(exc))} (run with --debug for the traceback)",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


__all__ = ["app", "console", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
