"""Shared fixtures. Real-model fixtures load the embedded SmolLM2 once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("PSYCHOMETRIKA_NO_PROGRESS", "1")
# the embedded model stays loaded between tests (a backend's close() frees it otherwise; ~20 s to reload)
os.environ.setdefault("PSYCHOMETRIKA_KEEP_WEIGHTS", "1")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mini_instrument_path() -> Path:
    return REPO / "tests" / "data" / "mini.yaml"


@pytest.fixture(scope="session")
def mini_study():
    """Writes a study of the test instruments mini.yaml + mini-sjt.yaml: ``f(folder, name, model_line, personas)``
    with personas p0..p{n-1} plus no persona, every instruction paraphrase, original and reversed orders."""
    data = REPO / "tests" / "data"

    def write(folder: Path, name: str, model_line: str, personas: int = 2) -> Path:
        p = Path(folder) / f"{name}.yaml"
        items = ", ".join(f'{{id: p{i}, text: "You are person number {i}."}}' for i in range(personas))
        p.write_text(f"id: {name}\ninstruments: [{data / 'mini.yaml'}, {data / 'mini-sjt.yaml'}]\n"
                     f"models: [{model_line}]\npersonas: {{include_none: true, items: [{items}]}}\n"
                     "paraphrases: {instructions: all}\noption_orders: [original, reversed]\n")
        return p

    return write
