"""Running a study: plan → backend → response store, resumable and exactly-once.

``run_study(study, out)`` administers every prompt of the plan whose ``cell_key`` is not yet in the run
folder, in batches grouped by shared prefix, writing each batch as an atomic shard. Interrupting it
(Ctrl-C, ``kill -9``, a crash) loses at most the batch in flight; running it again completes the rest.
Backend failures are never stored as answers: the failed rows stay missing, the run ends with an error
naming how many failed, and a re-run retries them.

The engine is split by job; this module is the local run loop and the entry point:

* :mod:`.keys` -- request hashing and generation seeds;
* :mod:`.batch` -- administering a batch (shared with the Ray executor);
* :mod:`.manifest` -- the run manifest; :mod:`.redaction` -- secret redaction of model settings;
* :mod:`.progress` -- progress bars and run-time estimates; :mod:`.session` -- opening a run folder;
* :mod:`.ray_executor` -- the Ray driver; :mod:`.reproduce` -- re-running a run folder's study.

Interpreting answers lives in :mod:`psychometrika.answers` (``score_row`` and ``generate_row`` are re-exported
here for older imports).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..answers.rows import generate_row, score_row
from ..design.study import Study
from ..errors import BackendError
from .batch import administer_batch, batches, prefix_sort
from .keys import generation_seed, request_key
from .manifest import build_manifest, model_entry
from .progress import NOMINAL_RATE, RunProgress, estimate_seconds, model_line
from .redaction import redact
from ..plan.plan import DEFAULT_CHUNK_ROWS
from .session import (DEFAULT_BATCH_SIZE, BackendFactory, RunReport, default_backend_factory, load_study_text,
                      close_run, open_run, open_streamed_run)
from ..store.outcome import FailureTally


def run_study(study: Study | str | Path, out: str | Path, *, force: bool = False, progress: bool = True,
              backend_factory: BackendFactory | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
              max_rows: int | None = None, executor: str | None = None, ray_address: str | None = None,
              workers: int | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> RunReport:
    """Administer a study into the run folder ``out`` (resuming what is already there).

    Parameters
    ----------
    study : a :class:`Study` or the path of a study YAML file.
    out : run folder (created if needed).
    force : move a different study's run in ``out`` aside instead of refusing.
    progress : show a rich progress bar (items/s, ETA, refusals).
    backend_factory : builds a backend from a model spec (default: :func:`psychometrika.backends.make_backend`).
    batch_size : prompts per backend call and per stored shard.
    max_rows : stop after writing this many rows (for tests and dry runs).
    executor : ``local`` (this process) or ``ray`` (:func:`psychometrika.engine.ray_executor.run_study_ray`);
        default: the study file's ``executor``.
    ray_address, workers : for ``ray``: the cluster (``local`` starts one on this machine, ``auto`` or
        ``ray://host:10001`` joins one; default ``$RAY_ADDRESS`` or ``local``) and the number of worker actors.
    """
    t0 = time.perf_counter()
    study, study_text = load_study_text(study)
    if (executor or study.executor) == "ray":
        from .ray_executor import run_study_ray

        return run_study_ray(study, out, study_text=study_text,
                             address=ray_address or os.environ.get("RAY_ADDRESS") or "local", workers=workers,
                             force=force, progress=progress, batch_size=batch_size, max_rows=max_rows,
                             backend_factory=backend_factory)
    run = open_streamed_run(study, study_text, out, force, chunk_rows=max(chunk_rows, batch_size))
    store, planned = run.store, run.counts.rows
    done = store.done_keys()  # the store adds every appended key to this set
    report = RunReport(Path(out), planned, len(done), 0, 0, 0, 0.0)
    factory = backend_factory or default_backend_factory
    decoding = study.decoding.model_dump()
    model_infos: dict[str, dict[str, Any]] = dict((run.previous or {}).get("models", {}))
    bar = RunProgress(planned, len(done), enabled=progress)
    failures = FailureTally()
    specs = {m.id: m for m in study.models}
    backend, current = None, None

    def write_manifest() -> None:
        store.write_manifest(build_manifest(study, run.study_hash, run.counts, model_infos, len(done), run.previous))

    try:
        for chunk in run.chunks:  # a block of whole personas of one model, in study model order
            todo = chunk[[k not in done for k in chunk["cell_key"]]]
            if todo.empty:
                continue
            model_id = todo["model"].iat[0]
            if model_id != current:
                if backend is not None:
                    backend.close()
                    backend = None
                backend, current = factory(specs[model_id]), model_id
                model_infos[model_id] = model_entry(specs[model_id], backend.info)
                write_manifest()
                bar.note(model_line(model_id, backend.info))
            for batch in batches(prefix_sort(todo), batch_size):
                res = administer_batch(backend, batch, decoding)
                report.failed += res.failed
                for e in res.errors:
                    failures.add(e)
                report.written += store.append(res.rows)
                report.refused += res.refused
                bar.advance(len(batch), report.refused, report.failed)
                if max_rows is not None and report.written >= max_rows:
                    break
            if max_rows is not None and report.written >= max_rows:
                break
    finally:
        try:
            if backend is not None:
                backend.close()
        finally:
            bar.stop()
            close_run(report, t0, model_infos, write_manifest, store)
    if report.failed:
        raise BackendError(f"{failures.summary()}; {report.written} new rows were "
                           f"stored in {out}. Re-run the same command to retry the failed ones.")
    return report


__all__ = ["BackendFactory", "DEFAULT_BATCH_SIZE", "NOMINAL_RATE", "RunReport", "default_backend_factory",
           "estimate_seconds", "generate_row", "generation_seed", "load_study_text", "open_run", "redact",
           "request_key", "run_study", "score_row"]
