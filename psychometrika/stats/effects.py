"""Effect sizes with confidence intervals exactly as R's ``effectsize`` computes them.

Functions: :func:`cohen_d`, :func:`hedges_g`, :func:`glass_delta` (noncentral-t CIs),
:func:`eta_squared`, :func:`omega_squared` (noncentral-F CIs, one-sided by default like
effectsize >= 0.7), :func:`cohen_h` (normal CI on the arcsine scale) and
:func:`compare_groups` (d and g for every pair of groups, for forest plots).

Each one-row result carries effectsize's column names: ``Cohens_d``/``Hedges_g``/``Glass_delta``/
``Cohens_h`` (or ``Eta2``, ``Eta2_partial``, ``Omega2``, ``Omega2_partial`` with a ``Parameter``
column), ``CI``, ``CI_low``, ``CI_high``. Where effectsize finds the noncentrality parameter with
``optim`` (Nelder-Mead), psychometrika solves the same equations with a root finder, so the two
agree to about 1e-6 (see ``docs/statistics.md``).

References
----------
Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.
Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*. Academic Press.
Steiger, J. H. (2004). Beyond the F test: Effect size confidence intervals and tests of close fit
in the analysis of variance and contrast analysis. *Psychological Methods, 9*, 164-182.
Ben-Shachar, M. S., Lüdecke, D., & Makowski, D. (2020). effectsize: Estimation of effect size
indices and standardized parameters. *Journal of Open Source Software, 5*(56), 2815.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from psychometrika.errors import DataError
from psychometrika.stats.common import renamed_columns, warn, z_value

__all__ = [
    "cohen_d",
    "cohen_h",
    "compare_groups",
    "eta_squared",
    "glass_delta",
    "hedges_g",
    "ncp_f_ci",
    "ncp_t_ci",
    "omega_squared",
]

_ALTERNATIVES = ("two.sided", "greater", "less")
#: Column names before the CI convention (``<estimate>_CI_low``); still readable for one release.
_OLD_PREFIXED_CI = {f"{e}_ci_{s}": f"{e}_CI_{s}" for e in ("d", "g") for s in ("low", "high")}


# ============================================================================ helpers
def _vector(x: Any, what: str) -> np.ndarray:
    if isinstance(x, (pd.DataFrame,)):
        if x.shape[1] != 1:
            raise DataError(f"{what} must be one column of numbers, got a table with {x.shape[1]} columns")
        x = x.iloc[:, 0]
    try:
        a = np.asarray(x, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must contain numbers only") from exc
    if np.isinf(a).any():
        raise DataError(f"{what} contains infinite values")
    return a


def _check_ci(ci: float | None, alternative: str) -> None:
    if ci is not None and not 0 < ci < 1:
        raise DataError(f"ci must be a level between 0 and 1 (e.g. 0.95), got {ci!r}")
    if alternative not in _ALTERNATIVES:
        raise DataError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")


def _ci_level(ci: float, alternative: str) -> float:
    """effectsize's ``.adjust_ci``: a one-sided interval uses the two-sided level 2ci - 1."""
    return ci if alternative == "two.sided" else 2 * ci - 1


#: Largest |noncentrality| for which scipy's noncentral t/F distributions are computed reliably; beyond it
#: the CDF is NaN and a CI root search is meaningless.
MAX_NONCENTRALITY = 5e4


class _NonFinite(Exception):
    """The CDF of the noncentral distribution is not finite during a CI root search."""


def _checked(f):
    def g(x: float) -> float:
        v = f(x)
        if not np.isfinite(v):
            raise _NonFinite(x)
        return v
    return g


def _solve(f, target_side_lo: float, target_side_hi: float, start: float) -> float:
    """Root of a decreasing function ``f`` (CDF minus target as a function of the noncentrality)."""
    f = _checked(f)
    lo, hi = start - 1.0, start + 1.0
    step = 1.0
    while f(lo) < 0:
        step *= 2
        lo -= step
    step = 1.0
    while f(hi) > 0:
        step *= 2
        hi += step
    return optimize.brentq(f, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500)


