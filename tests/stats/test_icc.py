"""psychometrika.stats.icc against psych::ICC (fixtures from tests/r/make_reference_lavaan_effects.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError
from psychometrika.stats.common import PsychometrikaWarning

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "icc_reference.json").read_text())
COLS = ["ICC", "F", "df1", "df2", "p", "CI_low", "CI_high"]
RCOLS = ["ICC", "F", "df1", "df2", "p", "lower bound", "upper bound"]


def _wide(case: str) -> pd.DataFrame:
    c = REF[case]
    return pd.DataFrame(c["x"], columns=c["cols"])


@pytest.mark.parametrize("case, ci", [("sf", 0.95), ("sf_90", 0.90), ("attitude", 0.95)])
def test_icc_matches_psych(case, ci):
    res = pms.icc(_wide(case), ci=ci)
    ref = pd.DataFrame(REF[case]["results"])
    assert list(res["type"]) == ref["type"].tolist()
    np.testing.assert_allclose(res[COLS].to_numpy(float), ref[RCOLS].to_numpy(float), atol=1e-6, rtol=1e-9)


def test_shrout_fleiss_published_values():
    """Shrout & Fleiss (1979), Table 4: .17 .29 .71 .44 .62 .91 for their 6 x 4 example."""
    res = pms.icc(_wide("sf"))
    np.testing.assert_allclose(res["ICC"].round(2), [0.17, 0.29, 0.71, 0.44, 0.62, 0.91])


def test_icc_equals_psych_lmer_default_for_complete_data():
    """psych's default (lmer = TRUE) agrees with the ANOVA estimates for complete data (up to lmer's optimizer)."""
    res = pms.icc(_wide("sf"))
    ref = pd.DataFrame(REF["sf_lmer"]["results"])
    np.testing.assert_allclose(res[COLS].to_numpy(float), ref[RCOLS].to_numpy(float), atol=1e-4)


def test_long_format_and_missing_targets():
    w = _wide("sf")
    long = w.rename_axis("target").reset_index().melt(id_vars="target", var_name="judge", value_name="rating")
    a = pms.icc(long, "target", "judge", "rating")
    np.testing.assert_allclose(a[COLS].to_numpy(float), pms.icc(w)[COLS].to_numpy(float), atol=1e-12)
    long.loc[0, "rating"] = np.nan
    with pytest.warns(PsychometrikaWarning, match="dropped"):
        b = pms.icc(long, "target", "judge", "rating")
    np.testing.assert_allclose(b[COLS].to_numpy(float), pms.icc(w.iloc[1:])[COLS].to_numpy(float), atol=1e-12)


def test_icc_errors():
    with pytest.raises(DataError, match="not in the data"):
        pms.icc(pd.DataFrame({"t": [1], "r": [1], "v": [1]}), "t", "rater", "v")
    with pytest.raises(DataError, match="at least 2 targets"):
        pms.icc(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    assert pm.icc is pms.icc
