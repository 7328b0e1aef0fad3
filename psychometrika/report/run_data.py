"""A run folder as the report reads it: the response table, the manifest and the instruments of the run, and
the hash of its answers."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PsychometrikaError
from ..instruments.schema import Instrument
from .errors import ReportError


def load_run(run_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Instrument]]:
    """The response table, manifest and instruments (matched by id; file hashes checked) of a run folder."""
    from ..instruments import load_instrument
    from ..store.store import read_manifest, read_run

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    df = read_run(run_dir)
    if df.empty:
        raise ReportError(f"{run_dir} holds no responses yet", hint="run the study first: psychometrika run ...")
    wanted = sorted(set(df["instrument"]))
    found: dict[str, Instrument] = {}
    candidates: list[str] = []
    study = manifest.get("study") or {}
    for choice in study.get("instruments", []):
        candidates.append(choice if isinstance(choice, str) else choice.get("id"))
    # a relative instrument path: against the original study's folder (recorded as study_dir), the current
    # folder, the run folder
    bases = [Path(manifest["study_dir"])] if manifest.get("study_dir") else []
    bases.append(run_dir)
    for c in candidates:
        refs = [str(b / c) for b in bases[:1]] + [c] + [str(b / c) for b in bases[1:]] if c else []
        for ref in refs:
            try:
                ins = load_instrument(ref)
            except (PsychometrikaError, KeyError, OSError):
                continue
            found.setdefault(ins.id, ins)
            break
    for iid in wanted:
        if iid not in found:
            try:
                found[iid] = load_instrument(iid)
            except (PsychometrikaError, KeyError) as exc:
                why = exc.message if isinstance(exc, PsychometrikaError) else f"no instrument {exc} is installed"
                why = why.strip().splitlines()[0]
                raise ReportError(f"instrument {iid!r} of this run cannot be loaded ({why})",
                                  hint="install the plugin that provides it, or run from the folder the "
                                       "study file's instrument paths are relative to") from None
    return df, manifest, {i: found[i] for i in wanted}


def data_hash(responses: pd.DataFrame) -> str:
    """sha256 of the answers of a run (cell keys, statuses, option probabilities, values, texts), row-order free.

    Two runs with the same hash gave the same answer to every prompt.
    """
    cols = [c for c in ("cell_key", "status", "chosen_option", "chosen_value", "expected_value", "parsed_value",
                        "probs", "raw_text") if c in responses.columns]
    df = responses[cols].sort_values("cell_key", kind="stable")
    h = hashlib.sha256()
    for row in df.itertuples(index=False):
        h.update(json.dumps([_canon(v) for v in row], separators=(",", ":")).encode())
        h.update(b"\n")
    return h.hexdigest()


def _canon(v: Any) -> Any:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_canon(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


__all__ = ["data_hash", "load_run"]