def _too_large(stat: str, value: float) -> DataError:
    return DataError(f"the {stat} statistic ({value:.4g}) is too large for a noncentral confidence interval: "
                     "the data have (almost) no variance relative to the effect",
                     hint="check for constant or near-constant groups; report the effect without a CI (ci=None)")


def ncp_t_ci(t: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """Noncentrality parameters bounding a ``level`` CI for an observed t (effectsize's ``.get_ncp_t``).

    Solves :math:`P(T_{df,\\delta} \\le t) = 1 - \\alpha/2` (lower) and :math:`= \\alpha/2`
    (upper) for δ (Steiger, 2004).
    """
    if not np.isfinite(t) or not np.isfinite(df) or df <= 0:
        return float("nan"), float("nan")
    if abs(t) > MAX_NONCENTRALITY:
        raise _too_large("t", t)
    a = 1 - level
    try:
        lo = _solve(lambda d: stats.nct.cdf(t, df, d) - (1 - a / 2), 0, 0, t)
        hi = _solve(lambda d: stats.nct.cdf(t, df, d) - a / 2, 0, 0, t)
    except _NonFinite:
        raise _too_large("t", t) from None
    return lo, hi


def ncp_f_ci(f: float, df1: float, df2: float, level: float = 0.90) -> tuple[float, float]:
    """Noncentrality parameters bounding a ``level`` CI for an observed F (effectsize's ``.get_ncp_F``).

    Solves :math:`P(F_{df_1, df_2, \\lambda} \\le f) = 1 - \\alpha/2` (lower) and :math:`\\alpha/2`
    (upper) for λ ≥ 0; a bound is 0 when the observed F is below the corresponding central quantile.
    """
    if not (np.isfinite(f) and np.isfinite(df1) and np.isfinite(df2)):
        return float("nan"), float("nan")
    a = 1 - level
    probs = (a / 2, 1 - a / 2)

    if f * df1 > MAX_NONCENTRALITY:
        raise _too_large("F", f)

    def root(p: float) -> float:
        g = _checked(lambda lam: (stats.ncf.cdf(f, df1, df2, lam) if lam > 0 else stats.f.cdf(f, df1, df2)) - p)
        if g(0.0) <= 0:
            return 0.0
        hi = max(1.0, f * df1)
        while g(hi) > 0:
            hi *= 2
        return optimize.brentq(g, 0.0, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=500)

    try:
        lower, upper = root(probs[1]), root(probs[0])
    except _NonFinite:
        raise _too_large("F", f) from None
    if f <= stats.f.ppf(probs[0], df1, df2):
        upper = 0.0
    if f <= stats.f.ppf(probs[1], df1, df2):
        lower = 0.0
    return lower, upper


def _limit(out: dict[str, float], alternative: str, lb: float, ub: float) -> dict[str, float]:
    if alternative == "less":
        out["CI_low"] = lb
    elif alternative == "greater":
        out["CI_high"] = ub
    return out


# ============================================================================ standardized differences
#: A standard deviation at rounding level of the data's magnitude counts as no variance.
_SD_RELATIVE_ZERO = 1e-12


def _no_variance(s: float, *samples: np.ndarray) -> bool:
    scale = max([1.0] + [float(np.max(np.abs(a))) for a in samples if a is not None and a.size])
    return not s > _SD_RELATIVE_ZERO * scale


def _difference(x: Any, y: Any, *, kind: str, paired: bool, pooled_sd: bool, mu: float, ci: float | None,
                alternative: str) -> pd.DataFrame:
    _check_ci(ci, alternative)
    xa = _vector(x, "x")
    ya = None if y is None else _vector(y, "y")
    if paired and ya is not None:
        if len(xa) != len(ya):
            raise DataError(f"paired samples must have equal length, got {len(xa)} and {len(ya)}")
        keep = ~(np.isnan(xa) | np.isnan(ya))
        xa, ya = xa[keep], ya[keep]
    else:
        xa = xa[~np.isnan(xa)]
        if ya is not None:
            ya = ya[~np.isnan(ya)]
    if ya is None:
        if kind == "delta":
            raise DataError("Glass' delta needs two samples (x and the control group y)")
        ya = np.zeros_like(xa)
        paired = True
    if len(xa) < 2 or len(ya) < 2:
        raise DataError(f"each sample needs at least 2 non-missing values, got {len(xa)} and {len(ya)}")
    if paired:
        diff = xa - ya
        d = float(diff.mean())
        n = len(diff)
        s = float(diff.std(ddof=1))
        hn = 1 / n
        se = s / math.sqrt(n)
        df = n - 1
    else:
        d = float(xa.mean() - ya.mean())
        s1, s2 = float(xa.std(ddof=1)), float(ya.std(ddof=1))
        n1, n2 = len(xa), len(ya)
        if kind in ("d", "g"):
            if pooled_sd:
                s = math.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2))
                hn = 1 / n1 + 1 / n2
                se = s * math.sqrt(hn)
                df = n1 + n2 - 2
            else:
                s = math.sqrt((s1 ** 2 + s2 ** 2) / 2)
                hn = 2 * (n2 * s1 ** 2 + n1 * s2 ** 2) / (n1 * n2 * (s1 ** 2 + s2 ** 2))
                se1, se2 = s1 / math.sqrt(n1), s2 / math.sqrt(n2)
                se = math.sqrt(se1 ** 2 + se2 ** 2)
                df = se ** 4 / (se1 ** 4 / (n1 - 1) + se2 ** 4 / (n2 - 1))
        else:
            if _no_variance(s2, ya):
                raise DataError("the control group (y) has no variance, so Glass' delta is undefined")
            s = s2
            hn = 1 / n2 + s1 ** 2 / (n1 * s2 ** 2)
            se = s2 * math.sqrt(hn)
            df = n2 - 1
    if _no_variance(s, xa, ya):
        raise DataError("the standard deviation is 0, so the standardized difference is undefined",
                        hint="constant groups (e.g. every answer the same) have no standardized effect size")
    name = {"d": "Cohens_d", "g": "Hedges_g", "delta": "Glass_delta"}[kind]
    out: dict[str, float] = {name: (d - mu) / s}
    if ci is not None:
        out["CI"] = ci
        lo, hi = ncp_t_ci((d - mu) / se, df, _ci_level(ci, alternative))
        out["CI_low"] = lo * math.sqrt(hn)
        out["CI_high"] = hi * math.sqrt(hn)
        out = _limit(out, alternative, -math.inf, math.inf)
    if kind == "g":
        J = math.exp(special.gammaln(df / 2) - math.log(math.sqrt(df / 2)) - special.gammaln((df - 1) / 2))
        for k in (name, "CI_low", "CI_high"):
            if k in out:
                out[k] = out[k] * J
    return pd.DataFrame([out])


