"""Stage 5 — the response store: append-only Parquet shards, a manifest, readers and exports."""

from .lock import RunLock, lock_holder, refuse_if_locked
from .store import RunStore, ShardCheck, atomic_write_bytes, export_run, read_manifest, read_run, verify_run

__all__ = ["RunLock", "RunStore", "ShardCheck", "atomic_write_bytes", "export_run", "lock_holder", "read_manifest",
           "read_run", "refuse_if_locked", "verify_run"]
