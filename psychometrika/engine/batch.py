"""Administering one batch: plan rows → backend requests → response rows.

Shared by the local engine (:func:`psychometrika.engine.run.run_study`) and the Ray executor
(:mod:`psychometrika.engine.ray_executor`), so both produce the same rows from the same batch:

* :func:`prefix_sort` and :func:`batches` cut the rows still to do into the batches sent to a backend;
* :func:`administer_batch` sends one batch and turns the results into response rows with
  :func:`psychometrika.answers.score_row` / :func:`psychometrika.answers.generate_row`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pandas as pd

from ..answers.rows import generate_row, score_row
from ..backends.base import Backend, GenerateRequest, ScoreRequest
from ..plan.plan import prefix_text
from .keys import generation_seed, request_key

#: plan columns that are not stored in the response table (the prompt is stored as JSON text instead)
PLAN_ONLY_COLUMNS = frozenset({"messages", "option_texts", "prefix_chars", "decoding_"})


@dataclass
class BatchResult:
    """The response rows of one batch and the number of requests that failed (never stored)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # the error text of each failed request

    @property
    def refused(self) -> int:
        return sum(r["status"] == "refused" for r in self.rows)


def prefix_sort(df: pd.DataFrame) -> pd.DataFrame:
    """Order prompts so that those sharing a prefix are adjacent (prefix caches stay hot)."""
    keys = [prefix_text(ms, n) for ms, n in zip(df["messages"], df["prefix_chars"])]
    return df.assign(prefix_=keys).sort_values(["prefix_", "cell_key"], kind="stable").drop(columns="prefix_")


def batches(df: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    """Consecutive slices of ``size`` rows (the last one shorter)."""
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size]


def row_decoding(decoding: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The study's decoding, with max_tokens raised to what a free-text item needs (plan column max_tokens)."""
    need = row.get("max_tokens")
    if need is None or pd.isna(need) or int(need) <= int(decoding["max_tokens"]):
        return decoding
    return {**decoding, "max_tokens": int(need)}


def _stored_row(plan_row: dict[str, Any], answer: dict[str, Any], common: dict[str, Any],
                latency: float) -> dict[str, Any]:
    row = {k: v for k, v in plan_row.items() if k not in PLAN_ONLY_COLUMNS}
    row["prompt"] = json.dumps(plan_row["messages"], ensure_ascii=False)
    row.update(common)
    row.update(answer)
    row["latency_s"] = float(latency)
    return row


def administer_batch(backend: Backend, batch: pd.DataFrame, decoding: dict[str, Any]) -> BatchResult:
    """Send one batch of plan rows to ``backend``; return the response rows and the count of failed requests.

    Score-mode rows are scored (option log-probabilities), generate-mode rows generated with the study's
    ``decoding`` (``max_tokens`` raised per row by :func:`row_decoding`, seed
    :func:`~psychometrika.engine.keys.generation_seed`). A failed request (backend error, or a wrong number of
    log-probabilities) gives no row.
    """
    info = backend.info
    records = batch.to_dict("records")
    for r in records:
        r["decoding_"] = row_decoding(decoding, r)
        r["request_key"] = request_key(info.weights_sha256, info.backend, r["mode"], r["decoding_"], int(r["seed"]),
                                       r["messages"], r["continuations"], r.get("instrument_sha256") or "")
    out = BatchResult()
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
                out.failed += 1
                out.errors.append(res.error or f"{len(res.logprobs)} log-probabilities for "
                                                f"{len(r['continuations'])} options")
                continue
            out.rows.append(_stored_row(r, score_row(r, res), common, res.latency_s or per))
    if generated:
        t = time.perf_counter()
        results = backend.generate([GenerateRequest(r["request_key"], tuple(r["messages"]),
                                                    max_tokens=int(r["decoding_"]["max_tokens"]),
                                                    temperature=float(decoding["temperature"]),
                                                    top_p=float(decoding["top_p"]),
                                                    seed=generation_seed(int(r["seed"]), int(r["repetition"])))
                                    for r in generated])
        per = (time.perf_counter() - t) / len(generated)
        for r, res in zip(generated, results):
            if res.error is not None:
                out.failed += 1
                out.errors.append(res.error)
                continue
            out.rows.append(_stored_row(r, generate_row(r, res), common, res.latency_s or per))
    return out


__all__ = ["BatchResult", "PLAN_ONLY_COLUMNS", "administer_batch", "batches", "prefix_sort", "row_decoding"]
