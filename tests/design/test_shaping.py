"""pm.shaping_validity: R's cor.test numbers, and a planted simulation through the whole pipeline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.backends.base import ModelInfo, ScoreResult
from psychometrika.design.personas import resolve_personas
from psychometrika.design.study import Study
from psychometrika.errors import DataError
from psychometrika.instruments.registry import load_instrument
from psychometrika.stats.shaping import spearman_ci, spearman_test

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"


@pytest.fixture(scope="module")
def ref():
    return json.loads((FIX / "shaping_reference.json").read_text())


def test_spearman_matches_r_cor_test(ref):
    d = pd.read_csv(FIX / "shaping_data.csv")
    for name, x, y in (("on", d.level, d.score_on), ("off", d.level, d.score_off),
                       ("highlow", ref["highlow"]["x"], ref["highlow"]["y"])):
        want = ref[name]
        got = spearman_test(x, y)
        assert got["n"] == want["n"]
        for k in ("rho", "S", "p"):
            assert got[k] == pytest.approx(want[k], rel=1e-10, abs=1e-14), (name, k)
        assert [got["CI_low"], got["CI_high"]] == pytest.approx(want["ci_bonett_wright"], abs=1e-12)
        fl = spearman_test(x, y, method="fieller")
        assert [fl["CI_low"], fl["CI_high"]] == pytest.approx(want["ci_fieller"], abs=1e-12)
    assert math.isnan(spearman_ci(0.3, 3)[0])
    assert math.isnan(spearman_test([1, 1, 1, 1], [1, 2, 3, 4])["rho"])


# --------------------------------------------------------------------------- planted simulation
BFI = load_instrument("bfi-44")
TRAIT_OF = {"E": "extraversion", "A": "agreeableness", "C": "conscientiousness", "N": "neuroticism",
            "O": "openness"}


class PlantedShapingBackend:
    """Answers the BFI-44 as the persona's target levels dictate (a planted effect of known shape).

    Desired keyed score on scale S: ``3 + 1.5·z_S`` where ``z`` is the target level mapped to [-1, 1]
    (0 when the persona does not set that trait); agreeableness also leaks ``+0.6·z_E`` (a planted
    off-target effect of extraversion shaping). Log-probabilities peak at the desired raw answer.
    """

    def __init__(self, personas, levels):
        self.info = ModelInfo("planted", "dummy", "p" * 64)
        self.targets = {p.text: p.attributes for p in personas}
        self.levels = levels
        self.items = [(BFI.stem.replace("{text}", it.text), it) for it in BFI.items]

    def _z(self, attrs, trait):
        lvl = attrs.get(f"target_{trait}")
        if lvl is None:
            return 0.0
        k = self.levels[attrs["shaping_design"]]
        return (lvl - (k + 1) / 2) / ((k - 1) / 2)

    def score(self, reqs):
        out = []
        for r in reqs:
            first = r.messages[0]
            attrs = self.targets[first["content"]] if first["role"] == "system" else {}  # 'none': no system
            user = r.messages[-1]["content"]
            item = max((it for stem, it in self.items if stem in user), key=lambda it: len(it.text))
            scale = item.scale or next(s for s, ids in BFI.scale_items().items() if item.id in ids)
            want = 3 + 1.5 * self._z(attrs, TRAIT_OF[scale])
            if scale == "A":
                want += 0.6 * self._z(attrs, "extraversion")
            raw = want if item.keyed == 1 else 6 - want
            out.append(ScoreResult(r.key, [-2.0 * (int(c) - raw) ** 2 for c in r.continuations], 40, 0.0))
        return out

    def generate(self, reqs):  # pragma: no cover - score mode only
        raise NotImplementedError

    def count_tokens(self, messages):
        return 40

    def close(self):
        pass


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    from psychometrika.engine import run_study

    study = Study.model_validate({
        "id": "planted-shaping", "instruments": ["bfi-44"], "models": [{"id": "planted", "backend": "dummy"}],
        "personas": {"include_none": True, "shaping": [
            {"traits": ["E"], "levels": 9, "design": "single"},
            {"traits": ["E", "A", "C"], "levels": 3, "design": "concurrent", "id_prefix": "conc"}]}})
    personas = resolve_personas(study.personas)
    out = tmp_path_factory.mktemp("planted") / "run"
    run_study(study, out, progress=False,
              backend_factory=lambda spec: PlantedShapingBackend(personas, {"single": 9, "concurrent": 3}))
    df = pm.read_run(out)
    df.attrs["run_dir"] = out
    return df


def test_planted_simulation_recovers_rho_and_off_target_matrix(planted_run):
    df = planted_run
    assert df["persona"].nunique() == 1 + 9 + 27
    res = pm.shaping_validity(df, ["bfi-44"])
    rho = res.rho.set_index(["design", "trait"])
    assert rho.loc[("single", "extraversion"), "rho"] == pytest.approx(1.0)
    assert rho.loc[("single", "extraversion"), "n"] == 9
    for t in ("extraversion", "agreeableness", "conscientiousness"):
        assert rho.loc[("concurrent", t), "n"] == 27
    # E and C are planted on their own: with the full factorial their targets are balanced -> exactly 0 off
    mat = res.off_target("planted", "bfi-44", "concurrent")
    assert mat.loc["extraversion", "extraversion"] == pytest.approx(rho.loc[("concurrent", "extraversion"), "rho"])
    assert abs(mat.loc["agreeableness", "extraversion"]) < 1e-12
    assert abs(mat.loc["conscientiousness", "agreeableness"]) < 1e-12
    assert abs(mat.loc["extraversion", "conscientiousness"]) < 1e-12
    # unshaped traits are measured too (columns); the planted backend answers them at a constant 3 -> rho NaN
    assert list(mat.columns) == sorted(["extraversion", "agreeableness", "conscientiousness", "neuroticism",
                                        "openness"]) and mat["neuroticism"].isna().all()
    # the planted leak E -> A is recovered, and it is weaker than A's own shaping
    assert 0.2 < mat.loc["extraversion", "agreeableness"] < mat.loc["agreeableness", "agreeableness"]
    # the reference: Spearman of the planted persona-level means
    a_score = df[df.instrument.eq("bfi-44")].pipe(lambda d: pm.scale_scores(d, [BFI]))
    a_mean = a_score[(a_score.scale == "A") & a_score.persona.str.startswith("conc")].groupby("persona")["score"].mean()
    tgt = df.drop_duplicates("persona").set_index("persona")["persona_target_extraversion"].reindex(a_mean.index)
    assert mat.loc["extraversion", "agreeableness"] == pytest.approx(
        pd.Series(tgt.values).rank().corr(pd.Series(a_mean.values).rank()), abs=1e-12)
    mono = res.monotonicity.set_index(["design", "trait"])
    assert mono.loc[("single", "extraversion"), "monotone"] and mono.loc[("single", "extraversion"), "n_levels"] == 9
    levels = res.levels[(res.levels.design == "single")]
    assert levels["mean"].is_monotonic_increasing and levels["mean"].iloc[0] < 2 < 4 < levels["mean"].iloc[-1]
    acc = res.accuracy.set_index("trait")
    assert acc.loc["extraversion", "accuracy"] == 1.0 and acc.loc["extraversion", "n"] == 18
    assert set(res.accuracy["design"]) == {"concurrent"}
    frame = res.to_frame()
    assert {"rho", "CI_low", "CI_high", "p", "monotone", "accuracy", "design"} <= set(frame.columns)
    text = res.summary()
    assert "bonett-wright" in text and "Target (rows) x measured" in text


def test_shaping_validity_bad_input(planted_run):
    with pytest.raises(DataError, match="persona_target_"):
        pm.shaping_validity(planted_run.drop(columns=[c for c in planted_run if c.startswith("persona_target")]),
                            ["bfi-44"])
    with pytest.raises(DataError, match="ci must be"):
        pm.shaping_validity(planted_run, ["bfi-44"], ci=95)
    with pytest.raises(DataError, match="no shaped trait is measured"):
        pm.shaping_validity(planted_run, ["bfi-44"], scales={"extraversion": "nope"})
    fl = pm.shaping_validity(planted_run, ["bfi-44"], ci_method="fieller", threshold="midpoint")
    assert fl.ci_method == "fieller" and np.isfinite(fl.rho["CI_low"]).any()
