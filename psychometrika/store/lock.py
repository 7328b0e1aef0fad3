"""An exclusive, crash-safe lock per run folder.

A writer (``psychometrika run``, ``--force`` included) holds ``RUN/.lock`` with ``fcntl.flock`` for the whole
run. The operating system releases a ``flock`` when its process ends, however it ends (``kill -9``
included), so a lock can never be left held by a dead process. The lock file also records who holds it
(PID, host, command, start time): when a writer finds that record but can take the lock, the previous
holder ended without releasing it (a crash); the new writer takes it over and says so. Readers (``report``,
``export``, :func:`~psychometrika.store.read_run`) do not lock; they refuse a folder that another process is
writing.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import weakref
from pathlib import Path
from typing import Any

from ..errors import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; the record alone is kept
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"


def _describe(info: dict[str, Any]) -> str:
    what = info.get("command") or "a run"
    return (f"{what} (PID {info.get('pid', '?')} on host {info.get('host', '?')}, since "
            f"{info.get('started', '?')})")


def _read_info(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return {}
    if not text:
        return {}
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        return {"pid": "?", "host": "?", "started": "?"}
    return info if isinstance(info, dict) else {}


def _alive(info: dict[str, Any]) -> bool:
    """Whether the recorded holder still runs (only knowable on this host)."""
    if info.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(info.get("pid")), 0)
    except (ValueError, TypeError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """The writer's lock on one run folder (see the module text). Use :meth:`acquire` / :meth:`release`, or
    ``with RunLock(folder):``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None
        self._finalizer: weakref.finalize | None = None
        self.took_over: dict[str, Any] | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "RunLock":
        """Take the lock or raise :class:`StoreError` naming the process that holds it."""
        if self._fd is not None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror}",
                             hint="is the folder read-only?") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                info = _read_info(self.path)
                os.close(fd)
                raise StoreError(f"{self.folder} is being written by another process: {_describe(info)}",
                                 hint="wait for it to finish (re-run this command afterwards to resume), or "
                                      "choose another --out folder; two writers never share a run folder"
                                 ) from None
            except OSError:
                pass  # a file system without locks (some network mounts): the record below still warns others
        previous = _read_info(self.path)
        if previous and previous.get("pid") != os.getpid():
            self.took_over = previous
            state = "is no longer running" if not _alive(previous) else "no longer holds the lock"
            print(f"note: {self.folder}: taking over the lock left by {_describe(previous)}; that process {state} "
                  "(it ended without releasing it)", file=sys.stderr)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "command": " ".join(["psychometrika", *sys.argv[1:3]]) if sys.argv and "psychometrika" in
                  " ".join(sys.argv[:2]) else "a Python process"}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        self._finalizer = weakref.finalize(self, _release_fd, fd)
        return self

    def release(self) -> None:
        """Release the lock (idempotent); the record is cleared so the next writer sees a clean hand-over."""
        if self._finalizer is not None:
            self._finalizer()
        self._fd = None
        self._finalizer = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _release_fd(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass


def lock_holder(folder: str | Path) -> dict[str, Any] | None:
    """Who is writing ``folder`` now (PID, host, command, start), or None when no other process is."""
    path = Path(folder) / LOCK_FILE
    if not path.exists():
        return None
    info = _read_info(path)
    if info.get("pid") == os.getpid() and info.get("host") == socket.gethostname():
        return None  # this process writes it (a reader inside a running study)
    if fcntl is None:
        return info if info and _alive(info) else None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return info or {"pid": "?", "host": "?", "started": "?"}
    except OSError:
        return None
    finally:
        os.close(fd)  # closing drops a shared lock taken above
    return None


def refuse_if_locked(folder: str | Path, action: str) -> None:
    """Raise :class:`StoreError` when another process is writing ``folder`` (for ``report``, ``export``...)."""
    info = lock_holder(folder)
    if info is not None:
        raise StoreError(f"cannot {action} {folder}: it is being written by {_describe(info)}",
                         hint="wait until that run ends (or stop it with Ctrl-C), then try again")


__all__ = ["LOCK_FILE", "RunLock", "lock_holder", "refuse_if_locked"]
