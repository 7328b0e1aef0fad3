"""Stage between plan and backends — interpreting answers: one home for turning a backend result into a
response row.

* :mod:`~psychometrika.answers.parsing` reads generated text (option labels, option texts, numbers, refusals);
* :mod:`~psychometrika.answers.rows` turns score and generate results into the answer columns
  (:func:`score_row`, :func:`generate_row`, :func:`softmax`);
* :mod:`~psychometrika.answers.status` names the statuses and holds the one free-text refusal rule
  (:func:`free_text_status`);
* :mod:`~psychometrika.answers.columns` defines the response table's columns (:data:`RESPONDENT_COLUMNS`,
  :data:`ANSWER_COLUMNS`).

This package imports nothing from backends, the engine or later stages: scoring and the engine both use it.
"""

from .columns import ANSWER_COLUMNS, RESPONDENT_COLUMNS
from .parsing import is_refusal, parse_answer, parse_choice, parse_number, tokenize, words_to_number
from .rows import NON_FINITE_LOGPROB, generate_row, score_row, softmax
from .status import ERROR, NOT_SCORED, OK, REFUSAL_MAX_WORDS, REFUSED, STATUSES, UNPARSEABLE, free_text_status

__all__ = ["ANSWER_COLUMNS", "ERROR", "NON_FINITE_LOGPROB", "NOT_SCORED", "OK", "REFUSAL_MAX_WORDS", "REFUSED",
           "RESPONDENT_COLUMNS", "STATUSES", "UNPARSEABLE", "free_text_status", "generate_row", "is_refusal",
           "parse_answer", "parse_choice", "parse_number", "score_row", "softmax", "tokenize", "words_to_number"]
