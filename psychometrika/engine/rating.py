"""Text rating by a model: a derived study that the engine administers.

Free texts (writing-task answers) can be scored by a *rater model* answering an observer form about each text:
the items of a Likert instrument (default ``bfi-44``) completing :data:`RATER_STEM` ("The author of this text is
someone who ..."), after :data:`RATER_INSTRUCTIONS` with the text. :func:`rater_plan` builds the plan of that
derived study (one scored prompt per text × form item, in the engine's plan-row format), :func:`run_rater`
administers it with :func:`psychometrika.engine.batch.administer_batch` and returns the response rows.
Turning those rows into trait scores is scoring's job (:func:`psychometrika.scoring.behaviour.rater_scores`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..backends import make_backend
from ..backends.base import ModelInfo
from ..errors import DataError
from ..instruments import load_instrument
from ..instruments.schema import Instrument
from ..plan.prompts import render
from .batch import administer_batch, batches

#: The observer stem of the rater form: a Likert item of the rater instrument completes the sentence.
RATER_STEM = "The author of this text is someone who {text}."
RATER_INSTRUCTIONS = ("Here is a text written by someone.\n\n\"\"\"\n{text}\n\"\"\"\n\nHow much do you agree with "
                      "the following statement about the author of this text?")
#: decoding of the rater study (score mode: the decoding only names the requests)
RATER_DECODING = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 1}
#: the ``model`` column of the rater's response rows
RATER_MODEL_ID = "rater"


def rater_form(rater_instrument: str | Instrument = "bfi-44",
               rater_items: Sequence[str] | None = None) -> tuple[Instrument, list[Any]]:
    """The rater instrument (a Likert instrument) and the items of it that form the observer form."""
    form = rater_instrument if isinstance(rater_instrument, Instrument) else load_instrument(rater_instrument)
    if form.kind != "likert":
        raise DataError(f"rater instrument {form.id!r} must be a Likert instrument")
    items = [it for it in form.items if rater_items is None or it.id in set(rater_items)]
    if not items:
        raise DataError(f"no items of {form.id!r} selected for the rater form")
    return form, items


def rater_plan(texts: Sequence[str], rater_instrument: str | Instrument = "bfi-44",
               rater_items: Sequence[str] | None = None, answer_prefix: str | None = "Answer:") -> pd.DataFrame:
    """The plan of the derived rating study: one score-mode prompt per (non-empty text, form item).

    Columns: ``text`` (index of the text), ``instrument``, ``item``, ``keyed`` and the plan columns the engine
    administers (``messages``, ``continuations``, ``permutation``, ``option_values``, ``option_texts``, ...).
    Empty texts are not rated.
    """
    form, items = rater_form(rater_instrument, rater_items)
    options = form.options_of(items[0])
    rows = []
    for j, text in enumerate(texts):
        if not (text or "").strip():
            continue
        for it in items:
            rp = render(system_template="", user_template=None, persona_text="",
                        instructions=RATER_INSTRUCTIONS.replace("{text}", text.strip()),
                        item_text=RATER_STEM.replace("{text}", it.text or ""), option_texts=list(options.texts),
                        scheme="numeric", kind="likert", answer_prefix=answer_prefix)
            rows.append({"text": j, "model": RATER_MODEL_ID, "instrument": form.id, "item": it.id,
                         "keyed": it.keyed, "mode": "score", "seed": 0, "repetition": 0,
                         "messages": list(rp.messages), "continuations": list(rp.continuations),
                         "prefix_chars": rp.prefix_chars, "permutation": list(range(len(options))),
                         "n_options": len(options), "option_values": list(options.values),
                         "option_texts": list(options.texts), "max_tokens": None})
    return pd.DataFrame(rows)


class _Rater:
    """A rater given as any object with ``score(requests)``: the engine needs its ``info`` too."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.info = getattr(backend, "info", None) or ModelInfo("rater", "unknown", "")

    def score(self, requests):
        return self.backend.score(requests)


def _rater_backend(rater: Any) -> tuple[Any, bool]:
    """(backend, whether this module built it and must close it)."""
    if rater is None:
        raise DataError("text scoring with method='rater' needs a rater model",
                        hint="pass rater=make_backend('transformers', model='embedded') or "
                             "rater={'backend': 'transformers', 'model': 'embedded'}")
    if hasattr(rater, "score"):
        return rater, False
    if isinstance(rater, Mapping):
        spec = dict(rater)
        name = spec.pop("backend", "transformers")
        return make_backend(name, **spec), True
    raise DataError(f"rater must be a Backend or a dict of backend settings, got {type(rater).__name__}")


def run_rater(texts: Sequence[str], *, rater: Any, rater_instrument: str | Instrument = "bfi-44",
              rater_items: Sequence[str] | None = None, answer_prefix: str | None = "Answer:",
              batch_size: int = 32) -> pd.DataFrame:
    """Administer the rating study of ``texts`` (:func:`rater_plan`) to the rater model; return its response
    rows (``text``, ``instrument``, ``item``, ``keyed``, ``probs``, ``expected_value``, ``status``, ...).

    ``rater`` is a Backend (anything with ``score(requests)``), or a dict ``{"backend": "transformers",
    "model": "embedded", ...settings}`` built with ``make_backend`` and closed afterwards. Failed requests give
    no row.
    """
    plan = rater_plan(texts, rater_instrument, rater_items, answer_prefix)
    if plan.empty:
        return plan
    backend, owned = _rater_backend(rater)
    rows: list[dict[str, Any]] = []
    try:
        for batch in batches(plan, batch_size):
            rows.extend(administer_batch(_Rater(backend), batch, RATER_DECODING).rows)
    finally:
        if owned:
            backend.close()
    return pd.DataFrame(rows)


__all__ = ["RATER_DECODING", "RATER_INSTRUCTIONS", "RATER_MODEL_ID", "RATER_STEM", "rater_form", "rater_plan",
           "run_rater"]
