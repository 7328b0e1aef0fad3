"""Ground truth for the whole pipeline: the REAL engine -> store -> scoring -> statistics on a simulated
population with known traits and item parameters (backend: simulated)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.backends import make_backend
from psychometrika.backends.base import ScoreRequest
from psychometrika.backends.simulated import simulate
from psychometrika.engine import run_study
from psychometrika.errors import BackendError
from psychometrika.tools.simulate import write_parameters

N_PERSONAS = 400
SHIFT_A = 0.8  # planted: "agreeable" personas have A one 0.8 SD higher


def _study(folder: Path, personas: list[tuple[str, str]], orders: str, params: Path, mode: str = "score") -> Path:
    (folder / "personas.yaml").write_text("".join(f"- {{id: {i}, text: \"{t}\"}}\n" for i, t in personas))
    study = folder / "study.yaml"
    study.write_text(f"""id: sim-{folder.name}
instruments: [bfi-25]
models: [{{id: population, backend: simulated, settings: {{parameters: {params}, seed: 7}}}}]
personas: {{include_none: false, file: personas.yaml}}
paraphrases: {{instructions: 1}}
option_orders: {orders}
mode: {mode}
""")
    return study


@pytest.fixture(scope="module")
def params(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "population.json"
    write_parameters(path, ["bfi-25"], personas={"(agreeable)": {"shift": {"A": SHIFT_A}},
                                                 "(first)": {"position_bias": 40.0},
                                                 "(yes)": {"acquiescence": 1.2}})
    return path


@pytest.fixture(scope="module")
def population_run(tmp_path_factory, params) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("pop")
    personas = [(f"p{i:03d}", f"Respondent {i:03d}{' (agreeable)' if i % 2 else ''}.") for i in range(N_PERSONAS)]
    rep = run_study(_study(folder, personas, "[original]", params), folder / "run", progress=False)
    assert rep.complete and rep.written == N_PERSONAS * 25
    return pm.read_run(folder / "run")


@pytest.fixture(scope="module")
def bfi25():
    return pm.load_instrument("bfi-25")


def _keyed(raw: pd.DataFrame, ins) -> pd.DataFrame:
    out = raw.copy()
    for c in out:
        if ins.item(c).keyed < 0:
            out[c] = 7 - out[c]
    return out


def test_alpha_recovers_the_population_value(population_run, params, bfi25):
    wide = pm.to_wide(pm.item_scores(population_run, bfi25))
    half = 5_000  # the population: half the personas planted agreeable, as in the study
    pop = pd.concat([simulate(params, half, seed=1), simulate(params, half, seed=2, persona_text="(agreeable)")])
    pop = _keyed(pop, bfi25)
    for scale in ("A", "C", "E", "N", "O"):
        cols = bfi25.scale_items()[scale]
        est = pm.alpha(wide[cols])
        truth = float(pm.alpha(pop[cols]).total["raw_alpha"])
        lo, hi = est.ci.loc["Feldt", ["CI_low", "CI_high"]]
        assert lo <= truth <= hi, (scale, truth, lo, hi)


def test_factor_congruence_with_planted_loadings(population_run, params, bfi25):
    wide = pm.to_wide(pm.item_scores(population_run, bfi25))
    fit = pm.fa(wide, nfactors=5, rotate="oblimin")
    truth = json.loads(Path(params).read_text())
    planted = pd.DataFrame({i: spec["loadings"] for i, spec in truth["items"].items()}).T.fillna(0.0)
    # to_wide holds reverse-keyed scores: the planted loadings of raw answers change sign on reversed items
    planted = planted.loc[wide.columns].mul([bfi25.item(i).keyed for i in wide.columns], axis=0)
    cong = pm.congruence(fit.loadings, planted)
    best = cong.abs().max(axis=0)  # each planted factor's best-matching estimated factor
    assert (best >= 0.95).all(), best
    assert cong.abs().idxmax(axis=0).nunique() == 5  # a one-to-one match


def test_planted_persona_effect_within_its_ci(population_run, params, bfi25):
    scores = pm.scale_scores(population_run, bfi25)
    a = scores[scores.scale == "A"]
    agreeable = a.persona.map(lambda p: int(p[1:]) % 2 == 1)
    d = pm.cohen_d(a.score[agreeable], a.score[~agreeable])
    # population d of the A scale score (score-mode expected values), from a large fresh sample
    cols = bfi25.scale_items()["A"]
    hi = _keyed(simulate(params, 20_000, seed=3, persona_text="(agreeable)"), bfi25)[cols].mean(axis=1)
    lo = _keyed(simulate(params, 20_000, seed=4), bfi25)[cols].mean(axis=1)
    truth = (hi.mean() - lo.mean()) / np.sqrt((hi.var() + lo.var()) / 2)
    assert truth > 0.5
    assert float(d.CI_low.iloc[0]) <= truth <= float(d.CI_high.iloc[0]), (d, truth)


def test_planted_position_only_responder_is_screened_out(tmp_path, params):
    personas = [(f"p{i}", f"Respondent {i}.") for i in range(6)] + [("first", "Respondent 9 (first)."),
                                                                   ("yea", "Respondent 8 (yes).")]
    run_study(_study(tmp_path, personas, "[original, reversed]", params), tmp_path / "run", progress=False)
    df = pm.read_run(tmp_path / "run")
    table = pm.screen(df).set_index("persona")
    assert table.loc["first", "status"] == "invalid"
    assert table.loc["first", "position_only"] > 0.9
    assert table.loc["yea", "status"] == "suspect" and "acquiescence" in table.loc["yea", "reason"]
    assert (table.loc[[f"p{i}" for i in range(6)], "status"] == "valid").all()
    kept = pm.exclude_invalid(df)
    assert "first" not in set(kept.persona) and {"yea", "p0"} <= set(kept.persona)


def test_generate_mode_answers_with_labels(tmp_path, params):
    run_study(_study(tmp_path, [("p0", "Respondent 0."), ("p1", "Respondent 1.")], "[reversed]", params,
                     mode="generate"), tmp_path / "run", progress=False)
    df = pm.read_run(tmp_path / "run")
    assert set(df.status) == {"ok"} and df.raw_text.str.fullmatch(r"[1-6]").all()
    assert df.chosen_value.between(1, 6).all()


def test_unknown_prompt_fails_with_a_reason(params):
    be = make_backend("simulated", parameters=str(params))
    res = be.score([ScoreRequest("k", ({"role": "user", "content": "What is 2 + 2?"},), ("1", "2"))])
    assert res[0].error and "no item" in res[0].error
    with pytest.raises(BackendError, match="needs settings"):
        make_backend("simulated")