def cohen_d(x: Any, y: Any = None, *, paired: bool = False, pooled_sd: bool = True, mu: float = 0.0,
            ci: float | None = 0.95, alternative: str = "two.sided") -> pd.DataFrame:
    """Cohen's d with the noncentral-t confidence interval of R's ``effectsize::cohens_d``.

    Two independent samples: :math:`d = (\\bar x - \\bar y - \\mu)/s_p` with the pooled SD
    :math:`s_p = \\sqrt{((n_1-1)s_1^2 + (n_2-1)s_2^2)/(n_1+n_2-2)}` (``pooled_sd=False``: the
    average-variance SD :math:`\\sqrt{(s_1^2+s_2^2)/2}` with Welch degrees of freedom). Paired
    samples or one sample (``y=None``): :math:`d_z = (\\overline{x-y} - \\mu)/s_{x-y}`.
    The CI inverts the noncentral t distribution of :math:`t = (\\bar x - \\bar y - \\mu)/SE`
    (Steiger, 2004) and rescales the bounding noncentralities by :math:`\\sqrt{1/n_1+1/n_2}`
    (resp. :math:`\\sqrt{1/n}`). Missing values are dropped (pairwise for paired data).

    Returns a one-row DataFrame ``Cohens_d, CI, CI_low, CI_high``.

    >>> pm.cohen_d(sleep_group1, sleep_group2)     # -0.83 [-1.74, 0.10]   # doctest: +SKIP
    """
    return _difference(x, y, kind="d", paired=paired, pooled_sd=pooled_sd, mu=mu, ci=ci, alternative=alternative)


