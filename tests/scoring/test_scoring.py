"""Scoring equals hand-computed values: reverse keys, missing and refused answers, SJT weights, expected values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError
from psychometrika.scoring import expected_value, item_scores, reverse_key, scale_scores, sjt_trait_scores, to_wide

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def mini():
    return pm.load_instrument(DATA / "mini.yaml")


@pytest.fixture(scope="module")
def sjt():
    return pm.load_instrument(DATA / "mini-sjt.yaml")


def _rows(answers: dict[str, dict[str, tuple[float, str]]], instrument: str = "mini") -> pd.DataFrame:
    """answers: respondent -> item -> (chosen value, status)."""
    rows = []
    for resp, items in answers.items():
        for item, (value, status) in items.items():
            rows.append({"model": "m", "persona": resp, "instruction_id": "i1", "stem_id": "original",
                         "order_id": "original", "label_scheme": "numeric", "seed": 0, "repetition": 0,
                         "instrument": instrument, "item": item, "chosen_value": value, "expected_value": value,
                         "status": status})
    return pd.DataFrame(rows)


def test_reverse_key_formula():
    assert reverse_key(np.array([1, 2, 3, 4, 5]), -1, 1, 5).tolist() == [5, 4, 3, 2, 1]
    assert reverse_key(np.array([1, 6]), np.array([-1, 1]), 1, 6).tolist() == [6, 6]


def test_expected_value():
    assert expected_value([0.1, 0.2, 0.3, 0.2, 0.2], [1, 2, 3, 4, 5]) == pytest.approx(3.2)
    assert expected_value([2, 2], [1, 5]) == pytest.approx(3.0)  # renormalised
    with pytest.raises(DataError):
        expected_value([0.5, 0.5], [1, 2, 3])


def test_scale_scores_hand_computed(mini):
    # respondent r1: e1=5, e2=2 (reversed -> 4), e3=3 -> E = (5+4+3)/3 = 4; a1=4, a2=1 (reversed -> 5) -> A = 4.5
    # respondent r2: e1=1, e2 refused, e3=2 -> E = (1+2)/2 = 1.5 with one refusal; a1=2, a2 missing -> A = 2
    df = _rows({
        "r1": {"e1": (5, "ok"), "e2": (2, "ok"), "e3": (3, "ok"), "a1": (4, "ok"), "a2": (1, "ok")},
        "r2": {"e1": (1, "ok"), "e2": (np.nan, "refused"), "e3": (2, "ok"), "a1": (2, "ok")},
    })
    s = scale_scores(df, mini, source="chosen").set_index(["persona", "scale"])
    assert s.loc[("r1", "E"), "score"] == pytest.approx(4.0)
    assert s.loc[("r1", "A"), "score"] == pytest.approx(4.5)
    assert s.loc[("r2", "E"), "score"] == pytest.approx(1.5)
    assert s.loc[("r2", "E"), "n_items"] == 2 and s.loc[("r2", "E"), "n_missing"] == 1
    assert s.loc[("r2", "E"), "n_refused"] == 1
    assert s.loc[("r2", "A"), "score"] == pytest.approx(2.0) and s.loc[("r2", "A"), "n_missing"] == 1
    summed = scale_scores(df, mini, source="chosen", method="sum").set_index(["persona", "scale"])
    assert summed.loc[("r1", "E"), "score"] == pytest.approx(12.0)
    assert np.isnan(summed.loc[("r2", "E"), "score"]), "a sum needs every item"


def test_refusals_are_never_coerced(mini):
    df = _rows({"r1": {"e1": (5, "refused"), "e2": (1, "unparseable"), "e3": (3, "ok")}})
    s = item_scores(df, mini, source="chosen")
    assert s["score"].isna().tolist() == [True, True, False]
    out = scale_scores(df, mini, source="chosen", min_items=0.5)
    e = out[out.scale == "E"].iloc[0]
    assert np.isnan(e["score"]) and e["n_refused"] == 1 and e["n_unparseable"] == 1  # 1 of 3 < 50 %


def test_scale_membership_comes_from_the_instrument(mini):
    # scale membership comes from the instrument, so an item counts on every scale that lists it
    df = _rows({"r1": {"e1": (4, "ok"), "e2": (4, "ok"), "e3": (4, "ok"), "a1": (4, "ok"), "a2": (4, "ok")}})
    s = scale_scores(df, mini, source="chosen").set_index("scale")["score"]
    assert s["E"] == pytest.approx((4 + 2 + 4) / 3) and s["A"] == pytest.approx((4 + 2) / 2)


def test_to_wide_and_duplicates(mini):
    df = item_scores(_rows({"r1": {"e1": (5, "ok"), "e2": (2, "ok")}, "r2": {"e1": (1, "ok"), "e2": (5, "ok")}}),
                     mini, source="chosen")
    wide = to_wide(df, value="score")
    assert wide.shape == (2, 2) and wide.loc[wide.index.get_level_values("persona") == "r2", "e2"].item() == 1
    with pytest.raises(DataError, match="duplicate"):
        to_wide(pd.concat([df, df]), value="score")


def test_sjt_expected_and_chosen(sjt):
    base = {"model": "m", "persona": "none", "instruction_id": "i1", "stem_id": "original", "order_id": "original",
            "label_scheme": "numeric", "seed": 0, "repetition": 0, "instrument": "mini-sjt", "status": "ok"}
    df = pd.DataFrame([
        {**base, "item": "s1", "probs": [0.2, 0.5, 0.3], "chosen_option": 1},
        {**base, "item": "s2", "probs": [0.6, 0.4, 0.0], "chosen_option": 0},
    ])
    t = sjt_trait_scores(df, sjt).set_index(["item", "scale"])["score"]
    # s1: A = .2*0 + .5*1 + .3*(-1) = .2 ; M = .3*1 = .3 ; s2: A = .6 ; M = -.6 + .4 = -.2
    assert t[("s1", "A")] == pytest.approx(0.2) and t[("s1", "M")] == pytest.approx(0.3)
    assert t[("s2", "A")] == pytest.approx(0.6) and t[("s2", "M")] == pytest.approx(-0.2)
    c = sjt_trait_scores(df, sjt, source="chosen").set_index(["item", "scale"])["score"]
    assert c[("s1", "A")] == 1 and c[("s1", "M")] == 0 and c[("s2", "M")] == -1
    s = scale_scores(df, sjt).set_index("scale")["score"]
    assert s["A"] == pytest.approx((0.2 + 0.6) / 2) and s["M"] == pytest.approx((0.3 - 0.2) / 2)


def test_missing_instrument_definition(mini):
    df = _rows({"r1": {"e1": (5, "ok")}}, instrument="other")
    with pytest.raises(DataError, match="no instrument definition"):
        scale_scores(df, mini)
