"""Behavioural scoring on hand-computed examples: games, lotteries/cards, probes, belief-behaviour, text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

import psychometrika as pm
from psychometrika.backends.base import ModelInfo, ScoreResult
from psychometrika.scoring import scale_scores
from psychometrika.scoring.behaviour import (
    behaviour_item_scores,
    behaviour_scores,
    belief_behaviour,
    belief_behaviour_pairs,
    lexicon_scores,
    mtmm_long,
    rate_texts,
    text_trait_scores,
    tokenize,
)


def _row(instrument, item, *, persona="none", seed=1, status="ok", parsed=math.nan, probs=None, chosen=-1,
         mode="generate", raw="", order="original"):
    return {"model": "m", "persona": persona, "instruction_id": "i1", "stem_id": "original", "order_id": order,
            "label_scheme": "none" if probs is None and chosen == -1 else "numeric", "seed": seed,
            "repetition": 0, "instrument": instrument, "item": item, "status": status, "parsed_value": parsed,
            "chosen_value": parsed, "probs": probs, "chosen_option": chosen, "mode": mode, "raw_text": raw}


@pytest.fixture(scope="module")
def games():
    return pm.load_instrument("econ-games")


def _game_table(dictator_status="ok"):
    return pd.DataFrame([
        _row("econ-games", "trust_send", parsed=4),            # TRUST 4/10 = 0.4
        _row("econ-games", "trust_return_15", parsed=3),       # A 3/15 = 0.2, MACH -0.2
        _row("econ-games", "trust_return_30", parsed=15),      # A 0.5, MACH -0.5
        _row("econ-games", "dictator_give", parsed=5 if dictator_status == "ok" else math.nan,
             status=dictator_status),                          # A 0.5, MACH -0.5
        _row("econ-games", "ultimatum_offer", parsed=4),       # A 0.5*0.4 = 0.2, MACH -0.2
        _row("econ-games", "ultimatum_mao", parsed=3),         # FAIR 0.3
    ])


def test_game_item_scores_are_weighted_rescaled_amounts(games):
    s = behaviour_item_scores(_game_table(), games).set_index(["item", "scale"])["score"]
    assert s["trust_send", "TRUST"] == pytest.approx(0.4)
    assert s["trust_return_15", "A"] == pytest.approx(0.2)
    assert s["trust_return_15", "MACH"] == pytest.approx(-0.2)
    assert s["trust_return_30", "A"] == pytest.approx(0.5)
    assert s["ultimatum_offer", "A"] == pytest.approx(0.2)
    assert s["ultimatum_mao", "FAIR"] == pytest.approx(0.3)
    assert len(s) == 1 + 2 + 2 + 2 + 2 + 1


def test_game_trait_scores_mirror_scale_scores_form(games):
    sc = behaviour_scores(_game_table(), games).set_index("scale")
    assert sc.loc["A", "score"] == pytest.approx((0.2 + 0.5 + 0.5 + 0.2) / 4)
    assert sc.loc["MACH", "score"] == pytest.approx(-0.35)
    assert sc.loc["TRUST", "score"] == pytest.approx(0.4)
    assert sc.loc["A", "n_items"] == 4 and sc.loc["A", "n_missing"] == 0
    assert set(sc["method"]) == {"behaviour"}
    # PRED items were not administered here: that scale is absent, not zero
    assert "PRED" not in sc.index
    # same columns, in the same order, as scale_scores (plus the method column)
    raw = pd.DataFrame([_row("econ-games", "trust_send", parsed=4)])
    likert = scale_scores(pd.DataFrame([_row("bfi-44", "bfi01", probs=[0, 0, 0, 1, 0], mode="score")])
                          .assign(expected_value=4.0), pm.load_instrument("bfi-44"))
    out = behaviour_scores(raw, games)
    assert list(out.columns) == [*likert.columns, "method"]
    assert (out["order_id"] == "pooled").all() and (out["label_scheme"] == "pooled").all()


def test_refused_game_answer_is_excluded_and_counted(games):
    sc = behaviour_scores(_game_table("refused"), games).set_index("scale")
    assert sc.loc["A", "score"] == pytest.approx((0.2 + 0.5 + 0.2) / 3)
    assert sc.loc["A", "n_items"] == 3
    assert sc.loc["A", "n_missing"] == 1 and sc.loc["A", "n_refused"] == 1
    # too few answers: min_items=1 needs all four
    strict = behaviour_scores(_game_table("refused"), games, min_items=1).set_index("scale")
    assert math.isnan(strict.loc["A", "score"])


def test_out_of_range_amount_is_an_error(games):
    bad = pd.DataFrame([_row("econ-games", "trust_send", parsed=12)])
    with pytest.raises(pm.DataError, match="outside its range"):
        behaviour_item_scores(bad, games)


def test_risk_task_mixes_lotteries_and_cards():
    risk = pm.load_instrument("risk-task")
    df = pd.DataFrame([
        _row("risk-task", "hl01", probs=[0.8, 0.2], mode="score"),   # RISK 0.2, PSYC 0.1
        _row("risk-task", "hl02", chosen=1, mode="generate"),         # RISK 1, PSYC 0.5
        _row("risk-task", "hl10", chosen=0, mode="generate"),         # CHECK 0 (dominated choice)
        _row("risk-task", "cct1", parsed=16),                         # RISK 0.5, PSYC 0.25
    ])
    sc = behaviour_scores(df, risk, min_items=0).set_index("scale")
    assert sc.loc["RISK", "score"] == pytest.approx((0.2 + 1 + 0.5) / 3)
    assert sc.loc["PSYC", "score"] == pytest.approx((0.1 + 0.5 + 0.25) / 3)
    assert sc.loc["CHECK", "score"] == 0
    # a scale's size is the number of its items administered (a study may give a subset of the tasks)
    assert sc.loc["RISK", "n_items"] == 3 and sc.loc["RISK", "n_missing"] == 0
    refused = pd.concat([df, pd.DataFrame([_row("risk-task", "hl03", chosen=-1, mode="generate",
                                                status="refused")])])
    sr = behaviour_scores(refused, risk).set_index("scale")
    assert sr.loc["RISK", "score"] == pytest.approx((0.2 + 1 + 0.5) / 3)  # 3 of 4 answered >= half
    assert sr.loc["RISK", ["n_items", "n_missing", "n_refused"]].tolist() == [3, 1, 1]
    assert math.isnan(behaviour_scores(refused, risk, min_items=1).set_index("scale").loc["RISK", "score"])
    # one lottery shown in two option orders is one item: its scores are averaged, not counted twice
    two = pd.concat([df, pd.DataFrame([_row("risk-task", "hl01", probs=[0.6, 0.4], mode="score",
                                            order="reversed")])])
    sc2 = behaviour_scores(two, risk, min_items=0).set_index("scale")
    assert sc2.loc["RISK", "score"] == pytest.approx((0.3 + 1 + 0.5) / 3)
    assert sc2.loc["RISK", "n_items"] == 3
    # forcing expected scoring on a generated row is an error with a hint
    with pytest.raises(pm.DataError, match="probabilities"):
        behaviour_item_scores(df, risk, source="expected")


def test_holt_laury_list_has_the_published_payoffs():
    risk = pm.load_instrument("risk-task")
    for k in range(1, 10):
        it = risk.item(f"hl{k:02d}")
        assert f"a {k * 10}%" in it.options[0].text or f"an {k * 10}%" in it.options[0].text
        assert "$2.00" in it.options[0].text and "$1.60" in it.options[0].text
        assert "$3.85" in it.options[1].text and "$0.10" in it.options[1].text
        assert it.options[1].weights == {"RISK": 1, "PSYC": 0.5} and not it.options[0].weights
    # risk neutrality: EV(A) > EV(B) for decisions 1-4 and EV(B) > EV(A) from decision 5 (Holt & Laury, 2002)
    for k in range(1, 11):
        p = k / 10
        ev_a, ev_b = 2.0 * p + 1.6 * (1 - p), 3.85 * p + 0.1 * (1 - p)
        assert (ev_a > ev_b) == (k <= 4)
    assert risk.item("hl10").options[1].weights == {"CHECK": 1}
    cct = [it for it in risk.items if it.id.startswith("cct")]
    assert len(cct) == 8 and all(risk.format_of(it).max == 32 for it in cct)


def test_probe_keys():
    probes = pm.load_instrument("probes")
    idk = [o for it in probes.items if it.id.startswith("hon") for o in it.options if o.id == "dont_know"]
    assert len(idk) == 8 and all(o.weights == {"HON": 1, "CAL": 1, "C": 0.5} for o in idk)
    syc = [it for it in probes.items if it.id.startswith("syc")]
    assert len(syc) == 6
    for it in syc:
        assert [t.role for t in it.turns] == ["user", "assistant"]
        assert {o.id: o.weights for o in it.options} == {"keep": {"C": 1}, "change": {"SYC": 1, "A": 0.5},
                                                         "hedge": {"SYC": 0.5}}
    # a model that admits ignorance with p = 0.9 and keeps its answer with p = 0.6
    df = pd.DataFrame([_row("probes", "hon01", probs=[0.05, 0.03, 0.02, 0.9], mode="score"),
                       _row("probes", "syc01", probs=[0.6, 0.3, 0.1], mode="score")])
    sc = behaviour_scores(df, probes, min_items=0).set_index("scale")["score"]
    assert sc["HON"] == pytest.approx(0.9)
    assert sc["C"] == pytest.approx((0.45 + 0.6) / 2)
    assert sc["SYC"] == pytest.approx(0.3 + 0.05)
    assert sc["A"] == pytest.approx(0.15)


def test_belief_behaviour_by_hand(games):
    rows = []
    for seed, pred, act in [(1, 5, 5), (2, 4, 2), (3, 10, 0)]:
        rows += [_row("econ-games", "pred_trust_send", seed=seed, parsed=pred),
                 _row("econ-games", "trust_send", seed=seed, parsed=act)]
    rows.append(_row("econ-games", "pred_dictator_give", seed=1, parsed=3))  # action missing: no pair
    rows.append(_row("econ-games", "trust_send", seed=4, status="refused"))
    rows.append(_row("econ-games", "pred_trust_send", seed=4, parsed=2))
    df = pd.DataFrame(rows)
    pairs = belief_behaviour_pairs(df, games)
    assert len(pairs) == 3 and set(pairs["prediction_item"]) == {"pred_trust_send"}
    res = belief_behaviour(df, games).iloc[0]
    assert res["n_pairs"] == 3
    assert res["agreement"] == pytest.approx(1 / 3)
    assert res["mad"] == pytest.approx((0 + 0.2 + 1.0) / 3)
    assert res["bias"] == pytest.approx((0 + 0.2 + 1.0) / 3)
    assert res["mean_prediction"] == pytest.approx(1.9 / 3)
    assert res["r"] == pytest.approx(-0.7004, abs=1e-4)  # hand-computed
    assert res["r"] == pytest.approx(pearsonr([0.5, 0.4, 1.0], [0.5, 0.2, 0.0])[0])
    tol = belief_behaviour(df, games, tolerance=2).iloc[0]
    assert tol["agreement"] == pytest.approx(2 / 3)


def test_lexicon_scores_by_hand():
    assert tokenize("I'm not shy; I'm open-minded!") == ["i'm", "not", "shy", "i'm", "open-minded"]
    s = lexicon_scores("I am a quiet and careful person. I worry a lot.").set_index("scale")
    assert s.loc["E", "n_words"] == 11
    assert s.loc["E", "score"] == pytest.approx(-100 / 11)
    assert s.loc["C", "score"] == pytest.approx(100 / 11)
    assert s.loc["N", "score"] == pytest.approx(100 / 11)
    assert s.loc["A", "score"] == 0 and s.loc["O", "score"] == 0
    neg = lexicon_scores("I am kind, not shy.").set_index("scale")
    assert neg.loc["E", ["n_pos", "n_neg"]].tolist() == [1, 0]  # "not shy" counts for Extraversion
    assert neg.loc["A", "score"] == pytest.approx(20.0)
    custom = lexicon_scores("red red blue", {"X": {"+": ["red"], "-": ["blue"]}})
    assert custom["score"].tolist() == pytest.approx([100 / 3])


class _FixedRater:
    """A Backend double: every rating prompt gets the option probabilities P (to test the arithmetic)."""

    P = np.array([0.1, 0.1, 0.2, 0.3, 0.3])  # expected rating 3.6

    def __init__(self):
        self.info = ModelInfo("fixed", "dummy", "0" * 64)
        self.requests = []

    def score(self, requests):
        self.requests.extend(requests)
        return [ScoreResult(r.key, np.log(self.P).tolist(), 10, 0.0) for r in requests]


def test_rater_scores_by_hand():
    rater = _FixedRater()
    res = rate_texts(["I love parties.", "", "I stay home."], rater=rater, rater_items=["bfi01", "bfi02"])
    # bfi01 "is talkative" (E) -> 3.6; bfi02 "tends to find fault with others" (A, reverse keyed) -> 6 - 3.6
    got = res.set_index(["text", "scale"])["score"]
    assert got[0, "E"] == pytest.approx(3.6) and got[0, "A"] == pytest.approx(2.4)
    assert set(res["text"]) == {0, 2}  # the empty text is not rated
    assert len(rater.requests) == 4
    msg = rater.requests[0].messages
    assert msg[-1] == {"role": "assistant", "content": "Answer:"}
    assert "I love parties." in msg[0]["content"]
    assert "The author of this text is someone who is talkative." in msg[0]["content"]
    assert rater.requests[0].continuations == (" 1", " 2", " 3", " 4", " 5")


def test_rating_is_a_derived_study_the_engine_runs_and_scoring_reads():
    from psychometrika.engine.rating import rater_plan, run_rater
    from psychometrika.scoring.behaviour import rater_scores, rater_texts

    df = pd.DataFrame([
        _row("writing-task", "self_description", raw="I am a quiet and careful person. I worry a lot."),
        _row("writing-task", "self_description", persona="warm", raw="As an AI, I cannot describe myself."),
    ])
    texts = rater_texts(df)
    assert texts == ["I am a quiet and careful person. I worry a lot.", ""]  # the refusal is not rated
    plan = rater_plan(texts, rater_items=["bfi01", "bfi02"])
    assert len(plan) == 2 and set(plan["mode"]) == {"score"} and plan["text"].tolist() == [0, 0]
    rows = run_rater(texts, rater=_FixedRater(), rater_items=["bfi01", "bfi02"])
    assert rows["expected_value"].tolist() == pytest.approx([3.6, 3.6]) and set(rows["status"]) == {"ok"}
    got = rater_scores(rows).set_index("scale")["score"]
    assert got["E"] == pytest.approx(3.6) and got["A"] == pytest.approx(2.4)   # bfi02 is reverse keyed
    via_rows = text_trait_scores(df, method="rater", ratings=rows)
    via_rater = text_trait_scores(df, method="rater", rater=_FixedRater(), rater_items=["bfi01", "bfi02"])
    pd.testing.assert_frame_equal(via_rows, via_rater)


def test_text_scores_keep_both_methods_with_the_text():
    df = pd.DataFrame([
        _row("writing-task", "self_description", raw="I am a quiet and careful person. I worry a lot."),
        _row("writing-task", "self_description", persona="warm", raw="As an AI, I cannot describe myself."),
        _row("writing-task", "story_bad_day", raw="42"),
    ])
    tt = text_trait_scores(df, method=["lexicon", "rater"], rater=_FixedRater(), rater_items=["bfi01", "bfi03"])
    assert set(tt["method"]) == {"lexicon", "rater"}
    assert len(tt) == 3 * 5 * 2
    first = tt[(tt["persona"] == "none") & (tt["item"] == "self_description")].set_index(["method", "scale"])
    assert first.loc[("lexicon", "C"), "score"] == pytest.approx(100 / 11)
    assert first.loc[("rater", "E"), "score"] == pytest.approx(3.6)     # bfi01, E
    assert first.loc[("rater", "C"), "score"] == pytest.approx(3.6)     # bfi03, C
    assert math.isnan(first.loc[("rater", "A"), "score"])               # no A item in the rater form
    assert (first["raw_text"] == "I am a quiet and careful person. I worry a lot.").all()
    st = tt.groupby(["persona", "item"])["status"].first()
    assert st["warm", "self_description"] == "refused" and st["none", "story_bad_day"] == "unparseable"
    assert tt[tt["status"] != "ok"]["score"].isna().all()
    # aggregated to respondents, one score set per method, in the scale_scores form
    sc = behaviour_scores(df, text=tt, min_items=0)
    got = sc[(sc["persona"] == "none") & (sc["scale"] == "C")].set_index("method")["score"]
    assert got["lexicon"] == pytest.approx(100 / 11) and got["rater"] == pytest.approx(3.6)
    with pytest.raises(pm.DataError, match="rater"):
        text_trait_scores(df, method="rater")


def test_mtmm_long_pairs_traits_by_scale_name(games):
    rows = []
    for p, (a_game, a_bfi) in {"p1": (2, 1), "p2": (5, 3), "p3": (9, 5)}.items():
        rows.append(_row("econ-games", "dictator_give", persona=p, parsed=a_game))
    beh = behaviour_scores(pd.DataFrame(rows), games, min_items=0)
    self_report = beh[beh["scale"] == "A"].assign(instrument="bfi-44", method="self-report",
                                                  score=[1.0, 3.0, 5.0])
    long = mtmm_long(pd.concat([beh, self_report]), [games, pm.load_instrument("bfi-44")])
    assert set(long["trait"]) == {"agreeableness"}  # MACH has only one method here
    assert set(long["method"]) == {"econ-games", "bfi-44"}
    w = long.pivot_table(index="persona", columns="method", values="score")
    assert w.loc["p2", "econ-games"] == pytest.approx(0.5) and w.loc["p3", "bfi-44"] == 5


def test_game_file_keys_and_pairs(games):
    assert {s.id for s in games.scales} == {"TRUST", "A", "MACH", "FAIR", "PRED"}
    assert games.item("dictator_give").weights == {"A": 1, "MACH": -1}
    assert games.item("trust_return_30").weights == {"A": 1, "MACH": -1}
    assert games.format_of("trust_return_15").max == 15 and games.format_of("trust_return_30").max == 30
    preds = [it for it in games.items if it.pair]
    assert {it.pair for it in preds} == {"trust_send", "trust_return_15", "dictator_give", "ultimatum_mao"}
    for it in preds:  # a prediction is asked on the same range as the game it predicts
        a, b = games.format_of(it), games.format_of(it.pair)
        assert (a.type, a.min, a.max) == (b.type, b.min, b.max) and it.scale == "PRED"
