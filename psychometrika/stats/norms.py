"""Comparison of model scores with published human norms: :func:`compare_norms`,
:func:`loading_congruence`.

References
----------
Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.
Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*. Academic Press
(large-sample variance of a standardised mean difference). Lorenzo-Seva, U., & ten Berge, J. M. F.
(2006). Tucker's congruence coefficient as a meaningful index of factor similarity.
*Methodology, 2*, 57-64.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import renamed_columns, z_value
from psychometrika.stats.factor import congruence

__all__ = ["compare_norms", "loading_congruence"]


def _norm_table(norms: Any) -> pd.DataFrame:
    """Accept a DataFrame (scale, mean, sd, n), a dict {scale: {mean, sd, n}} or an object with
    ``.scales`` (instrument ``Norms``: items with ``scale mean sd n`` attributes)."""
    if hasattr(norms, "scales") and not isinstance(norms, (pd.DataFrame, Mapping)):
        rows = [{"scale": s.scale, "mean": s.mean, "sd": s.sd, "n": s.n, "source": getattr(s, "source", None)}
                for s in norms.scales]
        return pd.DataFrame(rows, columns=["scale", "mean", "sd", "n", "source"])
    if isinstance(norms, Mapping):
        rows = []
        for k, v in norms.items():
            if not isinstance(v, Mapping) or not {"mean", "sd"} <= set(v):
                raise DataError(f"norms for scale {k!r} need at least mean and sd")
            rows.append({"scale": k, "mean": v["mean"], "sd": v["sd"], "n": v.get("n", np.nan),
                         "source": v.get("source")})
        return pd.DataFrame(rows)
    if isinstance(norms, pd.DataFrame):
        t = norms.reset_index() if "scale" not in norms.columns else norms.copy()
        if "scale" not in t.columns:
            t = t.rename(columns={t.columns[0]: "scale"})
        need = [c for c in ("mean", "sd") if c not in t.columns]
        if need:
            raise DataError(f"the norms table lacks column(s) {need} (needs scale, mean, sd, n)")
        if "n" not in t.columns:
            t["n"] = np.nan
        if "source" not in t.columns:
            t["source"] = None
        return t[["scale", "mean", "sd", "n", "source"]]
    raise DataError("norms must be a DataFrame (scale, mean, sd, n), a dict or an instrument's norms")


def compare_norms(scores: pd.DataFrame, norms: Any, *, scale: str = "scale", value: str = "score",
                  ci: float = 0.95) -> pd.DataFrame:
    """Standardised differences between model scale scores and human norms.

    For each scale present in both: model ``n``, ``mean``, ``sd``; human ``human_mean``,
    ``human_sd``, ``human_n``; :math:`d = (m - \\mu)/\\sigma` (the model mean in human SD units)
    with a normal-approximation CI from
    :math:`\\operatorname{Var}(d) = s^2/(n\\sigma^2) + d^2/(2 n_h)` (sampling error of the model
    mean plus that of the human SD; the second term is dropped when ``human_n`` is unknown); a
    Welch t test of :math:`m = \\mu` with :math:`SE = \\sqrt{s^2/n + \\sigma^2/n_h}` (``t``, ``df``,
    ``p``; a one-sample t test when ``human_n`` is unknown); and ``percentile``, the human
    percentile of the model mean under normality, :math:`100\\,\\Phi(d)`.

    >>> pm.compare_norms(scale_scores, pm.load_instrument("bfi-44").norms)     # doctest: +SKIP
    """
    if not isinstance(scores, pd.DataFrame):
        raise DataError("compare_norms needs a long DataFrame of scale scores")
    for c in (scale, value):
        if c not in scores.columns:
            raise DataError(f"column {c!r} is not in the scores", hint=f"columns: {list(scores.columns)}")
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, got {ci!r}")
    nt = _norm_table(norms)
    z = z_value(ci)
    rows = []
    s = scores.assign(**{value: pd.to_numeric(scores[value], errors="coerce")}).dropna(subset=[value])
    for _, nr in nt.iterrows():
        x = s.loc[s[scale].astype(str) == str(nr["scale"]), value].to_numpy(float)
        if len(x) == 0:
            continue
        mu, sigma, nh = float(nr["mean"]), float(nr["sd"]), float(nr["n"]) if pd.notna(nr["n"]) else np.nan
        if not sigma > 0:
            raise DataError(f"human SD of scale {nr['scale']!r} must be positive")
        n = len(x)
        m = float(x.mean())
        sd = float(x.std(ddof=1)) if n > 1 else np.nan
        d = (m - mu) / sigma
        var = (sd ** 2 / (n * sigma ** 2) if n > 1 else np.nan) + (d ** 2 / (2 * nh) if np.isfinite(nh) else 0.0)
        se_d = math.sqrt(var) if np.isfinite(var) else np.nan
        if n > 1:
            if np.isfinite(nh):
                a, b = sd ** 2 / n, sigma ** 2 / nh
                se = math.sqrt(a + b)
                df = (a + b) ** 2 / (a ** 2 / (n - 1) + b ** 2 / (nh - 1)) if a + b > 0 else np.nan
            else:
                se, df = sd / math.sqrt(n), n - 1
            t = (m - mu) / se if se > 0 else np.nan
            p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else np.nan
        else:
            t = df = p = np.nan
        rows.append({"scale": nr["scale"], "n": n, "mean": m, "sd": sd, "human_mean": mu, "human_sd": sigma,
                     "human_n": nh, "d": d, "d_CI_low": d - z * se_d, "d_CI_high": d + z * se_d, "t": t, "df": df,
                     "p": p, "percentile": 100 * stats.norm.cdf(d), "source": nr.get("source")})
    if not rows:
        raise DataError("no scale of the scores has human norms", hint=f"norm scales: {list(nt['scale'])}")
    return renamed_columns(pd.DataFrame(rows), {"d_ci_low": "d_CI_low", "d_ci_high": "d_CI_high"})


def loading_congruence(loadings: Any, human_loadings: Any, *, procrustes: bool = False) -> pd.DataFrame:
    """Tucker congruence of a model's factor loadings with the human loading pattern.

    ``human_loadings`` is a DataFrame (items x factors) or the instrument norms' mapping
    ``{item: {factor: loading}}`` (missing entries are 0). Items are matched by name (only items
    in both are used); then :func:`congruence` (``psych::factor.congruence``) is applied, with an
    orthogonal Procrustes rotation of the model loadings towards the human ones if
    ``procrustes=True``. Returns the factors x human-factors matrix of φ; φ ≥ .95 is usually read
    as "equal", .85–.94 as "fair similarity" (Lorenzo-Seva & ten Berge, 2006).
    """
    if hasattr(loadings, "loadings") and not isinstance(loadings, pd.DataFrame):
        loadings = loadings.loadings
    if isinstance(human_loadings, Mapping):
        human_loadings = pd.DataFrame.from_dict(human_loadings, orient="index").fillna(0.0)
    if not isinstance(loadings, pd.DataFrame) or not isinstance(human_loadings, pd.DataFrame):
        raise DataError("loadings must be DataFrames with item names as the index (or a fa() result)")
    items = [i for i in loadings.index if i in human_loadings.index]
    if len(items) < 2:
        raise DataError(f"only {len(items)} item(s) are shared by the two loading matrices",
                        hint="item names (the index) must match")
    return congruence(loadings.loc[items], human_loadings.loc[items], procrustes=procrustes)