def hedges_g(x: Any, y: Any = None, *, paired: bool = False, pooled_sd: bool = True, mu: float = 0.0,
             ci: float | None = 0.95, alternative: str = "two.sided") -> pd.DataFrame:
    """Hedges' g: Cohen's d (and its CI) times the exact small-sample correction
    :math:`J = \\Gamma(df/2) / (\\sqrt{df/2}\\,\\Gamma((df-1)/2))` (Hedges & Olkin, 1985), like
    ``effectsize::hedges_g``. Returns ``Hedges_g, CI, CI_low, CI_high``."""
    return _difference(x, y, kind="g", paired=paired, pooled_sd=pooled_sd, mu=mu, ci=ci, alternative=alternative)


def glass_delta(x: Any, y: Any, *, mu: float = 0.0, ci: float | None = 0.95,
                alternative: str = "two.sided") -> pd.DataFrame:
    """Glass' Δ: :math:`(\\bar x - \\bar y - \\mu)/s_y`, standardised by the SD of the control group
    ``y``; noncentral-t CI with :math:`df = n_y - 1` like ``effectsize::glass_delta``. Returns
    ``Glass_delta, CI, CI_low, CI_high``."""
    return _difference(x, y, kind="delta", paired=False, pooled_sd=True, mu=mu, ci=ci, alternative=alternative)


# ============================================================================ ANOVA effect sizes
def _anova_table(model: Any) -> pd.DataFrame:
    """Normalise a statsmodels ``anova_lm`` table, a fitted OLS model or a pingouin ANOVA table to
    columns Parameter, Sum_Squares, df (with a ``Residuals`` row)."""
    if hasattr(model, "model") and hasattr(model, "ssr") and hasattr(model, "df_resid"):
        from statsmodels.stats.anova import anova_lm
        model = anova_lm(model, typ=1)
    if not isinstance(model, pd.DataFrame):
        raise DataError("eta_squared/omega_squared need an ANOVA table (statsmodels anova_lm, pingouin anova) "
                        f"or a fitted statsmodels OLS model, got {type(model).__name__}")
    t = model.copy()
    cols = {c.lower(): c for c in t.columns}
    if "sum_sq" in cols and "df" in cols:
        out = pd.DataFrame({"Parameter": [str(i) for i in t.index], "Sum_Squares": t[cols["sum_sq"]].to_numpy(float),
                            "df": t[cols["df"]].to_numpy(float)})
    elif "ss" in cols and ("df" in cols or "ddof1" in cols) and "source" in cols:
        out = pd.DataFrame({"Parameter": t[cols["source"]].astype(str).to_numpy(),
                            "Sum_Squares": t[cols["ss"]].to_numpy(float),
                            "df": t[cols.get("df", cols.get("ddof1"))].to_numpy(float)})
    else:
        raise DataError("the ANOVA table needs sum-of-squares and df columns (statsmodels: sum_sq, df; "
                        "pingouin: Source, SS, DF)", hint=f"got columns {list(t.columns)}")
    out["Parameter"] = out["Parameter"].replace({"Residual": "Residuals", "Within": "Residuals",
                                                 "residual": "Residuals"})
    out = out[~out["Parameter"].isin(["Intercept", "(Intercept)", "Total"])]
    out = out[out["df"].notna()]
    if "Residuals" not in set(out["Parameter"]):
        raise DataError("the ANOVA table has no residual row (Residual/Residuals/Within)")
    return out.reset_index(drop=True)


