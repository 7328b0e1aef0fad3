"""The administration engine: runs a study's prompt plan through a backend into the response store."""

from ..store.store import export_run, read_manifest, read_run
from .run import RunReport, request_key, run_study

__all__ = ["RunReport", "export_run", "read_manifest", "read_run", "request_key", "run_study"]
