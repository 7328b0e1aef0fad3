"""What the local engine and the Ray executor share around the batches: opening a run folder, building a
model's backend, and the report of a run."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
from pydantic import Field, ValidationInfo, field_validator

from ..backends import check_settings
from ..backends.base import Backend
from ..design.factors import study_personas
from ..design.personas import persona_table
from ..design.study import ModelSpec, Study, load_study, study_hash, study_inputs
from ..errors import BackendError, StudyError
from ..design.factors import expand_factors, plan_size
from ..plan.plan import DEFAULT_CHUNK_ROWS, build_plan, iter_plan
from .manifest import DESIGN_COLUMNS, PlanCounts
from ..store.store import RunStore
from ..yamlio import parse_yaml, read_text, validate

BackendFactory = Callable[[ModelSpec], Backend]
#: rows per backend call and per stored shard (local engine), or per shard (Ray), unless the caller says otherwise
DEFAULT_BATCH_SIZE = 64


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


class _BackendModelSpec(ModelSpec):
    """A model spec whose settings are checked against the settings its backend takes."""

    @field_validator("settings")
    @classmethod
    def _backend_takes(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.data.get("backend"):  # absent when the backend name itself was invalid
            try:
                check_settings(info.data["backend"], v)
            except BackendError as exc:
                raise ValueError(str(exc)) from None
        return v


class _BackendStudy(Study):
    models: list[_BackendModelSpec] = Field(min_length=1)  # type: ignore[assignment]


def check_backend_settings(study: Study) -> None:
    """Raise a :class:`StudyError` naming the first model whose backend does not take one of its settings
    (``models[i].settings``, with the study file's name when known)."""
    for i, spec in enumerate(study.models):
        try:
            check_settings(spec.backend, spec.settings)
        except BackendError as exc:
            raise StudyError(str(exc), file=study.source, field=f"models[{i}].settings") from None


def load_checked_study(path: str | Path) -> Study:
    """Load a study file (:func:`psychometrika.design.study.load_study`) and check every model's settings
    against its backend; a misspelt setting (``delay`` for ``delay_s``) is a located error
    (``study.yaml:7:5: models[0].settings: unknown setting(s) delay for backend 'dummy'; it takes: ...``).

    The design stage knows nothing of the backends, so this check lives here, where a study is loaded to be
    planned or run.
    """
    study = load_study(path)
    text, _ = read_text(path, StudyError)
    validate(_BackendStudy, parse_yaml(text, str(path), StudyError), str(path), StudyError, what="study file")
    return study


def load_study_text(study: Study | str | Path, text: str | None = None) -> tuple[Study, str]:
    """The study and the text stored with its run: ``text`` when given with a loaded study, else the file's
    bytes, or the normalised model as JSON. Every model's settings are checked against its backend."""
    if isinstance(study, Study):
        check_backend_settings(study)
        return study, text or json.dumps(study.model_dump(mode="json"), indent=2)
    path = Path(study)
    return load_checked_study(path), path.read_text(encoding="utf-8")


def open_run(study: Study, study_text: str, out: str | Path,
             force: bool) -> tuple[str, pd.DataFrame, RunStore, dict[str, Any] | None, pd.DataFrame]:
    """Plan the study and open its run folder: (study hash, plan, store, previous manifest, rows still to do).

    Shared by the single-process engine and the Ray executor, so both resume the same folder the same way.
    """
    s_hash = study_hash(study)
    plan = build_plan(study)
    if plan.empty:
        raise StudyError("the study plan is empty (no items selected)", file=study.source)
    store, previous = _open_store(study, s_hash, study_text, out, force)
    try:
        todo = plan[~plan["cell_key"].isin(store.done_keys())]
    except BaseException:
        store.close()  # release the folder's lock
        raise
    return s_hash, plan, store, previous, todo


def _open_store(study: Study, s_hash: str, study_text: str, out: str | Path,
                force: bool) -> tuple[RunStore, dict[str, Any] | None]:
    """Open (lock) the run folder, write its persona table, and read the manifest already there."""
    store = RunStore.open(out, s_hash, study_text=study_text, force=force, inputs=study_inputs(study))
    try:
        personas = study_personas(study)
        if any(p.attributes for p in personas):
            store.write_personas(persona_table(personas))
        return store, store.read_manifest()
    except BaseException:
        store.close()  # release the folder's lock
        raise


def close_run(report: Any, t0: float, models: dict[str, dict[str, Any]], write_manifest: Callable[[], None],
              store: RunStore) -> None:
    """The end of every run, interrupted or not: the report's time and models, the manifest written last, and
    the folder's lock released even when writing the manifest fails."""
    import time

    report.seconds = time.perf_counter() - t0
    report.models = models
    try:
        write_manifest()
    finally:
        store.close()


@dataclass
class StreamedRun:
    """A run folder opened for a plan administered chunk by chunk (:func:`psychometrika.plan.plan.iter_plan`).

    ``chunks`` yields the plan's chunks (each the prompts of a block of whole personas for one model);
    ``counts`` is what the manifest records of the whole plan, known before the chunks are rendered.
    """

    study_hash: str
    counts: PlanCounts
    store: RunStore
    previous: dict[str, Any] | None
    chunks: Iterator[pd.DataFrame]


def open_streamed_run(study: Study, study_text: str, out: str | Path, force: bool,
                      chunk_rows: int = DEFAULT_CHUNK_ROWS) -> StreamedRun:
    """Open the run folder of ``study`` for streamed administration: memory is bounded by one chunk of the plan
    (about ``chunk_rows`` prompts) plus the set of stored keys, whatever the population size.

    The plan's size is computed arithmetically (:func:`psychometrika.design.factors.plan_size`); every persona
    is administered the same items, paraphrases, orders, labels and seeds, so the first chunk holds every level
    of the design columns but ``model`` and ``persona``, whose counts are those of the study.
    """
    s_hash = study_hash(study)
    factors = expand_factors(study)
    chunks = iter_plan(study, chunk_rows=chunk_rows)
    first = next(chunks, None)
    if first is None or first.empty:
        raise StudyError("the study plan is empty (no items selected)", file=study.source)
    cells = {c: int(first[c].nunique()) for c in DESIGN_COLUMNS}
    cells.update(model=len(study.models), persona=len(factors.personas))
    counts = PlanCounts(plan_size(study, factors), cells)
    store, previous = _open_store(study, s_hash, study_text, out, force)
    return StreamedRun(s_hash, counts, store, previous, itertools.chain([first], chunks))


__all__ = ["DEFAULT_BATCH_SIZE", "BackendFactory", "RunReport", "StreamedRun", "check_backend_settings", "close_run",
           "default_backend_factory", "load_checked_study", "load_study_text", "open_run", "open_streamed_run"]
