"""Re-running a run's study: the engine side of ``psychometrika reproduce``.

:func:`rerun` takes the study of a run folder from its ``study.yaml`` (the file as it was run) or, failing that,
from the copy in ``manifest.json``, notes whether its hash still equals the manifest's ``study_hash``, checks the
instrument files and model weights against the manifest's hashes, and administers the study into a fresh
folder. Comparing the two runs' statistics is the report's job
(:func:`psychometrika.report.reproduce.reproduce`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..design.factors import expand_factors
from ..design.study import Study, load_study, study_hash
from ..errors import PsychometrikaError
from ..store.store import read_manifest
from .run import run_study
from .session import BackendFactory


class ReproduceError(PsychometrikaError):
    """A run cannot be re-run as asked (no manifest, no study in it, the output is the original folder)."""


@dataclass
class Rerun:
    """What :func:`rerun` did: where the original is, its manifest, the new run folder and the checks made."""

    manifest_path: Path
    manifest: dict[str, Any]
    original_run: Path | None
    reproduction: Path
    checks: list[str] = field(default_factory=list)


def _locate(source: str | Path) -> tuple[Path, dict[str, Any], Path | None]:
    """(manifest path, manifest, run folder holding responses or None)."""
    p = Path(source)
    if p.is_dir():
        mp = p / "manifest.json"
    else:
        mp = p
    if not mp.exists():
        raise ReproduceError(f"{source}: no manifest.json found",
                          hint="give a run folder (the --out of `psychometrika run`) or its manifest.json")
    try:
        manifest = json.loads(mp.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ReproduceError(f"cannot read {mp}: {exc}") from None
    run = mp.parent if (mp.parent / "shards").is_dir() else None
    return mp, manifest, run


def _study_of(manifest_path: Path, manifest: dict[str, Any]):
    """The study of a run: its ``study.yaml`` copy, else the manifest's copy; plus a note on its hash."""
    study = None
    copy = manifest_path.parent / "study.yaml"
    if copy.exists():
        try:
            study = load_study(copy)
        except Exception:  # noqa: BLE001 - fall back to the manifest's copy below
            study = None
    if study is None:
        if not manifest.get("study"):
            raise ReproduceError(f"{manifest_path} holds no copy of the study", hint="is it a psychometrika manifest?")
        try:
            study = Study.model_validate(manifest["study"])
        except Exception as exc:  # noqa: BLE001 - pydantic's message, shortened
            raise ReproduceError(f"the study in {manifest_path} is not valid for this version of psychometrika: "
                              f"{str(exc).splitlines()[0]}") from None
    h = study_hash(study)
    if manifest.get("study_hash") and h != manifest["study_hash"]:
        note = (f"study hash differs ({str(manifest['study_hash'])[:12]} in the manifest, {h[:12]} now): the study "
                "file or the study format changed since the run (e.g. a new setting with a default)")
    else:
        note = f"study hash: identical ({h[:12]}…)"
    return study, note


def _instrument_checks(study, manifest: dict[str, Any]) -> list[str]:
    out = []
    now = {a.instrument.id: a.instrument.sha256 for a in expand_factors(study).instruments}
    for rec in manifest.get("instruments", []):
        iid, sha = rec.get("id"), rec.get("sha256")
        if iid in now and sha and now[iid] != sha:
            out.append(f"instrument {iid}: file changed since the run (sha256 {sha[:12]} → {str(now[iid])[:12]})")
    return out or ["instrument files: same sha256 as in the manifest"]


def _weight_checks(manifest: dict[str, Any], new_manifest: dict[str, Any]) -> list[str]:
    out = []
    for mid, rec in (manifest.get("models") or {}).items():
        new = (new_manifest.get("models") or {}).get(mid, {})
        if rec.get("weights_sha256") and new.get("weights_sha256") and rec["weights_sha256"] != new["weights_sha256"]:
            out.append(f"model {mid}: weights differ (sha256 {rec['weights_sha256'][:12]} → "
                       f"{new['weights_sha256'][:12]})")
        elif rec.get("weights_sha256"):
            out.append(f"model {mid}: same weights (sha256 {rec['weights_sha256'][:12]}…)")
    return out


def rerun(source: str | Path, out: str | Path, *, backend_factory: BackendFactory | None = None,
          progress: bool = True, force: bool = False) -> Rerun:
    """Re-run the study of a run folder (or its ``manifest.json``, or a book's ``data/manifest.json``) into
    ``out`` (a fresh run folder; calling again resumes it). ``backend_factory``: as in
    :func:`psychometrika.engine.run.run_study`.

    Raises :class:`ReproduceError` when there is no manifest, it holds no usable study, or ``out`` is the
    original run folder.
    """
    mp, manifest, run = _locate(source)
    out = Path(out)
    if run is not None and out.resolve() == run.resolve():
        raise ReproduceError("--out must be a new folder, not the original run", hint="choose another folder")
    study, note = _study_of(mp, manifest)
    checks = [note, *_instrument_checks(study, manifest)]
    run_study(study, out, progress=progress, backend_factory=backend_factory, force=force)
    checks += _weight_checks(manifest, read_manifest(out))
    return Rerun(mp, manifest, run, out, checks)


__all__ = ["Rerun", "ReproduceError", "rerun"]
