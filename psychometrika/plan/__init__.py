"""Stage 3 — the prompt plan: rendered prompts for every cell of the study design."""

from .plan import build_plan, plan_summary, prompt_hash
from .prompts import labels_for, options_block, render

__all__ = ["build_plan", "labels_for", "options_block", "plan_summary", "prompt_hash", "render"]
