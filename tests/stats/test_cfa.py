"""psychometrika.stats.cfa against R's lavaan 0.6 (fixtures from tests/r/make_reference_lavaan_effects.R).

Iterative results are compared at 1e-4 (lavaan stops its optimizer at about 1e-5 of the optimum,
psychometrika iterates to the exact optimum); z statistics, which scale estimates by 1/se, relative 1e-4.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError
from psychometrika.stats.common import PsychometrikaWarning

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "lavaan_cfa.json").read_text())
CASES = [k for k in REF if k != "versions"]
ITER = 1e-4
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _num(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _fit(case: str):
    c = REF[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        if "sample_cov" in c:
            names = c["sample_cov"]["names"]
            S = pd.DataFrame(c["sample_cov"]["values"], index=names, columns=names)
            return pms.cfa(c["model"], sample_cov=S, n_obs=c["n_obs"])
        data = pd.read_csv(FIX / c["data"])
        return pms.cfa(c["model"], data, group=c.get("group"), std_lv=bool(c.get("std_lv_model", False)))


FITS: dict = {}


def fit(case: str):
    if case not in FITS:
        FITS[case] = _fit(case)
    return FITS[case]


def test_hs39_headline_numbers():
    """The numbers of the issue (lavaan's HS39 3-factor model)."""
    fm = fit("hs").fit_measures()
    assert fm["chisq"] == pytest.approx(85.30552, abs=1e-5)
    assert fm["df"] == 24
    assert fm["cfi"] == pytest.approx(0.93056, abs=1e-5)
    assert fm["tli"] == pytest.approx(0.89584, abs=1e-5)
    assert fm["rmsea"] == pytest.approx(0.092121, abs=1e-6)
    assert fm["srmr"] == pytest.approx(0.065205, abs=1e-6)
    assert fm["rmsea_ci_lower"] == fm["rmsea.ci.lower"]


@pytest.mark.parametrize("case", CASES)
def test_fit_measures_match_lavaan(case):
    res = fit(case)
    assert res.converged
    fm = res.fit_measures()
    for name, ref in REF[case]["fit_measures"].items():
        ref = np.nan if ref is None else ref
        tol = ITER * max(1.0, abs(ref)) if name in ("chisq", "baseline.chisq", "logl", "unrestricted.logl", "aic",
                                                    "bic", "bic2") else ITER
        assert fm[name] == pytest.approx(ref, abs=tol, nan_ok=True), name


@pytest.mark.parametrize("case", CASES)
def test_parameter_estimates_match_lavaan(case):
    pe = fit(case).parameter_estimates()
    ref = REF[case]["parameters"]
    assert list(pe["lhs"]) == ref["lhs"] and list(pe["op"]) == ref["op"] and list(pe["rhs"]) == ref["rhs"]
    if "group" in ref:
        assert list(pe["group"]) == ref["group"]
    for col in ("est", "se", "pvalue", "ci.lower", "ci.upper"):
        np.testing.assert_allclose(pe[col].to_numpy(float), _num(ref[col]), atol=ITER, err_msg=col)
    np.testing.assert_allclose(pe["z"].to_numpy(float), _num(ref["z"]), rtol=ITER, err_msg="z")
    assert list(pe["label"]) == ref["label"] if "label" in ref else True


@pytest.mark.parametrize("case", CASES)
def test_standardized_solution_matches_lavaan(case):
    ss = fit(case).standardized_solution()
    ref = REF[case]["std_all"]
    for col in ("est.std", "se", "pvalue", "ci.lower", "ci.upper"):
        np.testing.assert_allclose(ss[col].to_numpy(float), _num(ref[col]), atol=ITER, err_msg=col)
    np.testing.assert_allclose(ss["z"].to_numpy(float), _num(ref["z"]), rtol=ITER)
    np.testing.assert_allclose(ss["std.lv"].to_numpy(float), _num(REF[case]["std_lv_solution"]["est.std"]),
                               atol=ITER)
    lv = fit(case).standardized_solution(type="std.lv")
    np.testing.assert_allclose(lv["est.std"].to_numpy(float), ss["std.lv"].to_numpy(float), atol=1e-12)


def test_multigroup_group_labels_and_sizes():
    res = fit("hs_school")
    assert res.group_labels == REF["hs_school"]["group_labels"]
    assert res.n_obs == REF["hs_school"]["nobs"]


def test_listwise_deletion_on_bfi():
    c = REF["bfi"]
    assert c["ntotal"] == 2436
    data = pd.read_csv(FIX / "bfi.csv")
    with pytest.warns(PsychometrikaWarning, match="listwise"):
        res = pms.cfa(c["model"], data)
    assert res.n_obs == [2436]
    assert res.n_dropped == len(data) - 2436


def test_covariance_input_equals_raw_data():
    hs = pd.read_csv(FIX / "holzinger.csv")
    a = pms.cfa(HS_MODEL, hs).fit_measures()
    b = pms.cfa(HS_MODEL, sample_cov=hs.cov(), n_obs=len(hs)).fit_measures()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-8, atol=1e-10)


