"""What the local engine and the Ray executor share around the batches: opening a run folder, building a
model's backend, and the report of a run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..backends.base import Backend
from ..design.study import ModelSpec, Study, load_study, study_hash, study_inputs
from ..errors import StudyError
from ..plan.plan import build_plan
from ..store.store import RunStore

BackendFactory = Callable[[ModelSpec], Backend]


def default_backend_factory(spec: ModelSpec) -> Backend:
    """The backend of a model spec, built by :func:`psychometrika.backends.make_backend`."""
    from ..backends import make_backend

    return make_backend(spec.backend, model=spec.model, **spec.settings)


@dataclass
class RunReport:
    """What a call to :func:`psychometrika.engine.run.run_study` did."""

    folder: Path
    planned: int
    already_done: int
    written: int
    failed: int
    refused: int
    seconds: float
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.already_done + self.written == self.planned


def load_study_text(study: Study | str | Path, text: str | None = None) -> tuple[Study, str]:
    """The study and the text stored with its run: ``text`` when given with a loaded study, else the file's
    bytes, or the normalised model as JSON."""
    if isinstance(study, Study):
        return study, text or json.dumps(study.model_dump(mode="json"), indent=2)
    path = Path(study)
    return load_study(path), path.read_text(encoding="utf-8")


def open_run(study: Study, study_text: str, out: str | Path,
             force: bool) -> tuple[str, pd.DataFrame, RunStore, dict[str, Any] | None, pd.DataFrame]:
    """Plan the study and open its run folder: (study hash, plan, store, previous manifest, rows still to do).

    Shared by the single-process engine and the Ray executor, so both resume the same folder the same way.
    """
    s_hash = study_hash(study)
    plan = build_plan(study)
    if plan.empty:
        raise StudyError("the study plan is empty (no items selected)", file=study.source)
    store = RunStore.open(out, s_hash, study_text=study_text, force=force, inputs=study_inputs(study))
    try:
        previous = store.read_manifest()
        todo = plan[~plan["cell_key"].isin(store.done_keys())]
    except BaseException:
        store.close()  # release the folder's lock
        raise
    return s_hash, plan, store, previous, todo


__all__ = ["BackendFactory", "RunReport", "default_backend_factory", "load_study_text", "open_run"]
