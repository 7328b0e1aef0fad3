"""Deprecated home of the OpenAI-compatible test server: it lives in :mod:`psychometrika.serve` now.

``from psychometrika.backends.serve import start_server, Faults`` and ``python -m psychometrika.backends.serve``
keep working.
"""

from __future__ import annotations

from ..serve import (DEFAULT_TIMEOUT_S, MAX_BODY, MAX_CONNECTIONS, ChatServer, Faults,  # noqa: F401
                     check_exposure, is_loopback, main, start_server)

__all__ = ["ChatServer", "Faults", "check_exposure", "is_loopback", "main", "start_server"]

if __name__ == "__main__":  # pragma: no cover
    main()
