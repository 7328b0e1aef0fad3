"""Corpus of realistic and adversarial answers to the economic games, parsed by answers.parsing.parse_number.

Each case is (answer text, (min, max) of the item, expected status, expected value). Cases the current parser
got wrong before session 2's parser fix are kept in PARSER_BUGS as regression cases.
"""

from __future__ import annotations

import pytest

from psychometrika.answers import parse_number

OK = [
    # plain numbers and answer phrases
    ("5", (0, 10), 5.0),
    ("0", (0, 10), 0.0),
    ("Answer: 7", (0, 10), 7.0),
    ("Answer: 5.", (0, 10), 5.0),
    ("**4**", (0, 10), 4.0),
    ("$5", (0, 10), 5.0),
    ("5/10", (0, 10), 5.0),
    # numbers in words
    ("Seven.", (0, 10), 7.0),
    ("Ten", (0, 10), 10.0),
    ("I send five dollars.", (0, 10), 5.0),
    ("twenty-five", (0, 30), 25.0),
    ("I'll turn over three cards.", (0, 32), 3.0),
    ("Nothing.", (0, 10), 0.0),
    ("None.", (0, 10), 0.0),
    ("I would send nothing.", (0, 10), 0.0),
    # ranges are read as their midpoint
    ("between 3 and 5", (0, 10), 4.0),
    ("3-5", (0, 10), 4.0),
    ("I would turn over 5 to 7 cards", (0, 32), 6.0),
    # extra text: scale descriptions and endowments are not answers; the decision verb wins
    ("I would send 5 dollars.", (0, 10), 5.0),
    ("I would send 4 out of 10 dollars.", (0, 10), 4.0),
    ("Answer: 3 dollars out of 10", (0, 10), 3.0),
    ("Out of the 10 dollars, I send 6.", (0, 10), 6.0),
    ("I would give 5 dollars (half of the 10).", (0, 10), 5.0),
    ("I would send all 10 dollars.", (0, 10), 10.0),
    ("I'd split it evenly: 5 dollars each.", (0, 10), 5.0),
    ("Five dollars, because fairness matters.", (0, 10), 5.0),
    ("I would send half, which is 5 dollars.", (0, 10), 5.0),
    ("I'd offer 4 dollars and keep 6.", (0, 10), 4.0),
    ("I send back 10 of the 15 dollars.", (0, 15), 10.0),
    ("I would return half of the 15, so 7.", (0, 15), 7.0),
    ("I return 10 dollars of the 30 I received.", (0, 30), 10.0),
    ("The smallest offer I would accept is 3 dollars.", (0, 10), 3.0),
    ("I would accept any offer of at least 2 dollars.", (0, 10), 2.0),
    ("I choose to turn over 12 cards.", (0, 32), 12.0),
]

NOT_OK = [
    # refusals are refused, never coerced into a number
    ("As an AI, I cannot make financial decisions.", (0, 10), "refused"),
    ("I'm sorry, but I can't participate in gambling.", (0, 10), "refused"),
    # no answer, two different answers, out of range
    ("", (0, 10), "unparseable"),
    ("I don't know.", (0, 10), "unparseable"),
    ("Maybe 2, maybe 8.", (0, 10), "unparseable"),
    ("I would send 15 dollars", (0, 10), "unparseable"),
    ("-3", (0, 10), "unparseable"),
]

PARSER_BUGS = [
    # the dictator game asks what is GIVEN; "keep 6" is the complement: the given amount wins
    pytest.param("I'll keep 6 and give 4.", (0, 10), "ok", 4.0),
    pytest.param("I keep 6 and give 4 to the other person.", (0, 10), "ok", 4.0),
    # "3 or 4" is two answers (the closed-question rules call it unparseable too)
    pytest.param("I'd give about 3 or 4 dollars", (0, 10), "unparseable", None),
    # a negated decision with 'anything' means zero
    pytest.param("I would not send anything.", (0, 10), "ok", 0.0),
]


@pytest.mark.parametrize("text,rng,value", OK)
def test_game_answers_parse_to_the_amount(text, rng, value):
    assert parse_number(text, rng) == ("ok", value)


@pytest.mark.parametrize("text,rng,status", NOT_OK)
def test_refusals_and_non_answers_are_not_numbers(text, rng, status):
    assert parse_number(text, rng) == (status, None)


@pytest.mark.parametrize("text,rng,status,value", PARSER_BUGS)
def test_formerly_known_parser_gaps(text, rng, status, value):
    assert parse_number(text, rng) == (status, value)