def _anova_es(model: Any, *, kind: str, partial: bool, ci: float | None, alternative: str) -> pd.DataFrame:
    _check_ci(ci, alternative)
    tab = _anova_table(model)
    res = tab[tab["Parameter"] == "Residuals"]
    ss_res = float(res["Sum_Squares"].iloc[0])
    df_res = float(res["df"].iloc[0])
    ms_res = ss_res / df_res
    ss_total = float(tab["Sum_Squares"].sum())
    n = float(tab["df"].sum()) + 1
    eff = tab[tab["Parameter"] != "Residuals"].reset_index(drop=True)
    if len(eff) == 1 and partial:
        partial = False     # one-way: partial equals non-partial; effectsize returns the non-partial name
    ss, df = eff["Sum_Squares"].to_numpy(float), eff["df"].to_numpy(float)
    if kind == "eta":
        name = "Eta2_partial" if partial else "Eta2"
        es = ss / (ss + ss_res) if partial else ss / ss_total
    else:
        name = "Omega2_partial" if partial else "Omega2"
        es = (ss - df * ms_res) / (ss + (n - df) * ms_res) if partial else (ss - df * ms_res) / (ss_total + ms_res)
        es = np.maximum(es, 0.0)
    out = pd.DataFrame({"Parameter": eff["Parameter"], name: es})
    if ci is not None:
        level = _ci_level(ci, alternative)
        lows, highs = [], []
        for e, d in zip(es, df):
            e = max(0.0, float(e))
            f = (e / d) / ((1 - e) / df_res) if e < 1 else math.inf
            if not math.isfinite(f):
                raise DataError("the effect explains all the variance (residual sum of squares 0), so its "
                                "confidence interval is undefined",
                                hint="check for a constant outcome within groups; use ci=None for the estimate alone")
            lo, hi = ncp_f_ci(max(f, 0.0), d, df_res, level)
            lows.append(lo / (lo + df_res))
            highs.append(hi / (hi + df_res))
        out["CI"] = ci
        out["CI_low"] = lows
        out["CI_high"] = highs
        if alternative == "greater":
            out["CI_high"] = 1.0
        elif alternative == "less":
            out["CI_low"] = 0.0
    return out


def eta_squared(model: Any, *, partial: bool = True, ci: float | None = 0.95,
                alternative: str = "greater") -> pd.DataFrame:
    """(Partial) η² per ANOVA term, like ``effectsize::eta_squared`` of an ``aov`` model.

    :math:`\\eta^2 = SS_{effect}/SS_{total}`, :math:`\\eta^2_p = SS_{effect}/(SS_{effect} +
    SS_{error})`. ``model`` is a statsmodels ANOVA table (``anova_lm``, type I sums of squares
    like R's ``aov``), a fitted statsmodels OLS model (``anova_lm(typ=1)`` is taken) or a pingouin
    ANOVA table. The CI inverts the noncentral F distribution of
    :math:`F = (\\eta^2/df)/((1-\\eta^2)/df_{error})` and maps the noncentrality λ to
    :math:`\\lambda/(\\lambda + df_{error})`; as in effectsize the default interval is one-sided
    (``alternative="greater"``: level 2·ci − 1, upper bound 1). With one effect term the
    partial and non-partial values coincide and the column is ``Eta2``.

    Returns ``Parameter, Eta2_partial (or Eta2), CI, CI_low, CI_high``.

    >>> fit = smf.ols("mpg ~ C(cyl) * C(am)", mtcars).fit(); pm.eta_squared(fit)   # doctest: +SKIP
    """
    return _anova_es(model, kind="eta", partial=partial, ci=ci, alternative=alternative)