def test_syntax_variants_give_the_same_model():
    hs = pd.read_csv(FIX / "holzinger.csv")
    base = pms.cfa(HS_MODEL, hs).fit_measures()["chisq"]
    alt = """
    # comments and continuation lines
    visual =~ x1 +
              x2 + x3          ! second comment style
    textual =~ 1*x4 + x5
             + x6 ; speed =~ x7 + x8 + x9
    """
    assert pms.cfa(alt, hs).fit_measures()["chisq"] == pytest.approx(base, rel=1e-9)
    # std.lv = TRUE is a reparameterisation: same fit
    assert pms.cfa(HS_MODEL, hs, std_lv=True).fit_measures()["chisq"] == pytest.approx(base, rel=1e-9)
    # freeing the marker and fixing the variance (NA* and 1*) is the same model again
    syn = ("visual =~ NA*x1 + x2 + x3\ntextual =~ NA*x4 + x5 + x6\nspeed =~ NA*x7 + x8 + x9\n"
           "visual ~~ 1*visual\ntextual ~~ 1*textual\nspeed ~~ 1*speed")
    assert pms.cfa(syn, hs).fit_measures()["chisq"] == pytest.approx(base, rel=1e-9)


def test_parse_lavaan_modifiers():
    terms = pms.parse_lavaan("f =~ 1*a + lab*b + NA*c + start(.5)*d\na ~~ 0*b")
    assert [(t.rhs, t.fixed, t.free, t.label) for t in terms] == [
        ("a", 1.0, None, ""), ("b", None, None, "lab"), ("c", None, True, ""), ("d", None, None, ""),
        ("b", 0.0, None, "")]


@pytest.mark.parametrize("model, match", [
    ("f ~ x1", "not supported"), ("f =~ x1 + x2\nf ~ x3", "not supported"), ("x1 ~~ x2", "no latent"),
    ("f =~ x1 + + x2", "empty term"), ("", "non-empty"), ("f =~ x1 + nope", "not columns"),
])
def test_bad_models_raise_clear_errors(model, match):
    hs = pd.read_csv(FIX / "holzinger.csv")
    with pytest.raises(DataError, match=match):
        pms.cfa(model, hs)


def test_summary_reads_like_lavaan():
    text = str(fit("hs").summary())
    for needle in ("Model Test User Model:", "Test statistic", "85.306", "Comparative Fit Index (CFI)", "0.931",
                   "RMSEA", "0.092", "SRMR", "0.065", "Latent Variables:", "visual =~", "Std.all", "   .x1"):
        assert needle in text, needle
    assert "Group 2 [Grant-White]" in str(fit("hs_school").summary())


def test_top_level_name():
    assert pm.cfa is pms.cfa
