"""How a run ends: failures summarised by reason, and interruptions (Ctrl-C, SIGTERM) that leave a resumable
folder with a message saying how to resume.

* :class:`FailureTally` counts failed requests by reason (``HTTP 401``, ``TimeoutError``...) and keeps the
  first message of each, secrets masked; the engine ends a run with :meth:`FailureTally.summary`.
* :func:`terminate_as_interrupt` turns SIGTERM into :class:`Terminated` (a ``KeyboardInterrupt``), so the
  engine's ``finally`` blocks write the manifest exactly as for Ctrl-C; :func:`resume_hint` is the message.
"""

from __future__ import annotations

import re
import signal
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psychometrika.secrets as secrets

_HTTP = re.compile(r"HTTP (\d{3})")


def failure_reason(message: str | None) -> str:
    """A short reason for a failed request's error text: ``HTTP 401 Unauthorized``, or the exception type."""
    text = message or "unknown error"
    m = _HTTP.search(text)
    if m:
        code = int(m.group(1))
        from http import HTTPStatus

        try:
            return f"HTTP {code} {HTTPStatus(code).phrase}"
        except ValueError:
            return f"HTTP {code}"
    head = text.split(":", 1)[0].strip()
    return head if re.fullmatch(r"[A-Za-z_][\w.]*", head) and len(head) < 60 else "error"


class FailureTally:
    """Failed requests by reason, with the first message of each reason (secrets masked)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def add(self, message: str | None) -> None:
        reason = failure_reason(message)
        self.counts[reason] += 1
        self.first.setdefault(reason, secrets.redact_text((message or "")[:300]))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """``10 request(s) failed and were not stored: 10 × HTTP 401 Unauthorized (first: ...)``."""
        parts = [f"{n} × {r} (first: {self.first[r]})" for r, n in self.counts.most_common()]
        return f"{self.total} request(s) failed and were not stored: " + "; ".join(parts)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop with SIGTERM (handled like Ctrl-C)."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (clean-up code runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise Terminated()

    old = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def resume_hint(out: str | Path, exc: BaseException) -> str:
    """What to print after an interrupted run."""
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    return (f"{what}: the answers stored so far are kept in {out} and the manifest is up to date; "
            "re-run the same command to resume (only the missing prompts are asked)")


__all__ = ["FailureTally", "Terminated", "failure_reason", "resume_hint", "terminate_as_interrupt"]
