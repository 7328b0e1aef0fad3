"""Exports of a run for R, SPSS and spreadsheets: the long response table, or one wide table per instrument.

* **CSV**: list columns as JSON text, booleans as 0/1 (R's ``read.csv`` and SPSS read them as numbers).
* **Parquet**: the table as stored (list columns stay lists).
* **SPSS .sav** (pyreadstat): every column is written -- lists as JSON text, booleans as 0/1, strings trimmed of
  surrounding white space; strings longer than SPSS's 32,767 bytes are cut and the cut is reported. Each
  variable carries a *variable label* (the column's meaning from ``docs/response-table.md``; in the wide export
  the item text) and the Likert answer columns carry *value labels* (the response labels, e.g. 1 = "Disagree
  strongly") where every instrument of the table shares one scale (always so in the wide export). Nothing is
  dropped silently: :class:`ExportReport` lists what was changed and why, and the CLI prints it.
* **wide** (``wide=True``, CLI ``--wide``): one file per instrument, ``<stem>_<instrument>.<ext>``: respondents
  (the respondent columns) × items (raw answers, not reverse keyed, like an R data frame of item responses) plus
  one column per scale score (``scale_<id>``, keyed and scored as ``pm.scale_scores``); the tables are built by
  :mod:`psychometrika.tools.export` (scoring ranks above the store).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import StoreError

#: SPSS's longest string value, in bytes.
SAV_MAX_STRING = 32767

#: Variable labels of the long table's columns (docs/response-table.md).
COLUMN_LABELS: dict[str, str] = {
    "key": "content hash of the request", "cell_key": "hash of the design cell", "study_hash": "hash of the study",
    "model": "model id", "backend": "inference backend", "weights_sha256": "hash of the model weights",
    "decoding": "decoding settings (JSON)", "seed": "seed of this administration", "repetition": "repetition index",
    "instrument": "instrument id", "instrument_version": "instrument version",
    "instrument_sha256": "hash of the instrument file", "item": "item id", "scale": "scale the item is keyed on",
    "keyed": "keying (+1 forward, -1 reverse)", "persona": "persona id", "instruction_id": "instruction paraphrase",
    "stem_id": "item stem paraphrase", "order_id": "option order", "permutation": "display position -> option (JSON)",
    "n_options": "number of options shown", "label_scheme": "option label scheme", "prompt_hash": "hash of the prompt",
    "mode": "score or generate", "option_values": "values of the original options (JSON)",
    "probs": "probability of each original option (JSON)", "logprobs": "log-probability of each shown label (JSON)",
    "chosen_position": "display position chosen (0-based; -1 none)", "chosen_option": "original option chosen "
    "(0-based; -1 none)", "chosen_value": "value of the chosen option", "expected_value": "probability-weighted value",
    "raw_text": "generated text", "parsed_value": "value parsed from the text", "status": "ok/refused/unparseable/error",
    "n_prompt_tokens": "prompt tokens", "n_completion_tokens": "generated tokens", "latency_s": "seconds per request",
    "prompt": "the exact prompt (JSON messages)", "continuations": "scored continuations (JSON)",
    "numeric_min": "numeric answer minimum", "numeric_max": "numeric answer maximum",
    "numeric_integer": "numeric answer must be an integer (1/0)", "response_type": "response format",
    "max_tokens": "generation limit", "request_key": "key of the backend request",
}

#: Answer columns that hold a Likert value (value labels apply).
VALUE_COLUMNS = ("chosen_value", "parsed_value")


@dataclass
class ExportReport:
    """What an export wrote and everything it had to change (never silent)."""

    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"wrote {p}" for p in self.paths]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


def _flatten(df: pd.DataFrame) -> pd.DataFrame:
    """Lists/dicts as JSON text, booleans as 0/1 (nullable booleans keep NaN)."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("Int64" if s.isna().any() else int)
        elif s.dtype == object:
            if s.map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray))).any():
                out[col] = s.map(lambda v: json.dumps(v.tolist() if isinstance(v, np.ndarray) else v)
                                 if isinstance(v, (list, tuple, dict, np.ndarray)) else v)
            elif s.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all() and s.notna().any():
                out[col] = s.map(lambda v: int(v) if isinstance(v, (bool, np.bool_)) else np.nan)
    return out


def _sav_name(name: str, used: set[str]) -> str:
    """An SPSS variable name: letters, digits, _ . @ #; starts with a letter; ≤ 64 bytes; unique."""
    base = re.sub(r"[^A-Za-z0-9_.@#]", "_", str(name)) or "v"
    if not base[0].isalpha():
        base = "v" + base
    base = base.rstrip(".")[:64]
    cand, k = base, 1
    while cand.lower() in used:
        k += 1
        cand = f"{base[:60]}_{k}"
    used.add(cand.lower())
    return cand


