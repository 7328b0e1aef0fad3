"""Stage 1 — instrument files: the YAML format, validation, discovery of built-in and plugin instruments."""

from .registry import (ENTRY_POINT_GROUP, builtin_dir, list_instruments, load_instrument, load_instrument_file,
                       refresh, resolve_id)
from .schema import Citation, Instrument, Item, Licence, Norms, Option, Paraphrase, Scale, ScaleNorm, json_schema

__all__ = ["ENTRY_POINT_GROUP", "Citation", "Instrument", "Item", "Licence", "Norms", "Option", "Paraphrase", "Scale",
           "ScaleNorm", "builtin_dir", "json_schema", "list_instruments", "load_instrument", "load_instrument_file",
           "refresh", "resolve_id"]
