"""Answer parser on realistic and adversarial answers (closed options, letters, option texts, numbers, refusals)."""

from __future__ import annotations

import pytest

from psychometrika.answers import is_refusal, parse_answer, words_to_number

LIKERT = ["Disagree strongly", "Disagree a little", "Neither agree nor disagree", "Agree a little", "Agree strongly"]
NUM = ["1", "2", "3", "4", "5"]
LET = ["A", "B", "C", "D"]
SJT = ["Calmly point out that it was your idea.", "Say nothing and let it go.",
       "Later, take credit for one of their ideas.", "Complain to your manager."]

CLOSED = [
    # (text, labels, options, expected status, expected display position)
    ("4", NUM, LIKERT, "ok", 3),
    ("4.", NUM, LIKERT, "ok", 3),
    ("  **2** - Disagree a little", NUM, LIKERT, "ok", 1),
    ("(5) Agree strongly", NUM, LIKERT, "ok", 4),
    ("Answer: 3", NUM, LIKERT, "ok", 2),
    ("My answer is 1 because I rarely talk.", NUM, LIKERT, "ok", 0),
    ("I would say 4, since I enjoy parties.", NUM, LIKERT, "ok", 3),
    ("I'd rate myself as a 2.", NUM, LIKERT, "ok", 1),
    ("Agree strongly", NUM, LIKERT, "ok", 4),
    ("I disagree strongly with this statement.", NUM, LIKERT, "ok", 0),   # 'disagree strongly' not 'agree strongly'
    ("Neither agree nor disagree.", NUM, LIKERT, "ok", 2),
    ("four", NUM, LIKERT, "ok", 3),
    ("Probably three.", NUM, LIKERT, "ok", 2),
    ("3 or 4", NUM, LIKERT, "unparseable", None),
    ("3-4", NUM, LIKERT, "unparseable", None),
    ("Somewhere between 2 and 4", NUM, LIKERT, "unparseable", None),
    ("It depends on the situation.", NUM, LIKERT, "unparseable", None),
    ("", NUM, LIKERT, "unparseable", None),
    ("As an AI language model, I don't have personal opinions or feelings.", NUM, LIKERT, "refused", None),
    ("I'm sorry, but I cannot answer questions about myself.", NUM, LIKERT, "refused", None),
    ("As an AI I don't have feelings, but if I had to choose I would say 3.", NUM, LIKERT, "ok", 2),
    ("B", LET, SJT, "ok", 1),
    ("(C) Later, take credit", LET, SJT, "ok", 2),
    ("I choose option D.", LET, SJT, "ok", 3),
    ("A", LET, SJT, "ok", 0),
    ("A reasonable person would say nothing and let it go.", LET, SJT, "ok", 1),  # article 'A' is not label A
    ("Say nothing and let it go", LET, SJT, "ok", 1),
    ("B or C", LET, SJT, "unparseable", None),
    ("The answer is b", LET, SJT, "ok", 1),
    ("Calmly point out that it was your idea.", SJT, SJT, "ok", 0),          # text label scheme
    ("I would complain to your manager", SJT, SJT, "ok", 3),
    ("I would do nothing at all.", SJT, SJT, "unparseable", None),
    ("The second option.", NUM, LIKERT, "ok", 1),
    ("5/5", NUM, LIKERT, "ok", 4),
    ("I'd give it 4 out of 5.", NUM, LIKERT, "ok", 3),
    ("My answer is a difficult one.", LET, SJT, "unparseable", None),
]


@pytest.mark.parametrize("text,labels,options,status,pos", CLOSED)
def test_closed_answers(text, labels, options, status, pos):
    assert parse_answer(text, options=options, labels=labels) == (status, pos)


OPEN = [
    ("5", (0, 10), "ok", 5.0),
    ("I would send 4 dollars.", (0, 10), "ok", 4.0),
    ("I would send $4 out of my $10.", (0, 10), "ok", 4.0),
    ("Out of 10, I'd give 3.", (0, 10), "ok", 3.0),
    ("I will offer five.", (0, 10), "ok", 5.0),
    ("Twenty-five percent", (0, 100), "ok", 25.0),
    ("Between 3 and 5 dollars.", (0, 10), "ok", 4.0),
    ("3-5", (0, 10), "ok", 4.0),
    ("I keep nothing and give it all away", (0, 10), "ok", 0.0),
    ("I would send 12.", (0, 10), "unparseable", None),
    ("I'm not comfortable making decisions about money.", (0, 10), "refused", None),
    ("Hmm, let me think.", (0, 10), "unparseable", None),
    ("2.5", (0, 10), "ok", 2.5),
]


@pytest.mark.parametrize("text,rng,status,value", OPEN)
def test_numeric_answers(text, rng, status, value):
    assert parse_answer(text, options=[], labels=[], numeric_range=rng) == (status, value)


def test_words_to_number():
    assert words_to_number("twenty-five") == 25
    assert words_to_number("one hundred") == 100
    assert words_to_number("a half") == 0.5
    assert words_to_number("many") is None


def test_refusal_detector():
    assert is_refusal("As an AI, I do not have personal preferences.")
    assert not is_refusal("I am a warm person and I like people.")


def test_integer_answers_are_enforced_for_integer_formats():
    from psychometrika.answers import generate_row
    from psychometrika.backends.base import GenerateResult

    row = {"n_options": 0, "response_type": "numeric", "numeric_min": 0, "numeric_max": 10}
    half = GenerateResult("k", "I would send 2.5 coins.", 10, 5, 0.1)
    whole = GenerateResult("k", "I would send 3 coins.", 10, 5, 0.1)
    strict = generate_row({**row, "numeric_integer": True}, half)
    assert strict["status"] == "unparseable" and strict["parsed_value"] == 2.5 and strict["chosen_value"] != 2.5
    assert generate_row({**row, "numeric_integer": False}, half)["chosen_value"] == 2.5
    ok = generate_row({**row, "numeric_integer": True}, whole)
    assert ok["status"] == "ok" and ok["chosen_value"] == 3.0


def test_plan_parsing_is_a_deprecated_alias_of_the_answers_parser():
    import psychometrika.answers.parsing as answers
    import psychometrika.plan.parsing as old

    assert old.parse_answer is answers.parse_answer and old.is_refusal is answers.is_refusal
    assert old.parse_answer("Answer: 4", options=[], labels=["1", "2", "3", "4", "5"]) == ("ok", 3)
