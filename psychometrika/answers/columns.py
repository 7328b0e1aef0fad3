"""The columns of the response table (``docs/response-table.md``): one definition, imported everywhere.

* :data:`RESPONDENT_COLUMNS` identify one respondent: one administration of an instrument to a model in one
  condition (persona, paraphrases, option order, label scheme, seed, repetition). Scoring groups by them,
  ``to_wide`` pivots on them, the report and the response-style statistics use them as their default.
* :data:`ANSWER_COLUMNS` are written by :func:`psychometrika.answers.score_row` and
  :func:`psychometrika.answers.generate_row` for every administered prompt.
"""

from __future__ import annotations

#: Columns that identify one respondent (an administration of an instrument to a model in one condition).
RESPONDENT_COLUMNS: tuple[str, ...] = ("model", "persona", "instruction_id", "stem_id", "order_id", "label_scheme",
                                       "seed", "repetition")

#: The answer columns of one response row, in the order the answer functions write them.
ANSWER_COLUMNS: tuple[str, ...] = ("logprobs", "probs", "chosen_position", "chosen_option", "chosen_value",
                                   "expected_value", "raw_text", "parsed_value", "status", "n_prompt_tokens",
                                   "n_completion_tokens")

__all__ = ["ANSWER_COLUMNS", "RESPONDENT_COLUMNS"]
