"""One CI column convention (issue 21): ``CI`` / ``CI_low`` / ``CI_high`` (``<estimate>_CI_low`` when a row holds
several estimates); the old names still read for one release with a DeprecationWarning, without duplicated columns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm


def _x(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(80, 1))
    return pd.DataFrame(f + rng.normal(size=(80, 4)), columns=list("abcd"))


def _tables() -> dict[str, tuple[pd.DataFrame, dict[str, str]]]:
    x = _x()
    long = pd.DataFrame({"score": np.r_[x["a"], x["b"]], "group": ["p"] * 80 + ["q"] * 80})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "icc": (pm.icc(x), {"lower": "CI_low", "upper": "CI_high"}),
            "cor_ci": (pm.cor_ci(x), {"ci_low": "CI_low", "ci_high": "CI_high"}),
            "alpha.ci": (pm.alpha(x).ci, {"lower": "CI_low", "upper": "CI_high"}),
            "compare_groups": (pm.compare_groups(long, "score", "group"),
                               {"d_ci_low": "d_CI_low", "g_ci_high": "g_CI_high"}),
        }


@pytest.mark.parametrize("name", ["icc", "cor_ci", "alpha.ci", "compare_groups"])
def test_new_names_and_deprecated_old_names(name):
    table, renamed = _tables()[name]
    assert not table.columns.duplicated().any()
    for old, new in renamed.items():
        assert new in table.columns and old not in table.columns
        with pytest.warns(DeprecationWarning, match=f"{old!r} was renamed {new!r}"):
            col = table[old]
        pd.testing.assert_series_equal(pd.Series(col), pd.Series(table[new]), check_names=False)
        with pytest.warns(DeprecationWarning):
            assert table.iloc[0][old] == table.iloc[0][new]                 # a row
        with pytest.warns(DeprecationWarning):
            assert table.loc[table.index[0], old] == table.loc[table.index[0], new]


def test_level_column_and_named_z():
    x = _x()
    out = pm.cor_ci(x["a"], x["b"], ci=0.9)
    assert out["CI"].iloc[0] == 0.9
    from psychometrika.stats.common import z_value
    assert z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-15)
    resp = pd.DataFrame({"model": "m", "n_options": 4, "chosen_position": np.arange(200) % 4, "status": "ok"})
    wide, narrow = pm.positional_bias(resp), pm.positional_bias(resp, ci=0.5)
    assert (narrow["CI_high"] - narrow["CI_low"] < wide["CI_high"] - wide["CI_low"]).all()