def _write_sav(flat: pd.DataFrame, path: Path, labels: dict[str, str], value_labels: dict[str, dict[float, str]],
               report: ExportReport) -> None:
    try:
        import pyreadstat
    except ImportError:
        raise StoreError("SPSS export needs pyreadstat: pip install pyreadstat") from None
    flat = flat.copy()
    used: set[str] = set()
    names = {c: _sav_name(c, used) for c in flat.columns}
    renamed = {c: n for c, n in names.items() if n != c}
    if renamed:
        report.notes.append(f"{path.name}: SPSS variable names changed: "
                            + ", ".join(f"{c} -> {n}" for c, n in list(renamed.items())[:10])
                            + (" ..." if len(renamed) > 10 else ""))
    for col in flat.columns:
        s = flat[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            if s.notna().any() and num.notna().sum() == s.notna().sum() and \
                    not s.dropna().map(lambda v: isinstance(v, str)).any():
                flat[col] = num
                continue
            text = s.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())
            too_long = text.map(lambda v: len(v.encode("utf-8")) > SAV_MAX_STRING)
            if too_long.any():
                text = text.map(lambda v: v.encode("utf-8")[:SAV_MAX_STRING].decode("utf-8", "ignore"))
                report.notes.append(f"{path.name}: {int(too_long.sum())} value(s) of {col!r} were longer than SPSS's "
                                    f"{SAV_MAX_STRING} bytes and were cut")
            flat[col] = text
        elif isinstance(s.dtype, pd.Int64Dtype):
            flat[col] = s.astype(float)
    flat = flat.rename(columns=names)
    pyreadstat.write_sav(flat, str(path),
                         column_labels={names[c]: labels.get(c, "")[:255] for c in names},
                         variable_value_labels={names[c]: v for c, v in value_labels.items() if c in names})


def _likert_labels(instruments: dict[str, Any], ids: list[str]) -> dict[float, str] | None:
    """The shared {value: label} of the Likert instruments ``ids`` (None when they differ or are not Likert)."""
    maps = []
    for iid in ids:
        ins = instruments.get(iid)
        fmt = getattr(ins, "response_format", None)
        if fmt is None or fmt.type != "likert":
            continue
        maps.append({float(v): str(lab) for v, lab in zip(fmt.values, fmt.labels)})
    if maps and all(m == maps[0] for m in maps):
        return maps[0]
    return None


def _write(flat: pd.DataFrame, path: Path, fmt: str, labels: dict[str, str],
           value_labels: dict[str, dict[float, str]], report: ExportReport, raw: pd.DataFrame | None = None) -> None:
    if fmt == "csv":
        flat.to_csv(path, index=False)
    elif fmt == "parquet":
        (raw if raw is not None else flat).to_parquet(path, index=False)
    elif fmt == "sav":
        _write_sav(flat, path, labels, value_labels, report)
    else:
        raise StoreError(f"unknown export format {fmt!r}", hint="use .csv, .parquet or .sav")
    report.paths.append(path)


def export_table(df: pd.DataFrame, path: str | Path, fmt: str | None = None, *,
                 instruments: dict[str, Any] | None = None, wide: bool = False,
                 wide_tables: dict[str, pd.DataFrame] | None = None) -> ExportReport:
    """Export a response table (see the module docstring); ``instruments`` (id -> Instrument) give item texts and
    response labels. ``wide=True`` writes ``wide_tables`` (instrument id -> respondents x items + ``scale_<id>``
    columns; :func:`psychometrika.tools.export.wide_tables` builds them: the store ranks below scoring)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "parquet", "sav"):
        raise StoreError(f"unknown export format {fmt!r}", hint="use .csv, .parquet or .sav")
    instruments = instruments or {}
    report = ExportReport()
    if not wide:
        labels = dict(COLUMN_LABELS)
        shared = _likert_labels(instruments, sorted(map(str, df["instrument"].unique()))) \
            if "instrument" in df else None
        if shared and "instrument" in df and all(
                getattr(instruments.get(i), "response_format", None) is not None
                and instruments[i].response_format.type == "likert" for i in df["instrument"].unique()):
            vl = {c: shared for c in VALUE_COLUMNS if c in df}
        else:
            vl = {}
            if fmt == "sav":
                report.notes.append("value labels are given in the wide export (--wide): the instruments of this "
                                    "table do not share one response scale")
        _write(_flatten(df), path, fmt, labels, vl, report, raw=df)
        return report
    if wide_tables is None:
        raise StoreError("the wide export needs the tables per instrument",
                         hint="use psychometrika.tools.export.export_run (CLI: psychometrika export RUN OUT --wide)")
    for iid, table in wide_tables.items():
        ins = instruments.get(str(iid))
        items = [it for it in (ins.items if ins is not None else []) if it.id in table]
        labels = {c: COLUMN_LABELS.get(c, c) for c in table.columns}
        labels.update({it.id: it.text for it in items})
        if ins is not None:
            labels.update({f"scale_{sc.id}": f"scale score: {sc.name} ({ins.scoring})" for sc in ins.scales
                           if f"scale_{sc.id}" in table})
        shared = _likert_labels({str(iid): ins}, [str(iid)]) if ins is not None else None
        vl = {it.id: shared for it in items} if shared else {}
        target = path.with_name(f"{path.stem}_{iid}{path.suffix}")
        _write(_flatten(table), target, fmt, labels, vl, report, raw=table)
    return report


__all__ = ["COLUMN_LABELS", "ExportReport", "export_table"]
