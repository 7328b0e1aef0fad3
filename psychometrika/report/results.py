"""The statistics of one run as named tidy tables: the container every report section fills, and how it is
flattened (one row per reported number), compared between two runs, written for the book and read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ReportError

#: The report's sections (its chapters), in book order.
SECTIONS = ("study", "quality", "reliability", "factor", "behaviour", "effects", "gstudy", "comparability",
            "personas")


@dataclass
class ReportStatistics:
    """The statistics of one run.

    Attributes
    ----------
    tables : name -> tidy DataFrame (written as ``name.csv`` for the book and its downloads).
    kinds : name -> ``"stat"`` (a reported statistic, compared by ``reproduce``), ``"meta"`` (provenance:
        versions, times, hashes) or ``"data"`` (item-level data, covered by the data hash).
    ids : name -> the columns that identify a row (the others are values).
    section : name -> the chapter that shows it.
    notes : section -> sentences on what could not be computed and why.
    texts : name -> preformatted ``.summary()`` text.
    manifest : the run's manifest.
    seconds : section -> computing time.
    responses : the tidy response table the statistics were computed from (not written by
        :func:`write_statistics`).
    warnings : the warnings the statistics functions gave (section, context, warning); written as the
        ``warnings`` table.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    section: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    texts: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    responses: pd.DataFrame | None = field(default=None, repr=False)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, df: pd.DataFrame, section: str, kind: str = "stat",
            ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Store ``df`` as table ``name`` of ``section``; ``ids`` are its identifying columns (default: the
        non-numeric ones). Object columns holding only numbers become float."""
        df = _numeric_columns(df.reset_index(drop=True), exclude=ids or ())
        self.tables[name] = df
        self.kinds[name] = kind
        self.section[name] = section
        self.ids[name] = list(ids) if ids is not None else [c for c in df.columns if not _is_numeric(df[c])]
        return df

    def note(self, section: str, text: str) -> None:
        """Add a sentence to a section's notes (once)."""
        if text not in self.notes.setdefault(section, []):
            self.notes[section].append(text)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def index(self) -> pd.DataFrame:
        """One row per table: name, section, kind, rows, columns."""
        return pd.DataFrame([{"table": n, "section": self.section[n], "kind": self.kinds[n], "rows": len(df),
                              "columns": len(df.columns)} for n, df in self.tables.items()])


