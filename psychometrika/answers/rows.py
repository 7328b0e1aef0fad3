"""From a backend result to the answer columns of a response row.

:func:`score_row` turns the option log-probabilities of a scored prompt into probabilities (original option
order), the argmax choice and the expected value; :func:`generate_row` reads a generated text with the parser
(:mod:`psychometrika.answers.parsing`), the numeric-range rules, or the free-text rule
(:func:`psychometrika.answers.status.free_text_status`). Both keep the raw result and return every column of
:data:`psychometrika.answers.columns.ANSWER_COLUMNS`.

The plan row passed in needs ``permutation`` (display position → original option index), ``option_values``,
``n_options``, ``continuations``, ``option_texts`` and, for open items, ``response_type``, ``numeric_min``,
``numeric_max`` and ``numeric_integer`` -- the columns :func:`psychometrika.plan.build_plan` writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..design.orders import display_to_original
from .parsing import parse_answer
from .status import OK, UNPARSEABLE, free_text_status

#: Log-probability that stands in for a non-finite one (``-inf``, NaN) before the softmax: such an option gets
#: probability ~0 (``exp(-1e9)`` underflows to 0) while the finite options keep their relative odds.
NON_FINITE_LOGPROB = -1e9


class ScoredResult(Protocol):
    """What :func:`score_row` reads from a backend's score result."""

    logprobs: Sequence[float]
    n_prompt_tokens: int


class GeneratedResult(Protocol):
    """What :func:`generate_row` reads from a backend's generate result."""

    text: str
    n_prompt_tokens: int
    n_completion_tokens: int


def softmax(logprobs: Sequence[float]) -> np.ndarray:
    """Option probabilities from log-probabilities (renormalised over the options; non-finite → ~0).

    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    """
    lp = np.asarray(logprobs, dtype=float)
    if not np.all(np.isfinite(lp)):
        lp = np.where(np.isfinite(lp), lp, NON_FINITE_LOGPROB)
    lp = lp - lp.max()
    p = np.exp(lp)
    return p / p.sum()


def score_row(row: dict[str, Any], res: ScoredResult) -> dict[str, Any]:
    """Turn display-order log-probabilities into the answer columns (original option order)."""
    perm = list(row["permutation"])
    p_display = softmax(res.logprobs)
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
        "status": OK,
        "n_prompt_tokens": int(res.n_prompt_tokens),
        "n_completion_tokens": 0,
    }


def _no_answer(res: GeneratedResult) -> dict[str, Any]:
    return {"logprobs": None, "probs": None, "chosen_position": -1, "chosen_option": -1,
            "chosen_value": float("nan"), "expected_value": float("nan"), "raw_text": res.text,
            "parsed_value": float("nan"), "status": UNPARSEABLE, "n_prompt_tokens": int(res.n_prompt_tokens),
            "n_completion_tokens": int(res.n_completion_tokens)}


def _closed_answer(row: dict[str, Any], res: GeneratedResult, out: dict[str, Any]) -> None:
    perm = list(row["permutation"])
    texts = row.get("option_texts")
    shown = [texts[j] for j in perm] if texts is not None and len(texts) else []
    status, pos = parse_answer(res.text, options=shown, labels=list(row["continuations"]))
    out["status"] = status
    if status == OK and pos is not None:
        pos = int(pos)
        chosen = perm[pos]
        value = float(row["option_values"][chosen])
        out.update(chosen_position=pos, chosen_option=chosen, chosen_value=value, parsed_value=value)


def _numeric_answer(row: dict[str, Any], res: GeneratedResult, out: dict[str, Any]) -> None:
    lo, hi = row.get("numeric_min"), row.get("numeric_max")
    rng = (lo, hi) if lo is not None and not pd.isna(lo) else None
    status, value = parse_answer(res.text, options=[], labels=[], numeric_range=rng)
    if status == OK and value is not None:
        out["parsed_value"] = float(value)
        if row.get("numeric_integer") and not float(value).is_integer():
            status = UNPARSEABLE  # "2.5 coins" where only whole coins can be given; the value is kept
        else:
            out["chosen_value"] = float(value)
    out["status"] = status


def generate_row(row: dict[str, Any], res: GeneratedResult) -> dict[str, Any]:
    """Parse a generated answer; keep the raw text whatever happens.

    Closed items (``n_options > 0``) are read as one of the shown options; free-text items
    (``response_type == "text"``) get :func:`~psychometrika.answers.status.free_text_status`; anything else is
    an open numeric answer, which must lie in ``[numeric_min, numeric_max]`` (and be whole when
    ``numeric_integer``).
    """
    out = _no_answer(res)
    if int(row["n_options"]):
        _closed_answer(row, res, out)
    elif row.get("response_type") == "text":
        out["status"] = free_text_status(res.text)
    else:
        _numeric_answer(row, res, out)
    return out


__all__ = ["NON_FINITE_LOGPROB", "generate_row", "score_row", "softmax"]
