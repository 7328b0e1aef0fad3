"""Answer statuses and the free-text refusal rule.

Every stored row has a ``status``:

* ``ok`` -- an answer was read (an option, a number, or a text);
* ``refused`` -- the model declined ("As an AI, I don't have personal opinions");
* ``unparseable`` -- no single answer could be read (nothing, two different answers, a number out of range);
* ``error`` -- reserved for tables built outside the engine (the engine never stores failed requests).

Scores exclude every status but ``ok`` and count the others (``n_refused``, ``n_unparseable``, ``n_error``).
"""

from __future__ import annotations

from .parsing import is_refusal, tokenize

OK = "ok"
REFUSED = "refused"
UNPARSEABLE = "unparseable"
ERROR = "error"
#: every status a response row can have
STATUSES: tuple[str, ...] = (OK, REFUSED, UNPARSEABLE, ERROR)
#: the statuses that are excluded from scores and counted (``n_refused``, ``n_unparseable``, ``n_error``)
NOT_SCORED: tuple[str, ...] = (REFUSED, UNPARSEABLE, ERROR)

#: A free text of fewer words than this that contains a refusal phrase is a refusal; a longer one is an answer
#: that carries a disclaimer ("As an AI I have no weekends, but if I had one I would ...") and is scored.
REFUSAL_MAX_WORDS = 40


def free_text_status(text: str | None) -> str:
    """Status of a free-text answer (writing tasks), the one rule used by the engine and by text scoring.

    * ``unparseable`` when the text has no word at all (empty, whitespace, only digits or punctuation):
      there is nothing to score;
    * ``refused`` when it contains a refusal phrase (:func:`~psychometrika.answers.parsing.is_refusal`) and has
      fewer than :data:`REFUSAL_MAX_WORDS` words: the text is the refusal;
    * ``ok`` otherwise -- the text itself is the answer, never parsed as a number.

    >>> free_text_status("As an AI, I do not have personal experiences."), free_text_status("42")
    ('refused', 'unparseable')
    """
    words = tokenize(text or "")
    if not words:
        return UNPARSEABLE
    return REFUSED if len(words) < REFUSAL_MAX_WORDS and is_refusal(text or "") else OK


__all__ = ["ERROR", "NOT_SCORED", "OK", "REFUSAL_MAX_WORDS", "REFUSED", "STATUSES", "UNPARSEABLE", "free_text_status"]
