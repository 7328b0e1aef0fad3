"""Response-validity screening on planted responders: pm.screen / pm.exclude_invalid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError

VALUES = [1.0, 2.0, 3.0, 4.0, 5.0]
ORDERS = {"original": [0, 1, 2, 3, 4], "reversed": [4, 3, 2, 1, 0]}
KEYED = [1, -1] * 6  # 12 items, balanced keying


def _rows(persona: str, answer, n_instr: int = 2) -> list[dict]:
    """Rows of one planted responder; ``answer(item_index, keyed, permutation, rng)`` -> display position."""
    rng = np.random.default_rng(abs(hash(persona)) % 2**32)
    out = []
    for instr in range(n_instr):
        for order, perm in ORDERS.items():
            for i, k in enumerate(KEYED):
                pos = answer(i, k, perm, rng)
                opt = perm[pos]
                probs = [0.02] * 5
                probs[opt] = 0.92
                out.append({"model": "m", "instrument": "inv", "persona": persona, "instruction_id": f"i{instr}",
                            "stem_id": "original", "order_id": order, "label_scheme": "numeric", "seed": 0,
                            "repetition": 0, "item": f"q{i + 1:02d}", "scale": "T", "keyed": k,
                            "permutation": perm, "n_options": 5, "option_values": VALUES, "mode": "score",
                            "logprobs": [float(np.log(probs[perm[d]] * 0.9)) for d in range(5)],
                            "probs": probs, "chosen_position": pos, "chosen_option": opt,
                            "chosen_value": VALUES[opt], "expected_value": float(np.dot(probs, VALUES)),
                            "parsed_value": np.nan, "status": "ok"})
    return out


def _first(i, k, perm, rng):
    return 0


def _trait(i, k, perm, rng):
    # a high-trait respondent: agrees (4 or 5) with forward items, disagrees (1 or 2) with reverse ones
    opt = int(rng.choice([3, 4])) if k > 0 else int(rng.choice([0, 1]))
    return perm.index(opt)


def _acquiescent(i, k, perm, rng):
    # agrees with everything whatever the keying (but follows meaning across orders)
    return perm.index(int(rng.choice([3, 4])))


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return pd.DataFrame(_rows("first", _first) + _rows("trait", _trait) + _rows("yes", _acquiescent))


@pytest.fixture(scope="module")
def table(planted) -> pd.DataFrame:
    return pm.screen(planted).set_index("persona")


def test_first_position_responder_is_invalid(table):
    r = table.loc["first"]
    assert r["status"] == "invalid"
    assert r["position_only"] == 1.0 and r["content_consistency"] == 0.0
    assert r["modal_position_share"] == 1.0
    assert "position-driven" in r["reason"]
    # 1 = Disagree strongly in one order, 5 in the other: (dis)agreement with everything, averaging to 0
    assert abs(r["acquiescence_extreme"]) == pytest.approx(1.0) and r["acquiescence"] == pytest.approx(0.0)


def test_trait_following_responder_is_valid(table):
    r = table.loc["trait"]
    assert r["status"] == "valid", r["reason"]
    assert r["position_only"] == 0.0
    assert abs(r["acquiescence"]) < 0.25 and r["agree_both_share"] == 0.0
    assert r["one_option_share"] < 0.5 and r["irv"] > 0.3


def test_acquiescent_responder_is_flagged(table):
    r = table.loc["yes"]
    assert r["status"] == "suspect"
    assert "acquiescence" in r["reason"]
    assert r["acquiescence"] > 0.5 and r["agree_both_share"] == 1.0
    assert r["position_only"] == 0.0


def test_overall_row_and_counts(table):
    r = table.loc["(all)"]
    assert r["level"] == "overall" and r["n_respondents"] == 12 and r["n_answers"] == 3 * 2 * 2 * 12
    c = table.loc["trait"]
    assert c["n_respondents"] == 4 and c["n_items"] == 12 and c["n_orders"] == 2 and c["n_order_groups"] == 24
    assert c["label_mass"] == pytest.approx(0.9)
    # entropy of (0.92, 0.02 x 4) over 5 options
    p = np.array([0.92] + [0.02] * 4)
    assert c["entropy"] == pytest.approx(float(-(p * np.log(p)).sum() / np.log(5)))


def test_thresholds_are_keywords(planted):
    t = pm.screen(planted, acquiescence_suspect=1.01).set_index("persona")
    assert t.loc["yes", "status"] == "valid"
    assert t.attrs["rules"]["acquiescence_suspect"] == 1.01
    with pytest.raises(DataError, match="unknown screening threshold"):
        pm.screen(planted, acquiescence_limit=0.3)


def test_refusals_counted(planted):
    df = planted.copy()
    trait = df.index[df.persona == "trait"]
    df.loc[trait[:30], "status"] = "refused"
    df.loc[trait[30:40], "status"] = "unparseable"
    r = pm.screen(df).set_index("persona").loc["trait"]
    assert r["refusal_rate"] == pytest.approx(30 / 48) and r["unparseable_rate"] == pytest.approx(10 / 48)
    assert r["status"] == "invalid" and "refusals" in r["reason"]


def test_orders_not_varied_position_is_suspect_not_invalid(planted):
    df = planted[planted.order_id == "original"]
    r = pm.screen(df).set_index("persona").loc["first"]
    assert np.isnan(r["position_only"])
    # one option to every item is still invalid; the reason also says position could not be separated
    assert r["status"] == "invalid" and "cannot be told apart" in r["reason"]


def test_exclude_invalid(planted, table):
    screening = pm.screen(planted)
    kept = pm.exclude_invalid(planted, screening)
    assert set(kept.persona) == {"trait", "yes"}
    note = kept.attrs["screening"]
    assert note["n_excluded"] == 48 and note["excluded"][0]["persona"] == "first"
    assert "position-driven" in note["excluded"][0]["reason"]
    every = pm.exclude_invalid(planted, screening, keep=True)
    assert len(every) == len(planted) and every.attrs["screening"]["kept"]
    strict = pm.exclude_invalid(planted, exclude=("invalid", "suspect"))
    assert set(strict.persona) == {"trait"}


def test_bad_input():
    with pytest.raises(DataError, match="tidy response table"):
        pm.screen([1, 2])
    with pytest.raises(DataError, match="lacks column"):
        pm.screen(pd.DataFrame({"model": ["m"]}))


def test_banner_says_what_was_excluded_and_why(planted):
    text = pm.screening_banner(pm.screen(planted))
    assert text.startswith("Screening: inv (m): 1 of 3 persona cells invalid (first: position-driven")
    assert "1 of 3 persona cells suspect (yes: acquiescence)" in text
    assert text.endswith("invalid answers left out of trait statistics.")
    assert "kept on request" in pm.screening_banner(pm.screen(planted), kept=True)
    trait_only = planted[planted.persona == "trait"]
    assert pm.screening_banner(pm.screen(trait_only)) == "Screening: all screened cells are valid."


def test_screen_and_exclude_equals_its_three_steps_and_says_when_nothing_is_left(planted):
    sc = pm.screen(planted)
    res = pm.screen_and_exclude(planted)
    pd.testing.assert_frame_equal(res.screening, sc)
    pd.testing.assert_frame_equal(res.responses, pm.exclude_invalid(planted, sc))
    assert res.banner == pm.screening_banner(sc) and set(res.responses.persona) == {"trait", "yes"}
    kept = pm.screen_and_exclude(planted, keep=True)
    assert len(kept.responses) == len(planted) and "nothing is left" not in kept.banner
    only_first = planted[planted.persona == "first"]
    none_left = pm.screen_and_exclude(only_first)
    assert none_left.responses.empty and none_left.banner.endswith(pm.stats.screening.NOTHING_LEFT)
