"""Stage 3 — the prompt plan: rendered prompts for every cell of the study design.

Names are imported on first use, so that the deprecated alias :mod:`psychometrika.plan.parsing` (now
:mod:`psychometrika.answers.parsing`) can be imported without the design and instrument stages.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {"build_plan": "plan", "iter_plan": "plan", "plan_summary": "plan", "prompt_hash": "plan",
          "labels_for": "prompts", "options_block": "prompts", "render": "prompts"}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
