"""``psychometrika reproduce RUN_DIR_OR_MANIFEST --out NEW``: re-run a study from its manifest and diff every
reported statistic.

The re-run is the engine's (:func:`psychometrika.engine.reproduce.rerun`: the study from the run folder's
``study.yaml`` or the manifest's copy, instrument and weight hashes checked against the manifest). The
statistics of both runs are computed by the same function as the report
(:func:`psychometrika.report.statistics.compute_statistics`) and compared number by number
(:func:`psychometrika.report.statistics.diff_statistics`). When the original is a book's ``manifest.json``
without responses next to it, the book's ``statistics.csv`` is the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..engine.reproduce import ReproduceError, rerun
from .errors import ReportError
from .statistics import ReportStatistics, compute_statistics, data_hash, diff_statistics, flatten_statistics


@dataclass
class ReproduceResult:
    """Outcome of :func:`reproduce`."""

    original: Path
    reproduction: Path
    diff: pd.DataFrame
    original_data_hash: str | None
    reproduced_data_hash: str
    checks: list[str] = field(default_factory=list)

    @property
    def n_statistics(self) -> int:
        return len(self.diff)

    @property
    def n_different(self) -> int:
        return int((self.diff["status"] != "same").sum())

    @property
    def identical(self) -> bool:
        return self.n_different == 0

    @property
    def max_abs_diff(self) -> float:
        d = pd.to_numeric(self.diff["abs_diff"], errors="coerce")
        return float(d.max()) if d.notna().any() else 0.0

    def summary(self, max_rows: int = 40) -> str:
        lines = [f"original:     {self.original}", f"reproduction: {self.reproduction}"]
        lines += [f"check: {c}" for c in self.checks]
        same_data = self.original_data_hash == self.reproduced_data_hash
        if self.original_data_hash is not None:
            lines.append(f"data hash: {'identical' if same_data else 'DIFFERENT'} "
                         f"({self.original_data_hash[:16]}… vs {self.reproduced_data_hash[:16]}…)")
        lines.append(f"{self.n_statistics} reported statistics compared: {self.n_statistics - self.n_different} "
                     f"identical, {self.n_different} different (max |Δ| = {self.max_abs_diff:.3g})")
        if self.n_different:
            bad = self.diff[self.diff["status"] != "same"].copy()
            bad["abs_diff"] = pd.to_numeric(bad["abs_diff"], errors="coerce")
            bad = bad.sort_values("abs_diff", ascending=False, na_position="first").head(max_rows)
            with pd.option_context("display.width", 200, "display.max_colwidth", 60):
                lines.append(bad[["table", "row", "column", "original", "reproduced", "abs_diff",
                                  "status"]].to_string(index=False))
        return "\n".join(lines)


def reproduce(source: str | Path, out: str | Path, *, backend_factory=None, progress: bool = True,
              tol: float = 0.0, force: bool = False) -> ReproduceResult:
    """Re-run the study of a run folder (or manifest) into ``out`` and diff every reported statistic.

    Parameters
    ----------
    source : a run folder, its ``manifest.json``, or a book's ``data/manifest.json``.
    out : folder for the new run (a fresh run folder; re-running the command resumes it).
    backend_factory : as in :func:`psychometrika.engine.run.run_study` (default: the study's backends).
    tol : absolute tolerance under which two numbers count as the same (default 0: exact).

    Returns
    -------
    ReproduceResult with the per-statistic ``diff`` and ``summary()``.
    """
    from ..store.store import read_run

    try:
        done = rerun(source, out, backend_factory=backend_factory, progress=progress, force=force)
    except ReproduceError as exc:
        raise ReportError(exc.message, hint=exc.hint) from None
    mp, run, out = done.manifest_path, done.original_run, done.reproduction
    new_stats = compute_statistics(out)
    if run is not None:
        old_stats: ReportStatistics | pd.DataFrame = compute_statistics(run)
        old_hash = data_hash(read_run(run))
    else:
        flat = mp.parent / "statistics.csv"
        if not flat.exists():
            raise ReportError(f"{mp.parent} has neither the run's responses nor a statistics.csv to compare with",
                              hint="give the run folder, or the data/manifest.json of a built report")
        old_stats = pd.read_csv(flat, dtype={"table": str, "row": str, "column": str, "text": object})
        old_hash = _hash_from_info(mp.parent)
    new_hash = data_hash(new_stats.responses) if new_stats.responses is not None else ""
    diff = diff_statistics(old_stats if isinstance(old_stats, pd.DataFrame) else flatten_statistics(old_stats),
                           flatten_statistics(new_stats), tol=tol)
    return ReproduceResult(mp.parent, out, diff, old_hash, new_hash, done.checks)


def _hash_from_info(folder: Path) -> str | None:
    p = folder / "run_info.csv"
    if not p.exists():
        return None
    info = pd.read_csv(p).set_index("field")["value"]
    return next((str(v) for k, v in info.items() if str(k).startswith("data hash")), None)


__all__ = ["ReproduceResult", "reproduce"]
