"""Export a run folder (long or wide) with its instruments' labels: what ``psychometrika export`` calls.

The file formats live in :mod:`psychometrika.store.export`; this module adds what needs later stages: the
instruments of the run (:func:`psychometrika.report.run_data.load_run`) and the wide tables with scale scores
(:mod:`psychometrika.scoring`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..answers.columns import RESPONDENT_COLUMNS
from ..report.run_data import load_run
from ..scoring import item_scores, scale_scores
from ..store.export import ExportReport, export_table


def wide_tables(df: pd.DataFrame, instruments: dict[str, Any]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """(instrument id -> respondents x items (raw answers) + ``scale_<id>`` scores, notes on what was left out)."""
    by = [c for c in RESPONDENT_COLUMNS if c in df]
    tables, notes = {}, []
    for iid, sub in df.groupby("instrument", sort=True):
        ins = instruments.get(str(iid))
        if ins is None or ins.response_format.type not in ("likert", "numeric"):
            why = "no instrument definition" if ins is None else f"{ins.response_format.type} items have no single value"
            notes.append(f"{iid}: not in the wide export ({why}); it is in the long export")
            continue
        source = "expected" if (sub["mode"] == "score").all() else "chosen"
        scored = item_scores(sub, ins, source=source)
        wide = scored.pivot_table(index=by, columns="item", values="value", aggfunc="first", dropna=False)
        wide = wide[[it.id for it in ins.items if it.id in wide.columns]]
        sc = scale_scores(sub, ins, source=source, by=by)
        scales = sc.pivot_table(index=by, columns="scale", values="score", aggfunc="first", dropna=False)
        scales.columns = [f"scale_{c}" for c in scales.columns]
        tables[str(iid)] = wide.join(scales).reset_index()
        tables[str(iid)].columns.name = None
    return tables, notes


def export_run(run_dir: str | Path, dest: str | Path, *, wide: bool = False) -> ExportReport:
    """Export ``run_dir`` to ``dest`` (.csv, .parquet, .sav), long or (``wide``) one file per instrument."""
    df, _manifest, instruments = load_run(run_dir)
    if not wide:
        return export_table(df, dest, instruments=instruments)
    tables, notes = wide_tables(df, instruments)
    report = export_table(df, dest, instruments=instruments, wide=True, wide_tables=tables)
    report.notes[:0] = notes
    return report


__all__ = ["export_run", "wide_tables"]
