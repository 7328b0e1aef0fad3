"""Stage 5 — the response store: append-only Parquet shards, a manifest, readers and exports."""

from .store import RunStore, atomic_write_bytes, export_run, read_manifest, read_run

__all__ = ["RunStore", "atomic_write_bytes", "export_run", "read_manifest", "read_run"]
