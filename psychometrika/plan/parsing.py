"""Deprecated alias of :mod:`psychometrika.answers.parsing` (the answer parser moved to the answers stage).

``from psychometrika.plan.parsing import parse_answer`` keeps working; new code imports from
:mod:`psychometrika.answers`.
"""

from __future__ import annotations

from ..answers.parsing import (REFUSAL_PATTERNS, is_refusal, parse_answer, parse_choice, parse_number,
                               words_to_number)

__all__ = ["REFUSAL_PATTERNS", "is_refusal", "parse_answer", "parse_choice", "parse_number", "words_to_number"]
