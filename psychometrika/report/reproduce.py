"""``psychometrika reproduce RUN_DIR_OR_MANIFEST --out NEW``: re-run a study from its manifest and diff every
reported statistic.

The study is taken from the run folder's ``study.yaml`` (the file as it was run) or, failing that, from the copy
in ``manifest.json``; its hash must equal the manifest's ``study_hash``. Instrument files and model weights are
checked against the hashes in the manifest (a mismatch is reported, since the re-run cannot then be identical).
The statistics of both runs are computed by the same function as the report
(:func:`psychometrika.report.statistics.compute_statistics`) and compared number by number
(:func:`psychometrika.report.statistics.diff_statistics`). When the original is a book's ``manifest.json``
without responses next to it, the book's ``statistics.csv`` is the original.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

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


def _locate(source: str | Path) -> tuple[Path, dict[str, Any], Path | None]:
    """(manifest path, manifest, run folder holding responses or None)."""
    p = Path(source)
    if p.is_dir():
        mp = p / "manifest.json"
    else:
        mp = p
    if not mp.exists():
        raise ReportError(f"{source}: no manifest.json found",
                          hint="give a run folder (the --out of `psychometrika run`) or its manifest.json")
    try:
        manifest = json.loads(mp.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read {mp}: {exc}") from None
    run = mp.parent if (mp.parent / "shards").is_dir() else None
    return mp, manifest, run


def _study_of(manifest_path: Path, manifest: dict[str, Any]):
    """The study of a run: its ``study.yaml`` copy, else the manifest's copy; plus a note on its hash."""
    from ..design.study import Study, load_study, study_hash

    study = None
    copy = manifest_path.parent / "study.yaml"
    if copy.exists():
        try:
            study = load_study(copy)
        except Exception:  # noqa: BLE001 - fall back to the manifest's copy below
            study = None
    if study is None:
        if not manifest.get("study"):
            raise ReportError(f"{manifest_path} holds no copy of the study", hint="is it a psychometrika manifest?")
        try:
            study = Study.model_validate(manifest["study"])
        except Exception as exc:  # noqa: BLE001 - pydantic's message, shortened
            raise ReportError(f"the study in {manifest_path} is not valid for this version of psychometrika: "
                              f"{str(exc).splitlines()[0]}") from None
    h = study_hash(study)
    if manifest.get("study_hash") and h != manifest["study_hash"]:
        note = (f"study hash differs ({str(manifest['study_hash'])[:12]} in the manifest, {h[:12]} now): the study "
                "file or the study format changed since the run (e.g. a new setting with a default)")
    else:
        note = f"study hash: identical ({h[:12]}…)"
    return study, note


def _instrument_checks(study, manifest: dict[str, Any]) -> list[str]:
    from ..design.factors import expand_factors

    out = []
    now = {a.instrument.id: a.instrument.sha256 for a in expand_factors(study).instruments}
    for rec in manifest.get("instruments", []):
        iid, sha = rec.get("id"), rec.get("sha256")
        if iid in now and sha and now[iid] != sha:
            out.append(f"instrument {iid}: file changed since the run (sha256 {sha[:12]} → {str(now[iid])[:12]})")
    return out or ["instrument files: same sha256 as in the manifest"]


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
    from ..engine.run import run_study
    from ..store.store import read_manifest, read_run

    mp, manifest, run = _locate(source)
    out = Path(out)
    if run is not None and out.resolve() == run.resolve():
        raise ReportError("--out must be a new folder, not the original run", hint="choose another folder")
    study, note = _study_of(mp, manifest)
    checks = [note, *_instrument_checks(study, manifest)]
    run_study(study, out, progress=progress, backend_factory=backend_factory, force=force)
    new_manifest = read_manifest(out)
    for mid, rec in (manifest.get("models") or {}).items():
        new = (new_manifest.get("models") or {}).get(mid, {})
        if rec.get("weights_sha256") and new.get("weights_sha256") and rec["weights_sha256"] != new["weights_sha256"]:
            checks.append(f"model {mid}: weights differ (sha256 {rec['weights_sha256'][:12]} → "
                          f"{new['weights_sha256'][:12]})")
        elif rec.get("weights_sha256"):
            checks.append(f"model {mid}: same weights (sha256 {rec['weights_sha256'][:12]}…)")
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
    return ReproduceResult(mp.parent, out, diff, old_hash, new_hash, checks)


def _hash_from_info(folder: Path) -> str | None:
    p = folder / "run_info.csv"
    if not p.exists():
        return None
    info = pd.read_csv(p).set_index("field")["value"]
    return next((str(v) for k, v in info.items() if str(k).startswith("data hash")), None)


__all__ = ["ReproduceResult", "reproduce"]
