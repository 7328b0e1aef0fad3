"""Re-running a run's study: the engine side of ``psychometrika reproduce``.

:func:`rerun` takes the study of a run folder from its ``study.yaml`` (the file as it was run) or, failing that,
from the copy in ``manifest.json``, notes whether its hash still equals the manifest's ``study_hash``, checks the
instrument files and model weights against the manifest's hashes, and administers the study into a fresh
folder. Comparing the two runs' statistics is the report's job
(:func:`psychometrika.report.reproduce.reproduce`).
"""

from __future__ import annotations

import json
import os
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
    """The study of a run: its ``study.yaml`` copy, else the manifest's copy; plus notes on how it was loaded
    and on its hash.

    Relative paths in the copy (instrument and persona files) are resolved against the original study file's
    folder, recorded in the manifest as ``study_dir`` (as the original run resolved them); a manifest without
    it (runs before it was recorded) resolves them against the run folder. When the copy cannot be loaded (a
    persona file moved or deleted since the run) the manifest's copy is used: its personas are the population
    as expanded at run time, and the note says why."""
    base = manifest.get("study_dir")
    base = base if base and Path(base).is_dir() else None
    notes: list[str] = []
    study = None
    copy = manifest_path.parent / "study.yaml"
    if copy.exists():
        try:
            study = load_study(copy, base_dir=base)
        except PsychometrikaError as exc:
            notes.append(f"the run's study.yaml could not be loaded ({exc}); the manifest's copy of the study is "
                         "used (personas as expanded when the run was made)")
            study = None
    if study is None:
        if not manifest.get("study"):
            raise ReproduceError(f"{manifest_path} holds no copy of the study", hint="is it a psychometrika manifest?")
        try:
            study = Study.model_validate(manifest["study"])
        except Exception as exc:  # noqa: BLE001 - pydantic's message, shortened
            raise ReproduceError(f"the study in {manifest_path} is not valid for this version of psychometrika: "
                              f"{str(exc).splitlines()[0]}") from None
        if base is not None:
            study._base_dir = base
    if base is not None:
        notes.append(f"relative paths resolved against the original study folder {base}")
    elif manifest.get("study_dir"):
        notes.append(f"the original study folder {manifest['study_dir']} no longer exists; relative paths resolved "
                     "against the run folder")
    h = study_hash(study)
    if manifest.get("study_hash") and h != manifest["study_hash"]:
        notes.append(f"study hash differs ({str(manifest['study_hash'])[:12]} in the manifest, {h[:12]} now): the "
                     "study file, a persona or instrument file, or the study format changed since the run (e.g. a "
                     "new setting with a default)")
    else:
        notes.append(f"study hash: identical ({h[:12]}…)")
    return study, notes


def _input_checks(study: Study, manifest: dict[str, Any]) -> list[str]:
    """Persona files of the study now against the sha256 the manifest recorded for them (instrument files are
    checked by :func:`_instrument_checks`)."""
    # keys are absolute paths (relative ones, of manifests written before they were made absolute, are relative
    # to the folder the run was started in, which is not recorded: they match nothing and are not compared)
    before = {k: v for k, v in (manifest.get("inputs") or {}).items() if os.path.isabs(k)}
    now = {os.path.abspath(k): v for k, v in study._inputs.items()}
    out = []
    for name in sorted(now):
        if name not in before:
            continue
        if before[name] != now[name]:
            out.append(f"persona file {name}: changed since the run (sha256 {before[name][:12]} → {now[name][:12]})")
        else:
            out.append(f"persona file {name}: same sha256 as in the manifest")
    return out


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
    study, notes = _study_of(mp, manifest)
    checks = [*notes, *_instrument_checks(study, manifest), *_input_checks(study, manifest)]
    run_study(study, out, progress=progress, backend_factory=backend_factory, force=force)
    checks += _weight_checks(manifest, read_manifest(out))
    return Rerun(mp, manifest, run, out, checks)


__all__ = ["Rerun", "ReproduceError", "rerun"]
