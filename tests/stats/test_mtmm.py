"""Multitrait-multimethod analysis on synthetic data with a known correlation structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError

TRAITS, METHODS = ["E", "A", "C"], ["questionnaire", "sjt", "task"]
LT, LM, PHI = 0.7, 0.4, 0.3          # trait loading, method loading, trait intercorrelation


def _simulate(n: int = 3000, seed: int = 11) -> pd.DataFrame:
    """score = .7 trait + .4 method + error (unit variance): r(same trait, other method) = .49,
    r(other trait, same method) = .49 * .3 + .16 = .307, r(other trait, other method) = .147."""
    rng = np.random.default_rng(seed)
    cov = np.full((3, 3), PHI) + (1 - PHI) * np.eye(3)
    T = rng.multivariate_normal(np.zeros(3), cov, size=n)
    M = rng.normal(size=(n, 3))
    rows = []
    for ti, t in enumerate(TRAITS):
        for mi, m in enumerate(METHODS):
            e = rng.normal(scale=np.sqrt(1 - LT ** 2 - LM ** 2), size=n)
            s = LT * T[:, ti] + LM * M[:, mi] + e
            rows.append(pd.DataFrame({"model": "m", "persona": np.arange(n), "trait": t, "method": m, "score": s}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def res():
    return pms.mtmm(_simulate(), subject=("model", "persona"))


def test_matrix_layout_and_values(res):
    m = res.matrix
    assert m.shape == (9, 9)
    assert list(m.index)[:3] == [("A", "questionnaire"), ("C", "questionnaire"), ("E", "questionnaire")]
    assert m.loc[("E", "sjt"), ("E", "task")] == pytest.approx(LT ** 2, abs=0.04)
    assert m.loc[("E", "sjt"), ("A", "sjt")] == pytest.approx(LT ** 2 * PHI + LM ** 2, abs=0.04)
    assert m.loc[("E", "sjt"), ("A", "task")] == pytest.approx(LT ** 2 * PHI, abs=0.04)
    assert (res.n.to_numpy() == 3000).all()


def test_convergent_and_campbell_fiske(res):
    conv = res.convergent
    assert len(conv) == 9                     # 3 traits x 3 method pairs
    np.testing.assert_allclose(conv["r"], LT ** 2, atol=0.04)
    bm = res.block_means
    assert bm.iloc[0] == pytest.approx(0.49, abs=0.02)
    assert bm["heterotrait-monomethod"] == pytest.approx(0.307, abs=0.02)
    assert bm["heterotrait-heteromethod"] == pytest.approx(0.147, abs=0.02)
    d = res.discriminant.set_index("criterion")["proportion"]
    assert d.iloc[0] == 1.0 and d.iloc[1] == 1.0 and d.iloc[2] == 1.0
    assert res.discriminant["comparisons"].iloc[1] == 9 * 2 * 2      # 2 other traits x row and column
    assert "Campbell-Fiske" in str(res.summary())


def test_weak_validity_fails_criterion_3():
    """With a strong method factor (r within methods > validities) criterion 3 fails."""
    rng = np.random.default_rng(2)
    n = 2000
    T, M = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    rows = []
    for ti, t in enumerate(TRAITS):
        for mi, m in enumerate(METHODS[:2]):
            s = 0.3 * T[:, ti] + 0.8 * M[:, mi] + 0.5 * rng.normal(size=n)
            rows.append(pd.DataFrame({"pid": np.arange(n), "trait": t, "method": m, "score": s}))
    r = pms.mtmm(pd.concat(rows))
    d = r.discriminant.set_index("criterion")["proportion"]
    assert d.iloc[2] == 0.0
    assert d.iloc[1] == 1.0


def test_disattenuated(res):
    rel = {(t, m): 0.8 for t in TRAITS for m in METHODS}
    rel[("E", "task")] = 0.5
    dis = pms.mtmm(_simulate(), subject=("model", "persona"), reliabilities=rel).disattenuated
    m = res.matrix
    assert dis.loc[("E", "sjt"), ("E", "task")] == pytest.approx(m.loc[("E", "sjt"), ("E", "task")]
                                                                 / np.sqrt(0.8 * 0.5), abs=1e-12)
    assert dis.loc[("A", "sjt"), ("C", "sjt")] == pytest.approx(m.loc[("A", "sjt"), ("C", "sjt")] / 0.8, abs=1e-12)
    assert res.disattenuated is None
    with pytest.raises(DataError, match="no reliability"):
        pms.mtmm(_simulate(200), subject=("model", "persona"), reliabilities={("E", "sjt"): 0.8})


def test_mtmm_errors():
    df = _simulate(50)
    with pytest.raises(DataError, match="at least 2 traits and 2 methods"):
        pms.mtmm(df[df.method == "sjt"], subject="persona")
    with pytest.raises(DataError, match="not in the data"):
        pms.mtmm(df, trait="construct")
    assert pm.mtmm is pms.mtmm
