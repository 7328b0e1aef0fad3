"""Scale-out: administer one study across many workers (GPUs, CPU cores, nodes) with Ray, exactly once.

``run_study_ray(study, out, address=...)`` does what :func:`psychometrika.engine.run.run_study` does, on a Ray
cluster instead of one process:

1. **Plan.** The prompt plan is built on the driver; rows already in the run folder (by ``cell_key``) are skipped,
   so a killed driver resumes where it stopped. The remaining rows are sorted by shared prefix (persona +
   instructions + response scale) and cut into *shards* of ``batch_size`` rows — exactly the batches a
   single-process run would send to its backend.
2. **Workers.** One Ray actor per worker (``num_gpus=1`` on a GPU cluster, ``num_cpus`` cores otherwise) holds an
   ordinary backend built by :func:`psychometrika.backends.make_backend` from the study's model spec, and turns a
   shard into stored rows with the same code as the single-process engine.
3. **Scheduling.** Each worker asks for the next shard with the *same prefix* as its last one (its prefix caches
   stay hot); otherwise it starts a prefix group no other worker is on. Each worker has ``prefetch`` shards in
   flight so it never waits for the driver. When the queue is empty, idle workers re-run the oldest shard still in
   flight (speculative execution: a hung or slow node does not hold up the end of the run).
4. **Exactly once.** Results stream back to the driver, the single writer, which appends them to the
   content-addressed :class:`~psychometrika.store.store.RunStore` (duplicates — from a speculative or retried
   shard — are dropped by ``cell_key`` at write time). A shard whose actor dies is put back at the front of the
   queue and runs on another actor; Ray restarts the dead actor (``max_restarts``), which reloads its model.
   Backend failures are never stored (as in the single-process engine): the run ends with an error and a re-run
   retries them.

The response table is identical row for row to a single-process run (only ``latency_s`` differs), because every
row is produced by the same function from the same batch.

Example
-------
>>> rep = run_study_ray("analyses/quickstart.yaml", "runs/q", address="local", workers=2)  # doctest: +SKIP
>>> rep.complete, rep.per_worker[0]["items_per_s"]  # doctest: +SKIP

Command line (module entry point, also reached through ``psychometrika run STUDY --ray ADDRESS``)::

    python -m psychometrika.engine.ray_executor STUDY --out RUN --address auto --workers 8

References: Moritz et al. (2018), *Ray: A distributed framework for emerging AI applications*, OSDI '18;
Dean & Ghemawat (2008), *MapReduce*, CACM 51(1) (backup tasks for stragglers).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from ..design.study import ModelSpec, Study
from ..errors import BackendError, PsychometrikaError, StudyError
from ..plan.plan import prefix_text
from ..store.outcome import FailureTally
from ..store.store import RunStore
from .batch import administer_batch, batches, prefix_sort
from .manifest import build_manifest, model_entry
from .progress import ClusterProgress
from .session import (DEFAULT_BATCH_SIZE, BackendFactory, RunReport, close_run, default_backend_factory,
                      load_study_text, open_run)

#: backends whose workers need a GPU each when the cluster has GPUs (``openai`` and ``dummy`` never do)
GPU_BACKENDS = ("transformers", "vllm")
#: longest wait (seconds) of the driver loop for a finished shard before it checks its write buffer again
POLL_S = 1.0
_MIN_ELAPSED = 1e-9  # seconds; a worker's rate right after it started


class RayNotAvailableError(PsychometrikaError):
    """Ray is not installed or the cluster cannot be reached."""


# ------------------------------------------------------------------------------------------------ shards
@dataclass
class Shard:
    """A batch of plan rows that share a prompt prefix, administered by one worker call."""

    id: int
    model: str
    prefix: str
    rows: pd.DataFrame
    attempts: int = 0
    errors: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def plan_shards(todo: pd.DataFrame, model_ids: Sequence[str], batch_size: int) -> list[Shard]:
    """Cut the rows still to do into shards: per model, prefix-sorted, ``batch_size`` rows each.

    The shards are exactly the batches :func:`psychometrika.engine.run.run_study` sends to its backend, so
    a backend whose results depend on batch composition (padding) gives the same numbers on Ray.

    Example: 3 personas × 44 BFI items with ``batch_size=16`` give 3 prefix groups of 3 shards each (16+16+12 rows),
    because the engine's prefix sort keeps each persona's prompts together.
    """
    if batch_size < 1:
        raise StudyError("batch_size must be at least 1")
    shards: list[Shard] = []
    for mid in model_ids:
        sub = todo[todo["model"] == mid]
        if sub.empty:
            continue
        for batch in batches(prefix_sort(sub), batch_size):
            first = batch.iloc[0]
            shards.append(Shard(len(shards), mid, prefix_text(first["messages"], first["prefix_chars"]), batch))
    return shards


# ------------------------------------------------------------------------------------------------ worker
class ShardWorker:
    """The body of one Ray actor: an ordinary backend that turns shards into response rows.

    Runs :func:`psychometrika.engine.batch.administer_batch`, the single-process engine's batch function, so a
    row produced here is the row ``run_study`` would produce from the same batch.

    ``option_texts`` is accepted for compatibility and ignored: the plan rows carry their option texts.
    """

    def __init__(self, spec: dict[str, Any], decoding: dict[str, Any],
                 option_texts: dict[tuple[str, str], list[str]] | None = None, threads: int | None = None,
                 backend_factory: BackendFactory | None = None) -> None:
        if threads:
            os.environ.setdefault("OMP_NUM_THREADS", str(threads))
            if "torch" in sys.modules or spec.get("backend") in GPU_BACKENDS:
                try:
                    import torch

                    torch.set_num_threads(int(threads))
                except ImportError:  # pragma: no cover - depends on the install
                    pass
        self.spec = ModelSpec(**spec)
        self.decoding = decoding
        self.backend = (backend_factory or default_backend_factory)(self.spec)
        self.started = time.time()

    def describe(self) -> dict[str, Any]:
        """Where this worker runs and what model it holds (the manifest's model entry)."""
        info = self.backend.info
        gpus: list[Any] = []
        try:
            import ray

            if ray.is_initialized():  # get_gpu_ids() would start a Ray instance outside one
                gpus = [str(g) for g in ray.get_gpu_ids()]
        except Exception:  # noqa: BLE001 - outside Ray (unit use)
            pass
        return {"pid": os.getpid(), "host": socket.gethostname(), "gpus": gpus,
                "model_info": model_entry(self.spec, info)}

    def run_shard(self, shard_id: int, batch: pd.DataFrame) -> dict[str, Any]:
        """Administer one shard; return its rows (failed requests are counted, never returned as rows)."""
        t0 = time.perf_counter()
        res = administer_batch(self.backend, batch, self.decoding)
        return {"shard": shard_id, "rows": res.rows, "failed": int(res.failed), "errors": list(res.errors),
                "n": len(batch),
                "seconds": time.perf_counter() - t0, "pid": os.getpid()}

    def close(self) -> None:
        self.backend.close()


# ------------------------------------------------------------------------------------------------ report
@dataclass
class RayRunReport(RunReport):
    """What :func:`run_study_ray` did: the single-process report plus the cluster's side of it.

    ``startup_s`` is the time spent starting workers (loading models); ``retried`` counts shard attempts lost with their actor and run again; ``speculative`` counts backup copies
    of slow shards; ``duplicates_dropped`` counts rows the store refused because their ``cell_key`` was already
    stored; ``per_worker`` holds one dict per worker (host, pid, shards, items, items/s, deaths).
    """

    workers: int = 0
    startup_s: float = 0.0
    shards: int = 0
    retried: int = 0
    speculative: int = 0
    worker_deaths: int = 0
    duplicates_dropped: int = 0
    address: str = ""
    per_worker: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failures: FailureTally = field(default_factory=FailureTally)  # failed requests by reason

    def summary(self) -> str:
        lines = [f"{self.written} new responses stored, {self.already_done} already there, {self.refused} "
                 f"refusals, {self.failed} failed, in {self.seconds:.1f} s on {self.workers} Ray worker(s) "
                 f"({self.shards} shards, {self.retried} retried, {self.speculative} speculative, "
                 f"{self.worker_deaths} worker deaths, {self.duplicates_dropped} duplicate rows dropped)"]
        for w in self.per_worker:
            lines.append(f"  worker {w['worker']} [{w['model']}] {w['host']} pid {w['pid']}: {w['items']} items, "
                         f"{w['items_per_s']:.1f} items/s, {w['deaths']} deaths")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ ray helpers
def _import_ray():
    try:
        import ray
    except ImportError:
        raise RayNotAvailableError("the Ray executor needs Ray, which is not installed",
                                   hint="pip install 'psychometrika[ray]'") from None
    return ray


def connect(address: str | None = "local", *, num_cpus: int | None = None,
            runtime_env: dict[str, Any] | None = None) -> bool:
    """Connect to Ray; return True when this call started the connection (and so should end it).

    ``address``: ``"local"`` or ``None`` starts a Ray instance on this machine (``num_cpus`` cores, default all);
    ``"auto"`` joins the cluster this machine belongs to (``ray start`` was run here, or ``RAY_ADDRESS`` is set);
    ``"HOST:PORT"`` joins that cluster's head node; ``"ray://HOST:10001"`` uses Ray Client.
    An already initialised Ray (e.g. in a notebook or test) is reused as it is.
    """
    ray = _import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"runtime_env": runtime_env} if runtime_env else {}
    try:
        if address in (None, "", "local"):
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, **kwargs)
        else:
            ray.init(address=address, log_to_driver=False, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayNotAvailableError(f"cannot connect to the Ray cluster at {address!r}: {exc}",
                                   hint="start one with `ray start --head` (see docs/scale-out.md), or use "
                                        "--ray local") from None
    return True


def default_worker_count(backend: str, settings: dict[str, Any], cpus_per_worker: int = 1) -> tuple[int, float]:
    """(workers, GPUs per worker) for a model on the connected cluster.

    A GPU backend on a cluster with GPUs gets one worker per ``tensor_parallel_size`` GPUs (1 by default);
    anything else gets one worker per ``cpus_per_worker`` cores.
    """
    ray = _import_ray()
    res = ray.cluster_resources()
    gpus = int(res.get("GPU", 0))
    device = str(settings.get("device", "auto" if backend == "vllm" else "cpu"))
    if backend in GPU_BACKENDS and gpus and device != "cpu":
        per = max(1, int(settings.get("tensor_parallel_size", 1)))
        return max(1, gpus // per), float(per)
    return max(1, int(res.get("CPU", 1)) // max(1, cpus_per_worker)), 0.0


# ------------------------------------------------------------------------------------------------ driver
@dataclass
class _Worker:
    idx: int
    model: str
    actor: Any
    host: str = ""
    pid: int = 0
    inflight: int = 0
    items: int = 0
    shards: int = 0
    deaths: int = 0
    consecutive_errors: int = 0
    busy_s: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    last_prefix: str | None = None
    dead: bool = False

    def stats(self) -> dict[str, Any]:
        wall = max(time.perf_counter() - self.started, _MIN_ELAPSED)
        return {"worker": self.idx, "model": self.model, "host": self.host, "pid": self.pid, "shards": self.shards,
                "items": self.items, "items_per_s": self.items / wall, "busy_s": self.busy_s,
                "deaths": self.deaths}


def run_study_ray(study: Study | str | Path, out: str | Path, *, address: str | None = "local",
                  workers: int | None = None, cpus_per_worker: int = 1, gpus_per_worker: float | None = None,
                  force: bool = False, progress: bool = True, batch_size: int = DEFAULT_BATCH_SIZE, max_rows: int | None = None,
                  prefetch: int = 2, speculate: bool = True, max_attempts: int = 3, max_restarts: int = 3,
                  write_rows: int = 1024, flush_s: float = 5.0,
                  backend_factory: BackendFactory | None = None, runtime_env: dict[str, Any] | None = None,
                  on_shard: Callable[[dict[str, Any]], None] | None = None,
                  study_text: str | None = None) -> RayRunReport:
    """Administer a study on a Ray cluster into the run folder ``out`` (resuming what is already there).

    Same contract as :func:`psychometrika.engine.run.run_study` — same folder layout, same rows, resumable after
    any interruption (of the driver, of a worker, of a node) — with the work spread over Ray actors.

    Parameters
    ----------
    study, out, force, progress, batch_size, max_rows, backend_factory : as in ``run_study`` (``batch_size`` is
        also the shard size; ``backend_factory`` must be picklable, it runs on the workers).
    address : ``"local"`` (start Ray here), ``"auto"`` (the cluster this machine joined), ``"HOST:PORT"`` or
        ``"ray://HOST:10001"``. An already initialised Ray is reused.
    workers : actors per model (default: one per GPU for transformers/vLLM on a GPU cluster, else one per
        ``cpus_per_worker`` cores).
    cpus_per_worker, gpus_per_worker : resources each actor reserves (``gpus_per_worker`` default: 1 per worker
        on a GPU cluster — ``tensor_parallel_size`` for vLLM — and 0 on CPUs).
    prefetch : shards queued per worker (2 hides the driver round trip).
    speculate : when the queue is empty, idle workers re-run the oldest in-flight shard (first result wins).
    max_attempts : attempts per shard before its rows count as failed (worker deaths and backend exceptions).
    max_restarts : Ray restarts of a dead actor (its backend is rebuilt) before the worker is given up.
    write_rows, flush_s : the driver appends to the store once it holds ``write_rows`` rows (at least
        ``batch_size``) or every ``flush_s`` seconds; a killed driver loses at most that buffer. Each store shard
        costs a file sync, so large clusters need large writes (see docs/scale-out.md, "The driver").
    runtime_env : Ray runtime environment for the workers (e.g. ``{"pip": [...]}``) when nodes lack packages.
    on_shard : called on the driver after each shard is stored, with a dict (shard, worker, pid, actor, written,
        rows, stored, finished, total, workers); for monitoring.
    study_text : with an already loaded :class:`Study`, the text to store with the run (its file's bytes).

    Returns
    -------
    RayRunReport : counts as in ``RunReport`` plus workers, shards, retries, deaths and per-worker rates.

    Raises
    ------
    BackendError : some requests failed (or a shard failed ``max_attempts`` times); what succeeded is stored and
        a re-run retries the rest.
    RayNotAvailableError : Ray is missing or the cluster cannot be reached.
    """
    ray = _import_ray()
    t0 = time.perf_counter()
    study, study_text = load_study_text(study, study_text)
    if min(prefetch, max_attempts, cpus_per_worker, write_rows) < 1 or flush_s <= 0:
        raise StudyError("prefetch, max_attempts, cpus_per_worker and write_rows must be at least 1, flush_s > 0")
    s_hash, plan, store, previous, todo = open_run(study, study_text, out, force)
    report = RayRunReport(Path(out), len(plan), len(plan) - len(todo), 0, 0, 0, 0.0)
    model_infos: dict[str, dict[str, Any]] = dict((previous or {}).get("models", {}))
    decoding = study.decoding.model_dump()
    shards = plan_shards(todo, [m.id for m in study.models], batch_size)
    report.shards = len(shards)
    executor_info: dict[str, Any] = {"kind": "ray", "address": address or "local", "batch_size": batch_size}

    def write_manifest() -> None:
        m = build_manifest(study, s_hash, plan, model_infos, len(store.done_keys()), previous)
        m["executor"] = executor_info
        store.write_manifest(m)

    bar = ClusterProgress(len(plan), len(plan) - len(todo), enabled=progress)
    started = False
    all_workers: list[_Worker] = []
    try:
        if shards:
            started = connect(address, num_cpus=None, runtime_env=runtime_env)
            report.address = str(ray.get_runtime_context().gcs_address)
            executor_info["address"] = report.address
        for spec in study.models:
            mine = [s for s in shards if s.model == spec.id]
            if not mine:
                continue
            if max_rows is not None and report.written >= max_rows:
                break
            t_start = time.perf_counter()
            pool = _start_workers(ray, spec, decoding, workers, cpus_per_worker, gpus_per_worker,
                                  max_restarts, backend_factory, len(all_workers), len(mine))
            report.startup_s += time.perf_counter() - t_start
            all_workers.extend(pool)
            model_infos[spec.id] = pool[0].model_info  # type: ignore[attr-defined]
            executor_info["workers"] = len(all_workers)
            executor_info["hosts"] = sorted({w.host for w in all_workers})
            write_manifest()
            for w in pool:
                bar.add_worker(w.idx, f"worker {w.idx} {w.host[:12]} pid {w.pid}")
            try:
                _drive(ray, pool, mine, store, report, bar, prefetch=prefetch, speculate=speculate,
                       max_attempts=max_attempts, max_restarts=max_restarts, max_rows=max_rows,
                       write_rows=max(batch_size, write_rows), flush_s=flush_s, on_shard=on_shard)
            finally:
                for w in pool:
                    try:
                        ray.kill(w.actor, no_restart=True)
                    except Exception:  # noqa: BLE001 - already gone
                        pass
    finally:
        bar.stop()
        report.workers = len(all_workers)
        report.per_worker = [w.stats() for w in all_workers]
        close_run(report, t0, model_infos, write_manifest, store)
        if started:
            ray.shutdown()
    if report.failed:
        last = f" (last worker error: {report.errors[-1]})" if report.errors else ""
        head = f"{report.failed} request(s) failed and were not stored"
        if report.failures.total == report.failed:
            head = report.failures.summary()
        elif report.failures.total:  # some shards were lost with their workers: no per-request reason
            head += f" ({report.failures.summary()})"
        raise BackendError(f"{head}; {report.written} new rows were stored in {out}{last}. Re-run the same command "
                           "to retry the failed ones.")
    return report


def _start_workers(ray, spec: ModelSpec, decoding: dict[str, Any], workers: int | None, cpus_per_worker: int,
                   gpus_per_worker: float | None, max_restarts: int,
                   backend_factory: BackendFactory | None, first_idx: int, n_shards: int) -> list[_Worker]:
    n_default, gpus_default = default_worker_count(spec.backend, spec.settings, cpus_per_worker)
    n = min(workers or n_default, max(1, n_shards))
    gpus = gpus_default if gpus_per_worker is None else float(gpus_per_worker)
    actor_cls = ray.remote(ShardWorker).options(num_cpus=cpus_per_worker, num_gpus=gpus,
                                                max_restarts=max_restarts, max_task_retries=0,
                                                max_concurrency=1)
    threads = None if gpus else cpus_per_worker
    actors = [actor_cls.remote(spec.model_dump(mode="json"), decoding, None, threads, backend_factory)
              for _ in range(n)]
    try:
        infos = ray.get([a.describe.remote() for a in actors])
    except ray.exceptions.RayError as exc:
        for a in actors:
            ray.kill(a, no_restart=True)
        cause = getattr(exc, "cause", None) or exc
        raise BackendError(f"the Ray workers for model {spec.id!r} could not start their backend: {cause}") from None
    pool = []
    for i, (a, info) in enumerate(zip(actors, infos)):
        w = _Worker(first_idx + i, spec.id, a, info["host"], info["pid"])
        w.model_info = info["model_info"]  # type: ignore[attr-defined]
        pool.append(w)
    return pool


def _pick(pending: deque[int], shards: list[Shard], w: _Worker, active_prefixes: set[str]) -> int:
    """Next shard for worker ``w``: same prefix as its last shard, else a prefix nobody is on, else the oldest."""
    if w.last_prefix is not None:
        for sid in pending:
            if shards[sid].prefix == w.last_prefix:
                pending.remove(sid)
                return sid
    for sid in pending:
        if shards[sid].prefix not in active_prefixes:
            pending.remove(sid)
            return sid
    return pending.popleft()


class _Writer:
    """The single writer: buffers rows from finished shards and appends them to the store in large shards.

    Writing a Parquet shard costs a file sync, so the driver writes at most every ``write_rows`` rows or
    ``flush_s`` seconds (whichever comes first); a driver killed in between loses only the buffer, which a
    re-run administers again. Rows whose ``cell_key`` is already stored are dropped by the store.
    """

    def __init__(self, store: RunStore, report: RayRunReport, write_rows: int, flush_s: float):
        self.store, self.report = store, report
        self.write_rows, self.flush_s = max(1, write_rows), flush_s
        self.buffer: list[dict[str, Any]] = []
        self.last = time.perf_counter()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= self.write_rows or time.perf_counter() - self.last >= self.flush_s:
            self.flush()

    def tick(self) -> None:
        if self.buffer and time.perf_counter() - self.last >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            written = self.store.append(self.buffer)
            self.report.duplicates_dropped += len(self.buffer) - written
            self.report.written += written
            self.buffer = []
        self.last = time.perf_counter()

    @property
    def stored_or_buffered(self) -> int:
        return self.report.written + len(self.buffer)


def _drive(ray, pool: list[_Worker], shards: list[Shard], store: RunStore, report: RayRunReport,
           bar: ClusterProgress, *, prefetch: int, speculate: bool, max_attempts: int, max_restarts: int,
           max_rows: int | None, write_rows: int, flush_s: float,
           on_shard: Callable[[dict[str, Any]], None] | None) -> None:
    """The driver loop: keep every live worker fed, stream results into the store, reassign lost shards."""
    pending: deque[int] = deque(range(len(shards)))
    finished: set[int] = set()
    speculated: set[int] = set()                         # shard positions that got a backup copy
    copies: dict[int, int] = {}                          # shard position -> copies in flight
    inflight: dict[Any, tuple[int, _Worker]] = {}        # object ref -> (shard position, worker)
    writer = _Writer(store, report, write_rows, flush_s)

    def submit(pos: int, w: _Worker) -> None:
        ref = w.actor.run_shard.remote(shards[pos].id, shards[pos].rows)
        inflight[ref] = (pos, w)
        copies[pos] = copies.get(pos, 0) + 1
        w.inflight += 1
        w.last_prefix = shards[pos].prefix

    try:
        while True:
            live = [w for w in pool if not w.dead]
            if not live:
                raise BackendError("every Ray worker died; the rows stored so far are kept "
                                   f"(last errors: {report.errors[-3:]})",
                                   hint="see the Ray logs (/tmp/ray/session_latest/logs) and re-run to resume")
            if max_rows is None or writer.stored_or_buffered < max_rows:
                active = {shards[p].prefix for p, _ in inflight.values()}
                for _ in range(prefetch):
                    for w in live:
                        if pending and w.inflight < prefetch:
                            pos = _pick(pending, shards, w, active)
                            submit(pos, w)
                            active.add(shards[pos].prefix)
                if speculate and not pending:
                    for w in live:
                        if w.inflight:
                            continue
                        # a backup copy, once per shard, of a shard still unfinished on another worker (a copy
                        # of a finished shard would only make duplicates, and could ping-pong between workers)
                        backup = next((p for p, ww in inflight.values() if ww is not w and copies[p] == 1
                                       and p not in finished and p not in speculated), None)
                        if backup is not None:
                            speculated.add(backup)
                            submit(backup, w)
                            report.speculative += 1
            if not inflight:
                break
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=min(POLL_S, flush_s))
            for ref in ready:
                pos, w = inflight.pop(ref)
                copies[pos] -= 1
                w.inflight -= 1
                try:
                    res = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    w.deaths += 1
                    w.consecutive_errors += 1
                    if w.consecutive_errors > max_restarts + 1:
                        w.dead = True
                    _lost(shards[pos], pos, f"worker {w.idx} died ({type(exc).__name__})", pending, finished,
                          copies, max_attempts, report)
                    continue
                except ray.exceptions.RayError as exc:  # the backend raised inside the worker
                    _lost(shards[pos], pos, f"worker {w.idx}: {getattr(exc, 'cause', None) or exc!r}", pending,
                          finished, copies, max_attempts, report)
                    continue
                w.consecutive_errors = 0
                w.items += res["n"]
                w.shards += 1
                w.busy_s += res["seconds"]
                if pos in finished:  # the second copy of a speculative or retried shard: its rows are duplicates
                    report.duplicates_dropped += len(res["rows"])
                    continue
                finished.add(pos)
                writer.add(res["rows"])
                report.failed += res["failed"]
                for e in res.get("errors", ()):
                    report.failures.add(e)
                report.refused += sum(r["status"] == "refused" for r in res["rows"])
                bar.advance(res["n"], report.refused, report.failed, report.retried)
                bar.worker(w.idx, w.items, w.stats()["items_per_s"], f"shards {w.shards} deaths {w.deaths}")
                if on_shard is not None:
                    on_shard({"shard": shards[pos].id, "worker": w.idx, "pid": res["pid"], "actor": w.actor,
                              "rows": len(res["rows"]), "stored": report.written, "finished": len(finished),
                              "total": len(shards), "workers": [(x.idx, x.pid, x.actor) for x in pool]})
            writer.tick()
            if not ready:
                for w in pool:
                    bar.worker(w.idx, w.items, w.stats()["items_per_s"], f"shards {w.shards} deaths {w.deaths}")
    finally:
        writer.flush()


def _lost(shard: Shard, pos: int, why: str, pending: deque[int], finished: set[int], copies: dict[int, int],
          max_attempts: int, report: RayRunReport) -> None:
    """A shard attempt was lost: queue it again (at the front) unless done, still running elsewhere, or spent."""
    shard.errors.append(why)
    report.errors.append(why)
    if pos in finished or copies.get(pos, 0) > 0 or pos in pending:
        return
    shard.attempts += 1
    if shard.attempts >= max_attempts:
        report.failed += len(shard)
        return
    report.retried += 1
    pending.appendleft(pos)


# ------------------------------------------------------------------------------------------------ entry point
def main(argv: list[str] | None = None) -> int:
    """``python -m psychometrika.engine.ray_executor STUDY --out RUN [--address A] [--workers N] ...``"""
    ap = argparse.ArgumentParser(prog="python -m psychometrika.engine.ray_executor",
                                 description="Administer a study on a Ray cluster (resumable, exactly once).")
    ap.add_argument("study", type=Path)
    ap.add_argument("--out", "-o", type=Path, required=True)
    ap.add_argument("--address", default="local", help="local | auto | HOST:PORT | ray://HOST:10001")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--cpus-per-worker", type=int, default=1)
    ap.add_argument("--gpus-per-worker", type=float, default=None)
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--no-speculate", action="store_true")
    ap.add_argument("--write-rows", type=int, default=1024, help="rows per store shard written by the driver")
    args = ap.parse_args(argv)
    try:
        rep = run_study_ray(args.study, args.out, address=args.address, workers=args.workers,
                            cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker,
                            batch_size=args.batch_size, force=args.force, progress=not args.no_progress,
                            speculate=not args.no_speculate, write_rows=args.write_rows)
    except (PsychometrikaError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(rep.summary())
    return 0


__all__ = ["RayNotAvailableError", "RayRunReport", "Shard", "ShardWorker", "connect", "default_worker_count",
           "plan_shards", "run_study_ray"]

if __name__ == "__main__":
    sys.exit(main())
