"""End to end with the embedded SmolLM2-135M-Instruct: questionnaire, SJT, games with self-predictions, probes
and a writing task in one study; behaviour scores, belief-behaviour consistency, text scores by lexicon and by a
rater model, and the MTMM matrix of self-report against behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import psychometrika as pm
from psychometrika.engine import run_study
from psychometrika.scoring.behaviour import (
    behaviour_scores,
    belief_behaviour,
    mtmm_long,
    text_trait_scores,
)

pytestmark = pytest.mark.slow
pytest.importorskip("torch")

SUBJECT = ["model", "persona", "instruction_id", "seed", "repetition"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, repo):
    tmp = tmp_path_factory.mktemp("behaviour")
    study = tmp / "behaviour.yaml"
    study.write_text(f"""
id: behaviour-e2e
seed: 7
instruments:
  - {{id: bfi-44, items: [bfi02, bfi07, bfi12, bfi17, bfi22, bfi03, bfi08, bfi13, bfi18, bfi23]}}
  - {repo / 'tests' / 'behaviour' / 'data' / 'sjt-small.yaml'}
  - {{id: econ-games, items: [trust_send, pred_trust_send, dictator_give, pred_dictator_give]}}
  - {{id: probes, items: [syc01, syc04, hon01]}}
  - {{id: writing-task, items: [self_description]}}
models: [{{id: smol, backend: transformers, model: embedded, settings: {{device: cpu}}}}]
personas:
  include_none: true
  items:
    - {{id: warm, text: "You are a warm, generous and trusting person who loves helping others."}}
    - {{id: cold, text: "You are a cold, selfish and calculating person who never shares money."}}
paraphrases: {{instructions: 2}}
option_orders: [original]
mode: score
template: {{answer_prefix: "Answer:"}}
decoding: {{temperature: 0, max_tokens: 24, seeds: [7]}}
""")
    out = tmp / "run"
    run_study(study, out, progress=False)
    return pm.read_run(out)


@pytest.fixture(scope="module")
def instruments(repo):
    return [pm.load_instrument(i) for i in ("bfi-44", "econ-games", "probes", "writing-task")] + \
        [pm.load_instrument(str(repo / "tests" / "behaviour" / "data" / "sjt-small.yaml"))]


def test_behaviour_scores_and_mtmm(run, instruments):
    games = run[run["instrument"] == "econ-games"]
    assert (games["mode"] == "generate").all() and len(games) == 4 * 3 * 2
    # the 135M model mostly answers the games with a parsable amount after the "Answer:" prefill
    assert (games["status"] == "ok").mean() >= 0.5, games[["item", "raw_text", "status"]].to_string()
    text = text_trait_scores(run, instruments, method="lexicon")
    assert len(text) == 3 * 2 * 5 and text["raw_text"].str.len().gt(0).all()
    scores = behaviour_scores(run, instruments, text=text)
    methods = scores.groupby("instrument")["method"].first()
    assert methods["bfi-44"] == "self-report" and methods["econ-games"] == "behaviour"
    a = scores[(scores["instrument"] == "econ-games") & (scores["scale"] == "A")]["score"]
    assert a.notna().sum() >= 3 and a.dropna().between(0, 1).all()
    sjt = scores[(scores["instrument"] == "sjt-small") & (scores["scale"] == "A")]["score"]
    assert sjt.notna().all() and len(sjt) == 6
    bb = belief_behaviour(run, instruments)
    assert set(bb["persona"]) <= {"none", "warm", "cold"} and bb["n_pairs"].sum() >= 3
    assert bb["agreement"].between(0, 1).all()
    long = mtmm_long(scores, instruments, by=SUBJECT)
    assert {"agreeableness", "conscientiousness"} <= set(long["trait"])
    res = pm.mtmm(long, subject=SUBJECT)
    assert res.matrix.shape[0] >= 4
    conv = res.convergent.set_index(["trait", "method1", "method2"])["r"]
    assert ("agreeableness", "bfi-44", "sjt-small") in conv.index
    assert np.isfinite(conv["agreeableness", "bfi-44", "sjt-small"])
    assert "Campbell-Fiske" in str(res.summary())


def test_rater_model_scores_the_texts(run, instruments):
    from psychometrika.backends import make_backend

    rater = make_backend("transformers", model="embedded")
    try:
        tt = text_trait_scores(run, instruments, method=["lexicon", "rater"], rater=rater,
                               rater_items=["bfi01", "bfi06", "bfi02", "bfi07"])
    finally:
        rater.close()
    r = tt[(tt["method"] == "rater") & tt["scale"].isin(["E", "A"]) & (tt["status"] == "ok")]
    assert len(r) >= 2 and r["score"].between(1, 5).all()
    # both methods' scores sit next to the same text
    both = tt.pivot_table(index=["persona", "instruction_id", "scale"], columns="method", values="score")
    assert {"lexicon", "rater"} <= set(both.columns)
