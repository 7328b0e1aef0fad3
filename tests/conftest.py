"""Shared fixtures. Real-model fixtures load the embedded SmolLM2 once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("PSYCHOMETRIKA_NO_PROGRESS", "1")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mini_instrument_path() -> Path:
    return REPO / "tests" / "data" / "mini.yaml"
