"""psychometrika.stats.describe against R's psych::describe (fixtures from tests/r/make_reference_psych.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika.stats as pms
from psychometrika.errors import DataError
from psychometrika.stats.common import PsychometrikaWarning

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "psych_describe.json").read_text())


@pytest.mark.parametrize("case", ["bfi", "sat_act", "ability"])
def test_describe_matches_psych(case):
    c = REF[case]
    data = pd.read_csv(FIX / c["data"])
    res = pms.describe(data)
    ref = pd.DataFrame(np.array(c["table"]["values"], dtype=float), index=c["table"]["rows"],
                       columns=c["table"]["cols"])
    assert list(res.table.columns) == list(ref.columns)
    assert list(res.table.index) == list(ref.index)
    np.testing.assert_array_equal(res.table[["vars", "n"]].to_numpy(), ref[["vars", "n"]].to_numpy())
    np.testing.assert_allclose(res.table.to_numpy(dtype=float), ref.to_numpy(), rtol=1e-9, atol=1e-6)
    assert res["skew"].equals(res.skew)


def test_describe_errors_and_warnings():
    df = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": ["x", "y", "z"]})
    with pytest.raises(DataError, match="'b'"):
        pms.describe(df)
    with pytest.raises(DataError, match="no responses"):
        pms.describe(pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}))
    with pytest.warns(PsychometrikaWarning, match="'c'"):
        res = pms.describe(pd.DataFrame({"a": [1.0, 2.0, 4.0], "c": [3.0, 3.0, 3.0]}))
    assert res.table.loc["c", "mean"] == 3.0
    text = pms.describe(pd.DataFrame({"a": [1.0, 2.0, 4.0, 8.0]})).summary()
    assert "trimmed" in text and "kurtosis" in text
