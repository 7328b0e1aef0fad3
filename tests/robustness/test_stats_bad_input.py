"""Bad data handed to the statistics functions ends in a clear ``DataError`` or in a result that comes with a
``PsychometrikaWarning`` saying what happened -- never an unrelated exception (ZeroDivisionError, LinAlgError,
IndexError ...) and never a NaN that nobody was told about."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError
from psychometrika.stats.common import PsychometrikaWarning


def _good(n: int = 120, k: int = 5, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    x = 0.7 * f[:, None] + rng.normal(scale=0.7, size=(n, k))
    return pd.DataFrame(np.clip(np.round(3 + x), 1, 5), columns=[f"i{j + 1}" for j in range(k)])


def _bad_inputs() -> dict[str, pd.DataFrame]:
    g = _good()
    const = g.copy()
    const["i3"] = 3.0
    nan = g.copy()
    nan["i2"] = np.nan
    one = g.iloc[:1].copy()
    text = g.astype(object).copy()
    text.loc[7, "i4"] = "three"
    singular = g.copy()
    singular["i5"] = singular["i1"]
    heywood = g.copy()  # two items that are near copies of each other: a one-factor loading above 1
    heywood["i2"] = heywood["i1"].where(np.arange(len(g)) % 40 != 0, heywood["i1"].clip(upper=4) + 1)
    return {"constant item": const, "all-NaN item": nan, "single respondent": one, "non-numeric cell": text,
            "singular correlations": singular, "near-Heywood": heywood}


FUNCTIONS = {
    "alpha": lambda d: pm.alpha(d),
    "omega": lambda d: pm.omega(d, nfactors=2),
    "fa": lambda d: pm.fa(d, nfactors=1),
    "fa_parallel": lambda d: pm.fa_parallel(d, n_iter=5, seed=1),
    "kmo": lambda d: pm.kmo(d),
    "bartlett": lambda d: pm.bartlett(d),
    "split_half": lambda d: pm.split_half(d),
    "guttman": lambda d: pm.guttman(d),
    "describe": lambda d: pm.describe(d),
    "polychoric": lambda d: pm.polychoric(d),
    "cfa": lambda d: pm.cfa("F =~ i1 + i2 + i3 + i4 + i5", d),
    "grm": lambda d: pm.grm(d),
}


#: inputs whose correlation matrix cannot be inverted, and the functions that need its inverse
INVERTING = ("constant item", "singular correlations")
NEEDS_INVERSE = ("fa", "omega", "kmo", "bartlett", "cfa", "fa_parallel")


def _nan_fields(obj, depth: int = 0) -> list[str]:
    """Names of result fields that hold a NaN (tables, arrays, numbers; one level into nested results)."""
    out = []
    fields = dataclasses.fields(obj) if dataclasses.is_dataclass(obj) else []
    items = [(f.name, getattr(obj, f.name)) for f in fields] if fields else [("value", obj)]
    for name, v in items:
        if isinstance(v, pd.Series):
            v = v.to_frame()
        if isinstance(v, pd.DataFrame):
            num = v.select_dtypes("number")
            if num.size and np.isnan(num.to_numpy(dtype=float)).any():
                out.append(name)
        elif isinstance(v, np.ndarray) and v.dtype.kind == "f" and np.isnan(v).any():
            out.append(name)
        elif isinstance(v, float) and math.isnan(v):
            out.append(name)
        elif dataclasses.is_dataclass(v) and depth == 0:
            out += [f"{name}.{x}" for x in _nan_fields(v, 1)]
    return out


@pytest.mark.parametrize("bad", list(_bad_inputs()))
@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_bad_data_gives_a_clear_error_or_a_warning(fn, bad):
    data = _bad_inputs()[bad]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = FUNCTIONS[fn](data)
        except DataError as exc:
            msg = str(exc)
            assert len(msg) > 20 and "Traceback" not in msg
            return
    ours = [str(w.message) for w in caught if issubclass(w.category, PsychometrikaWarning)]
    nans = _nan_fields(res)
    if bad in ("all-NaN item", "single respondent", "non-numeric cell") or \
            (bad in INVERTING and fn in NEEDS_INVERSE):
        assert ours, f"{fn} accepted {bad!r} silently (NaN in {nans})"
    elif nans:
        assert ours, f"{fn} returned NaN in {nans} for {bad!r} without saying why"
    text = res.summary() if hasattr(res, "summary") else str(res)
    assert isinstance(text, str) and text