def _numeric_columns(df: pd.DataFrame, exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Object columns holding only numbers and missing values (e.g. after a left merge) become float."""
    skip = set(exclude)
    for c in df.columns:
        s = df[c]
        if c in skip or _is_numeric(s) or pd.api.types.is_bool_dtype(s):
            continue
        if s.isna().all():
            df[c] = s.astype(float) if len(s) else s
            continue
        v = s.dropna()
        if v.map(lambda x: isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)).all():
            df[c] = pd.to_numeric(s, errors="coerce").astype(float)
    return df


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def flatten_statistics(stats: ReportStatistics, kinds: Sequence[str] = ("stat",)) -> pd.DataFrame:
    """One row per reported number: ``table``, ``row`` (its identifying columns), ``column``, ``value``.

    Numeric cells go to ``value`` (float), others to ``text``. Rows with equal identifiers are numbered
    (``#2``, ``#3``...) in table order, which is deterministic.
    """
    out = []
    for name, df in stats.tables.items():
        if stats.kinds.get(name) not in kinds or df.empty:
            continue
        ids = [c for c in stats.ids.get(name, []) if c in df.columns]
        labels = (df[ids].astype(str).apply(lambda r: "|".join(f"{c}={v}" for c, v in r.items()), axis=1)
                  if ids else pd.Series([f"row{i}" for i in range(len(df))], index=df.index))
        occ = labels.groupby(labels).cumcount()
        labels = labels.where(occ == 0, labels + "#" + (occ + 1).astype(str))
        for col in df.columns:
            if col in ids:
                continue
            s = df[col]
            numeric = _is_numeric(s)
            out.append(pd.DataFrame({"table": name, "row": labels.values, "column": str(col),
                                     "value": pd.to_numeric(s, errors="coerce").astype(float).values
                                     if numeric else np.nan,
                                     "text": None if numeric else s.astype(str).values}))
    if not out:
        return pd.DataFrame(columns=["table", "row", "column", "value", "text"])
    return pd.concat(out, ignore_index=True)


def diff_statistics(a: pd.DataFrame | ReportStatistics, b: pd.DataFrame | ReportStatistics,
                    tol: float = 0.0) -> pd.DataFrame:
    """Compare two flattened statistics tables (or two :class:`ReportStatistics`).

    Returns one row per reported number with ``original``, ``reproduced``, ``abs_diff`` and ``status``:
    ``same`` (equal, both NaN, or ``|a − b| <= tol``), ``different``, ``only in original`` or
    ``only in reproduction``.
    """
    fa_ = flatten_statistics(a) if isinstance(a, ReportStatistics) else a
    fb_ = flatten_statistics(b) if isinstance(b, ReportStatistics) else b
    m = fa_.merge(fb_, on=["table", "row", "column"], how="outer", suffixes=("_a", "_b"), indicator=True)
    va, vb = m["value_a"].astype(float), m["value_b"].astype(float)
    ta, tb = m["text_a"], m["text_b"]
    numeric = va.notna() | vb.notna()
    diff = (va - vb).abs()
    same_num = (va.isna() & vb.isna()) | (diff <= tol)
    same_txt = (ta.astype(str) == tb.astype(str)) | (ta.isna() & tb.isna())
    same = np.where(numeric, same_num, same_txt)
    status = np.where(m["_merge"] == "left_only", "only in original",
                      np.where(m["_merge"] == "right_only", "only in reproduction",
                               np.where(same, "same", "different")))
    orig = np.where(numeric, va.astype(object), ta)
    repr_ = np.where(numeric, vb.astype(object), tb)
    return pd.DataFrame({"table": m["table"], "row": m["row"], "column": m["column"], "original": orig,
                         "reproduced": repr_, "abs_diff": np.where(numeric, diff, np.nan), "status": status})


# ============================================================================================ persistence
def write_statistics(stats: ReportStatistics, folder: str | Path) -> Path:
    """Write every table as ``name.csv``, plus ``statistics.csv`` (flattened), ``tables.json`` (index, kinds,
    ids), ``notes.json``, ``texts.json``, ``manifest.json`` and ``timings.json`` (seconds per section; the only
    file that differs between two computations on the same run), into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in stats.tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    flatten_statistics(stats).to_csv(folder / "statistics.csv", index=False)
    meta = {"tables": {n: {"section": stats.section[n], "kind": stats.kinds[n], "ids": stats.ids[n],
                           "rows": len(df), "columns": list(map(str, df.columns))}
                       for n, df in stats.tables.items()}}
    (folder / "tables.json").write_text(json.dumps(meta, indent=2))
    (folder / "timings.json").write_text(json.dumps(stats.seconds, indent=2))
    (folder / "notes.json").write_text(json.dumps(stats.notes, indent=2, ensure_ascii=False))
    (folder / "texts.json").write_text(json.dumps(stats.texts, indent=2, ensure_ascii=False))
    (folder / "manifest.json").write_text(json.dumps(stats.manifest, indent=2, sort_keys=True, default=str))
    return folder


def read_statistics(folder: str | Path) -> ReportStatistics:
    """Read what :func:`write_statistics` wrote."""
    folder = Path(folder)
    meta_path = folder / "tables.json"
    if not meta_path.exists():
        raise ReportError(f"{folder} holds no report statistics (tables.json missing)")
    meta = json.loads(meta_path.read_text())
    st = ReportStatistics()
    for name, info in meta["tables"].items():
        p = folder / f"{name}.csv"
        try:
            df = pd.read_csv(p, keep_default_na=True)
        except pd.errors.EmptyDataError:
            df = pd.DataFrame(columns=info.get("columns", []))
        st.add(name, df, info["section"], info["kind"], ids=info["ids"])
    st.notes = json.loads((folder / "notes.json").read_text()) if (folder / "notes.json").exists() else {}
    st.texts = json.loads((folder / "texts.json").read_text()) if (folder / "texts.json").exists() else {}
    if (folder / "manifest.json").exists():
        st.manifest = json.loads((folder / "manifest.json").read_text())
    if (folder / "timings.json").exists():
        st.seconds = json.loads((folder / "timings.json").read_text())
    return st


__all__ = ["SECTIONS", "ReportStatistics", "diff_statistics", "flatten_statistics", "read_statistics",
           "write_statistics"]
