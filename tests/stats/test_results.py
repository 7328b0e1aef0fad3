"""Every statistics result is a dataclass with ``.to_frame()`` and ``.summary()`` (issue 21)."""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.stats.common import StatsResult

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
RESULT_CLASSES = sorted(n for n in pms.__all__ if inspect.isclass(getattr(pms, n))
                        and issubclass(getattr(pms, n), StatsResult))


def test_every_result_class_is_a_dataclass_without_dict_update():
    assert len(RESULT_CLASSES) >= 18
    for name in RESULT_CLASSES:
        cls = getattr(pms, name)
        assert dataclasses.is_dataclass(cls), name
        assert "__dict__.update" not in inspect.getsource(cls), name
        assert cls.to_frame is not StatsResult.to_frame, f"{name} has no to_frame()"


@pytest.fixture(scope="module")
def results() -> dict[str, StatsResult]:
    hs = pd.read_csv(FIX / "lavaan_hs_school.csv")
    x = hs[[f"x{i}" for i in range(1, 10)]]
    bfi = pd.read_csv(FIX / "bfi.csv")
    n5 = bfi[[f"N{i}" for i in range(1, 6)]].dropna().iloc[:400]
    m = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    rng = np.random.default_rng(3)
    long = pd.DataFrame([(p, i, float(rng.normal() + p % 3)) for p in range(20) for i in range(4)],
                        columns=["person", "item", "score"])
    scores = pd.DataFrame([(s, t, meth, float(rng.normal()))
                           for s in range(40) for t in ("A", "B") for meth in ("q", "b")],
                          columns=["subject", "trait", "method", "value"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "AlphaResult": pm.alpha(x), "SplitHalfResult": pm.split_half(x.iloc[:, :6]),
            "GuttmanResult": pm.guttman(x.iloc[:, :6]), "OmegaResult": pm.omega(x, nfactors=3),
            "ScoreItemsResult": pm.score_items(x, {"vis": ["x1", "x2", "x3"], "txt": ["x4", "x5", "x6"]}),
            "PolychoricResult": pm.polychoric(n5), "FactorResult": pm.fa(x, 3),
            "ParallelResult": pm.fa_parallel(x, n_iter=3, seed=1), "KMOResult": pm.kmo(x),
            "BartlettResult": pm.bartlett(x), "IRTResult": pm.grm(n5, se=False), "CFAResult": pm.cfa(m, x),
            "GStudyResult": pm.g_study(long, value="score", facets=("item",), object="person"),
            "InvarianceResult": pm.invariance(m, hs, "school", partial=False),
            "MTMMResult": pm.mtmm(scores, subject="subject", value="value"), "DescribeResult": pm.describe(x),
            "MardiaResult": pm.mardia(x), "CohenKappaResult": pm.cohen_kappa(n5.iloc[:, :2]),
            "OrdinalLogitResult": pm.ordinal_logit(n5["N1"], n5[["N2"]].to_numpy()),
        }


def test_every_result_has_a_table_and_a_summary(results):
    assert set(results) <= set(RESULT_CLASSES) and len(results) >= 19   # classes of other stages: first test
    for name, res in results.items():
        frame = res.to_frame()
        assert isinstance(frame, pd.DataFrame) and len(frame), name
        assert isinstance(res.summary(), str) and res.summary().strip(), name


def test_old_access_patterns_still_work(results):
    fit = results["OrdinalLogitResult"]
    assert fit["loglik"] == fit.loglik and set(fit.keys()) >= {"zeta", "beta", "loglik"}
    lo, hi = pm.alpha_ci(0.8, 200, 10)                 # still unpacks like the tuple it was
    assert lo < 0.8 < hi and pm.alpha_ci(0.8, 200, 10).CI_low == lo
    assert results["OmegaResult"].omega_t == results["OmegaResult"].omega_tot