def omega_squared(model: Any, *, partial: bool = True, ci: float | None = 0.95,
                  alternative: str = "greater") -> pd.DataFrame:
    """(Partial) ω² per ANOVA term, like ``effectsize::omega_squared``.

    :math:`\\omega^2 = (SS_{eff} - df_{eff} MS_{err})/(SS_{total} + MS_{err})`,
    :math:`\\omega^2_p = (SS_{eff} - df_{eff} MS_{err})/(SS_{eff} + (N - df_{eff}) MS_{err})`
    (N = total df + 1), truncated at 0; CI as in :func:`eta_squared` (effectsize's convention).
    """
    return _anova_es(model, kind="omega", partial=partial, ci=ci, alternative=alternative)


# ============================================================================ proportions
def cohen_h(p1: Any, p2: Any, *, n1: int | None = None, n2: int | None = None, ci: float | None = 0.95,
            alternative: str = "two.sided") -> pd.DataFrame:
    """Cohen's h for two proportions, like ``effectsize::cohens_h``.

    :math:`h = 2\\arcsin\\sqrt{p_1} - 2\\arcsin\\sqrt{p_2}`; CI :math:`h \\pm z_{1-\\alpha/2}
    \\sqrt{1/n_1 + 1/n_2}` (normal approximation on the arcsine scale), limited to [−π, π].
    ``p1``/``p2`` are proportions (then ``n1``/``n2`` are needed for the CI) or two vectors of
    0/1 outcomes (their proportions of 1s and counts are used; NaN dropped). Returns ``Cohens_h, CI, CI_low, CI_high``.

    >>> pm.cohen_h(12 / 19, 6 / 13, n1=19, n2=13)      # 0.34 [-0.36, 1.05]   # doctest: +SKIP
    """
    _check_ci(ci, alternative)

    def prop(p: Any, n: int | None, what: str) -> tuple[float, int | None]:
        a = np.asarray(p, dtype=float)
        if a.ndim == 0:
            v = float(a)
            if not 0 <= v <= 1:
                raise DataError(f"{what} must be a proportion in [0, 1], got {v}")
            return v, n
        a = a[~np.isnan(a)]
        if not np.isin(a, (0.0, 1.0)).all():
            raise DataError(f"{what} given as data must contain only 0/1 (or True/False) outcomes")
        if len(a) == 0:
            raise DataError(f"{what} has no observations")
        return float(a.mean()), len(a)

    p1v, n1v = prop(p1, n1, "p1")
    p2v, n2v = prop(p2, n2, "p2")
    h = 2 * math.asin(math.sqrt(p1v)) - 2 * math.asin(math.sqrt(p2v))
    out: dict[str, float] = {"Cohens_h": h}
    if ci is not None:
        if not n1v or not n2v:
            raise DataError("the CI of Cohen's h needs the sample sizes n1 and n2 (or give 0/1 data)")
        z = z_value(_ci_level(ci, alternative))
        se = math.sqrt(0.25 * (1 / n1v + 1 / n2v))
        out.update(CI=ci, CI_low=h - z * 2 * se, CI_high=h + z * 2 * se)
        out = _limit(out, alternative, -math.pi, math.pi)
    return pd.DataFrame([out])


