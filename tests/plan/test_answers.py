"""The answers stage: one free-text refusal rule shared by the engine and text scoring, statuses, columns."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from psychometrika.answers import (ANSWER_COLUMNS, RESPONDENT_COLUMNS, STATUSES, free_text_status, generate_row,
                                   score_row, softmax)
from psychometrika.backends.base import GenerateResult, ScoreResult

DISCLAIMER_THEN_ANSWER = ("As an AI, I don't have weekends, but if I had one I would wake up early, walk along the "
                          "river with friends, cook a long lunch for my family, read a novel in the garden, call my "
                          "sister, go to a small concert in the evening and then sleep for a long time.")


@pytest.mark.parametrize("text, status", [
    ("As an AI, I do not have personal experiences.", "refused"),   # a short refusal
    ("I'm sorry, but I can't answer that.", "refused"),
    (DISCLAIMER_THEN_ANSWER, "ok"),                                 # 40+ words: a disclaimer, then the answer
    ("I love long walks and quiet evenings with my friends.", "ok"),
    ("", "unparseable"), ("   ", "unparseable"), ("42", "unparseable"), ("...", "unparseable"),
])
def test_free_text_rule(text, status):
    assert free_text_status(text) == status


def test_engine_and_text_scoring_apply_the_same_refusal_rule():
    from psychometrika.instruments import load_instrument
    from psychometrika.scoring.behaviour import text_trait_scores

    texts = ["As an AI, I do not have personal experiences.", DISCLAIMER_THEN_ANSWER, "42", "I am kind and warm."]
    row = {"n_options": 0, "response_type": "text"}
    engine = [generate_row(row, GenerateResult("k", t, 10, 5, 0.1))["status"] for t in texts]
    table = pd.DataFrame({"model": "m", "persona": [f"p{i}" for i in range(len(texts))], "instrument": "writing-task",
                          "item": "self_description", "raw_text": texts, "status": engine})
    scored = text_trait_scores(table, load_instrument("writing-task"), by=["model", "persona"])
    by_text = scored.drop_duplicates("persona").set_index("persona")["status"]
    assert engine == ["refused", "ok", "unparseable", "ok"]
    assert by_text.loc[[f"p{i}" for i in range(len(texts))]].tolist() == engine


def test_score_row_writes_every_answer_column_and_maps_display_order_back():
    row = {"permutation": [2, 1, 0], "option_values": [1.0, 2.0, 3.0]}
    out = score_row(row, ScoreResult("k", [math.log(0.7), math.log(0.2), math.log(0.1)], 12, 0.0))
    assert tuple(out) == ANSWER_COLUMNS
    assert out["probs"] == pytest.approx([0.1, 0.2, 0.7])         # original order
    assert out["chosen_position"] == 0 and out["chosen_option"] == 2 and out["chosen_value"] == 3.0
    assert out["expected_value"] == pytest.approx(0.1 + 0.4 + 2.1)
    assert out["status"] in STATUSES


def test_softmax_gives_non_finite_options_zero_probability():
    p = softmax([float("-inf"), math.log(0.25), math.log(0.75)])
    assert p.tolist() == pytest.approx([0.0, 0.25, 0.75])


def test_generate_row_writes_every_answer_column():
    row = {"n_options": 0, "response_type": "numeric", "numeric_min": 0, "numeric_max": 10}
    assert tuple(generate_row(row, GenerateResult("k", "I send 4.", 10, 3, 0.1))) == ANSWER_COLUMNS


def test_scoring_uses_the_one_respondent_column_definition():
    import psychometrika.scoring as scoring
    import psychometrika.scoring.core as core

    assert scoring.RESPONDENT_COLUMNS is RESPONDENT_COLUMNS and core.RESPONDENT_COLUMNS is RESPONDENT_COLUMNS
