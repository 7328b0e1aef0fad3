"""Requests built from the shipped BFI-44 through the real study plan (shared by the backend tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from psychometrika.backends import GenerateRequest, ScoreRequest
from psychometrika.design.study import load_study
from psychometrika.plan.plan import build_plan


def bfi_rows(tmp_path: Path, n: int = 44, answer_prefix: str | None = "Answer:", labels: str = "numeric"):
    """Plan rows of the first ``n`` BFI-44 items (original order, no persona)."""
    items = ", ".join(f"bfi{i:02d}" for i in range(1, n + 1))
    body = (f"id: backend-test\ninstruments: [{{id: bfi-44, items: [{items}]}}]\n"
            "models: [{id: m, backend: dummy}]\n")
    if answer_prefix:
        body += f"template: {{answer_prefix: '{answer_prefix}'}}\n"
    if labels != "numeric":
        body += f"label_schemes: [{labels}]\n"
    p = tmp_path / "backend-test.yaml"
    p.write_text(body)
    return build_plan(load_study(p)).to_dict("records")


def score_requests(rows) -> list[ScoreRequest]:
    return [ScoreRequest(f"r{i}", tuple(r["messages"]), tuple(r["continuations"])) for i, r in enumerate(rows)]


def generate_requests(rows, max_tokens: int = 6) -> list[GenerateRequest]:
    return [GenerateRequest(f"g{i}", tuple(r["messages"]), max_tokens=max_tokens) for i, r in enumerate(rows)]


def normalised(logprobs) -> np.ndarray:
    lp = np.asarray(logprobs, dtype=float)
    return lp - np.logaddexp.reduce(lp)
