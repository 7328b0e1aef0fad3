"""A model file's identity (its sha256), recorded once with its size and modification time so that a start
need not read the whole file again; atomic JSON records and advisory locks for the user cache.

The fast path: a record ``{"sha256", "size", "mtime_ns", ...}`` is trusted while the file's size and nanosecond
mtime equal the recorded ones (a truncated, replaced or re-written file changes them). Otherwise the file is
hashed again (~3 s per GB here). The tradeoff: a change that keeps both (bit rot, a deliberate ``touch -d``)
passes the fast path; ``PSYCHOMETRIKA_VERIFY=full`` hashes the file every time.

Used by :mod:`.registry` (assembled chunked models: the record lies beside the file) and :mod:`.convert` (a GGUF's
cached conversion: the record lies in the cache, the GGUF may sit in a read-only site-packages folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

#: environment variable: ``full`` hashes a model file on every load (default: size + mtime fast path)
VERIFY_ENV = "PSYCHOMETRIKA_VERIFY"


def hash_file(path: str | Path, chunk: int = 1 << 22) -> str:
    """sha256 of a file's bytes, read now (no memo)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (a temporary sibling renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=1)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock`` on ``path``) held for the block: one process builds, the others
    wait. Without ``fcntl`` (not POSIX) no lock is taken; atomic renames still keep readers from half-written
    files."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def recorded_sha256(path: Path, record: Path) -> tuple[str | None, dict[str, Any] | None]:
    """``(sha256 of path, its record)`` checked against the record at ``record``.

    * no readable record: ``(None, None)`` -- the caller decides (hash the file, or build it again);
    * size and mtime as recorded (and ``$PSYCHOMETRIKA_VERIFY`` is not ``full``): the recorded sha256;
    * otherwise the file is hashed now; when the bytes are the recorded ones and only the mtime moved, the
      record is refreshed so the next call takes the fast path again.

    Compare the returned sha256 with ``record["sha256"]`` to know whether the file still is what was recorded.
    Raises OSError when ``path`` cannot be read.
    """
    try:
        rec = json.loads(record.read_text())
        size, mtime, known = int(rec["size"]), int(rec["mtime_ns"]), str(rec["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
    st = path.stat()
    if os.environ.get(VERIFY_ENV, "").lower() != "full" and (st.st_size, st.st_mtime_ns) == (size, mtime):
        return known, rec
    sha = hash_file(path)
    if sha == known and st.st_size == size and st.st_mtime_ns != mtime:
        rec["mtime_ns"] = st.st_mtime_ns
        with contextlib.suppress(OSError):  # a read-only record: the fast path just stays off
            write_json(record, rec)
    return sha, rec


def stat_record(path: Path, sha256: str, **extra: Any) -> dict[str, Any]:
    """The record of ``path`` as it is now: its sha256, size and mtime, and ``extra`` fields."""
    st = path.stat()
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, **extra}


__all__ = ["VERIFY_ENV", "file_lock", "hash_file", "recorded_sha256", "stat_record", "write_json"]