# ============================================================================ group comparisons
def compare_groups(df: pd.DataFrame, dv: str, group: str, *, ref: Any = None, paired_by: str | Sequence[str] | None = None,
                   ci: float = 0.95) -> pd.DataFrame:
    """Standardised mean differences for every pair of groups (or every group versus ``ref``).

    One row per comparison with ``group1`` (the compared group), ``group2`` (the reference or
    second group), ``n1 n2 mean1 mean2 sd1 sd2``, Cohen's ``d = (mean1 − mean2)/s_pooled`` with
    its noncentral-t CI (``d_CI_low``, ``d_CI_high``), Hedges' ``g`` with CI (``g_CI_low``,
    ``g_CI_high``; the old ``d_ci_low`` ... names still read, deprecated), Student's ``t``, ``df`` and two-sided ``p`` — exactly :func:`cohen_d` /
    :func:`hedges_g`. With ``paired_by`` (column(s) identifying the unit measured in every group,
    e.g. ``("persona", "seed")``) the comparison is paired on the units present in both groups:
    ``d`` is :math:`d_z` (mean difference / SD of differences) and ``n1 = n2`` = number of pairs.
    Pairs with fewer than 2 observations per group (or zero variance) get NaN effect sizes.

    >>> pm.compare_groups(scores, dv="score", group="persona", ref="none")   # doctest: +SKIP
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError("compare_groups needs a DataFrame")
    for c in (dv, group):
        if c not in df.columns:
            raise DataError(f"column {c!r} is not in the data", hint=f"columns: {list(df.columns)}")
    keys = [paired_by] if isinstance(paired_by, str) else list(paired_by or [])
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise DataError(f"paired_by column(s) {missing} are not in the data")
    data = df[[group, dv, *keys]].copy()
    data[dv] = pd.to_numeric(data[dv], errors="coerce")
    data = data.dropna(subset=[dv, group])
    levels = sorted(pd.unique(data[group]), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise DataError(f"column {group!r} needs at least 2 groups with data, got {len(levels)}")
    if ref is not None:
        if ref not in levels:
            raise DataError(f"reference group {ref!r} is not among the groups {levels}")
        pairs = [(lv, ref) for lv in levels if lv != ref]
    else:
        pairs = list(itertools.combinations(levels, 2))
    rows = []
    for a, b in pairs:
        xa = data[data[group] == a]
        xb = data[data[group] == b]
        if keys:
            wa = xa.groupby(keys, dropna=False)[dv].mean()
            wb = xb.groupby(keys, dropna=False)[dv].mean()
            both = wa.index.intersection(wb.index)
            x, y = wa.loc[both].to_numpy(float), wb.loc[both].to_numpy(float)
        else:
            x, y = xa[dv].to_numpy(float), xb[dv].to_numpy(float)
        row: dict[str, Any] = {"group1": a, "group2": b, "n1": len(x), "n2": len(y),
                               "mean1": float(np.mean(x)) if len(x) else np.nan,
                               "mean2": float(np.mean(y)) if len(y) else np.nan,
                               "sd1": float(np.std(x, ddof=1)) if len(x) > 1 else np.nan,
                               "sd2": float(np.std(y, ddof=1)) if len(y) > 1 else np.nan}
        nan = {k: np.nan for k in ("d", "d_CI_low", "d_CI_high", "g", "g_CI_low", "g_CI_high", "t", "df", "p")}
        try:
            d = cohen_d(x, y, paired=bool(keys), ci=ci).iloc[0]
            g = hedges_g(x, y, paired=bool(keys), ci=ci).iloc[0]
            tt = stats.ttest_rel(x, y) if keys else stats.ttest_ind(x, y)
            row.update(d=d["Cohens_d"], d_CI_low=d["CI_low"], d_CI_high=d["CI_high"], g=g["Hedges_g"],
                       g_CI_low=g["CI_low"], g_CI_high=g["CI_high"], t=float(tt.statistic),
                       df=float(len(x) - 1 if keys else len(x) + len(y) - 2), p=float(tt.pvalue))
        except DataError:
            row.update(nan)
        rows.append(row)
    out = renamed_columns(pd.DataFrame(rows), _OLD_PREFIXED_CI)
    if out["d"].isna().any():
        warn("some comparisons have fewer than 2 observations per group or no variance; their effect sizes are NaN")
    return out
