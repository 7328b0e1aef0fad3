"""Differential item functioning (DIF) by (ordinal) logistic regression.

For each item three nested cumulative-logit (proportional-odds) models are fitted, with the
matching variable :math:`M` (rest score, total score, IRT θ or any supplied score) and the group
:math:`G` (option order, paraphrase, persona, model, ...; dummy coded, ``G - 1`` columns):

1. :math:`\\operatorname{logit} P(Y \\le k) = \\alpha_k - \\beta_1 M`
2. :math:`\\ldots - \\beta_1 M - \\gamma' G`                           (uniform DIF)
3. :math:`\\ldots - \\beta_1 M - \\gamma' G - \\delta' (M \\times G)`   (non-uniform DIF)

Likelihood-ratio χ²: uniform = 2(LL₂ − LL₁), non-uniform = 2(LL₃ − LL₂), total = 2(LL₃ − LL₁), with
``G − 1``, ``G − 1`` and ``2(G − 1)`` degrees of freedom (Swaminathan & Rogers, 1990; Zumbo, 1999).
Effect sizes are differences of Nagelkerke's pseudo-R²,
:math:`R^2_N = (1 - e^{2(LL_0 - LL)/n}) / (1 - e^{2LL_0/n})`, classified as A (negligible),
B (moderate) or C (large) by Zumbo & Thomas (1997; ΔR² < .13, .13–.26, ≥ .26) or by Jodoin & Gierl
(2001; < .035, .035–.070, ≥ .070); only items with a significant total χ² are classed B or C.
For dichotomous items the model is ordinary logistic regression.

References: Swaminathan, H. & Rogers, H. J. (1990). *J. Educational Measurement* 27, 361–370.
Zumbo, B. D. (1999). *A Handbook on the Theory and Methods of DIF*. Ottawa: Department of National
Defense. Jodoin, M. G. & Gierl, M. J. (2001). *Applied Measurement in Education* 14, 329–349.
Validated against ``MASS::polr`` and ``glm`` (``tests/r/make_reference_irt.R``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit

from psychometrika.errors import DataError

from .common import StatsResult, as_item_frame, fmt_frame, small_blas, warn

__all__ = ["OrdinalLogitResult", "dif", "ordinal_logit"]

_CUTS = {"zumbo": (0.13, 0.26), "jodoin": (0.035, 0.070)}
#: |log-odds| beyond which a group coefficient signals (quasi-)complete separation rather than an estimate
_SEPARATION = 15.0


# ----------------------------------------------------------------------------- cumulative logit
def _cum_probs(alpha: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """P(Y = k), n x K, for the cumulative logit P(Y <= k) = F(alpha_k - eta) (tail-accurate)."""
    z = alpha[None, :] - eta[:, None]                        # n x (K-1)
    n = eta.size
    zu = np.hstack([z, np.full((n, 1), np.inf)])
    zl = np.hstack([np.full((n, 1), -np.inf), z])
    with np.errstate(invalid="ignore"):
        p = np.where(zl > 0, expit(-zl) - expit(-zu), expit(zu) - expit(zl))
    return np.maximum(p, np.finfo(float).tiny)


def _negll_grad(par: np.ndarray, y: np.ndarray, X: np.ndarray, K: int) -> tuple[float, np.ndarray]:
    """Negative log-likelihood and gradient; par = (alpha_1, log increments, beta)."""
    a = np.cumsum(np.concatenate([par[:1], np.exp(par[1:K - 1])]))
    beta = par[K - 1:]
    eta = X @ beta if X.shape[1] else np.zeros(y.size)
    P = _cum_probs(a, eta)
    n = y.size
    py = P[np.arange(n), y]
    z = a[None, :] - eta[:, None]
    f = expit(z) * expit(-z)                                # density at each cut, n x (K-1)
    fpad = np.hstack([np.zeros((n, 1)), f, np.zeros((n, 1))])  # cut k-1 (lower) and k (upper) of category k
    fu, fl = fpad[np.arange(n), y + 1], fpad[np.arange(n), y]
    # d log P_y / d alpha_m: +f_m/P if m = y (upper cut), -f_m/P if m = y - 1 (lower cut)
    ga = np.zeros(K - 1)
    np.add.at(ga, y[y < K - 1], fu[y < K - 1] / py[y < K - 1])
    np.add.at(ga, y[y > 0] - 1, -fl[y > 0] / py[y > 0])
    gb = -(X.T @ ((fu - fl) / py)) if X.shape[1] else np.zeros(0)
    # chain rule to the free parameters: a_m = a_1 + sum_{i<=m} exp(e_i)
    tail = np.cumsum(ga[::-1])[::-1]
    g_free = np.concatenate([[tail[0]], np.exp(par[1:K - 1]) * tail[1:], gb])
    return -float(np.sum(np.log(py))), -g_free


def _newton_polr(y: np.ndarray, X: np.ndarray, K: int, a: np.ndarray, b: np.ndarray,
                 max_iter: int = 100) -> np.ndarray | None:
    """Newton-Raphson with the exact Hessian of the cumulative-logit log-likelihood in (alpha, beta); steps
    are halved until the cut points stay ordered and the likelihood does not fall. Returns the parameters in
    :func:`_negll_grad`'s parametrisation (alpha_1, log increments, beta), or None if it does not converge."""
    n, q = y.size, X.shape[1]
    rows = np.arange(n)
    up, lo = y < K - 1, y > 0

    def parts(a, b):
        eta = X @ b if q else np.zeros(n)
        z = a[None, :] - eta[:, None]
        F, f = expit(z), expit(z) * expit(-z)
        d = f * (1 - 2 * F)                                   # f'
        pad = lambda m: np.hstack([np.zeros((n, 1)), m, np.zeros((n, 1))])  # noqa: E731
        fu, fl = pad(f)[rows, y + 1], pad(f)[rows, y]
        du, dl = pad(d)[rows, y + 1], pad(d)[rows, y]
        P = _cum_probs(a, eta)[rows, y]
        return fu, fl, du, dl, P

    def nll(a, b):
        eta = X @ b if q else np.zeros(n)
        return -float(np.sum(np.log(_cum_probs(a, eta)[rows, y])))

    cur = nll(a, b)
    for _ in range(max_iter):
        fu, fl, du, dl, P = parts(a, b)
        g = np.zeros(K - 1 + q)
        H = np.zeros((K - 1 + q, K - 1 + q))
        iu, il = y[up], y[lo] - 1
        np.add.at(g, iu, fu[up] / P[up])
        np.add.at(g, il, -fl[lo] / P[lo])
        huu = du / P - (fu / P) ** 2
        hll = -dl / P - (fl / P) ** 2
        hul = fu * fl / P ** 2
        np.add.at(H, (iu, iu), huu[up])
        np.add.at(H, (il, il), hll[lo])
        both = up & lo
        np.add.at(H, (y[both], y[both] - 1), hul[both])
        np.add.at(H, (y[both] - 1, y[both]), hul[both])
        if q:
            diff = (fu - fl) / P
            g[K - 1:] = -(X.T @ diff)
            hbb = (du - dl) / P - diff ** 2
            H[K - 1:, K - 1:] = (X * hbb[:, None]).T @ X
            hub = -du / P + fu * diff / P                    # d2 logP / d a_y d beta (times x)
            hlb = dl / P - fl * diff / P                     # d2 logP / d a_(y-1) d beta (times x)
            for m in range(K - 1):
                w = np.where(up & (y == m), hub, 0.0) + np.where(lo & (y - 1 == m), hlb, 0.0)
                H[m, K - 1:] = H[K - 1:, m] = X.T @ w
        try:
            step = np.linalg.solve(H, g)                      # H is the Hessian of the log-likelihood
        except np.linalg.LinAlgError:
            return None
        t = 1.0
        while t > 1e-10:
            na, nb = a - t * step[:K - 1], b - t * step[K - 1:]
            if np.all(np.diff(na) > 0):
                new = nll(na, nb)
                if np.isfinite(new) and new <= cur + 1e-12:
                    break
            t /= 2
        else:
            return None
        a, b, done = na, nb, cur - new < 1e-13 and np.max(np.abs(g)) < 1e-7
        cur = new
        if done or np.max(np.abs(t * step)) < 1e-11:
            return np.concatenate([a[:1], np.log(np.diff(a)), b])
    return None


@dataclass(repr=False, eq=False)
class OrdinalLogitResult(StatsResult):
    """Result of :func:`ordinal_logit` (``MASS::polr``): thresholds ``zeta``, slopes ``beta``, ``loglik``, ``n``,
    ``n_categories``, ``converged``. Reading it like the dict it used to be (``res["beta"]``) still works."""

    zeta: np.ndarray
    beta: np.ndarray
    loglik: float
    n: int
    n_categories: int
    converged: bool

    _title = "Proportional-odds logistic regression (MASS::polr)"

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        return [f.name for f in fields(self)]

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: ``term`` (``zeta1`` ... thresholds, ``x1`` ... slopes) and ``estimate``."""
        terms = [f"zeta{k + 1}" for k in range(len(self.zeta))] + [f"x{j + 1}" for j in range(len(self.beta))]
        return pd.DataFrame({"term": terms, "estimate": np.concatenate([self.zeta, self.beta])})

    def _summary_lines(self, digits: int) -> list[str]:
        return [fmt_frame(self.to_frame().set_index("term"), digits), "",
                f"Residual deviance: {-2 * self.loglik:.{digits}f}  (n = {self.n}, converged: {self.converged})"]


def ordinal_logit(y: Any, X: Any = None) -> OrdinalLogitResult:
    """Proportional-odds (cumulative logit) regression by maximum likelihood, as ``MASS::polr``.

    :math:`\\operatorname{logit} P(Y \\le k \\mid x) = \\zeta_k - x'\\beta`; ``y`` is coded by its sorted
    distinct values (two values give ordinary logistic regression with intercept ``-zeta``).
    Returns an :class:`OrdinalLogitResult` (``zeta``, ``beta``, ``loglik``, ``n``, ``n_categories``,
    ``converged``; ``res["beta"]`` still works).

    >>> ordinal_logit([1, 2, 2, 3, 3, 3], [[0.], [1.], [0.], [1.], [2.], [2.]])["loglik"]  # doctest: +SKIP
    """
    yv = np.asarray(y, dtype=float)
    levels = np.unique(yv)
    if levels.size < 2:
        raise DataError("the response has fewer than 2 distinct values")
    yc = np.searchsorted(levels, yv)
    K = levels.size
    Xm = np.zeros((yv.size, 0)) if X is None else np.asarray(X, dtype=float).reshape(yv.size, -1)
    freq = np.bincount(yc, minlength=K) / yc.size
    cum = np.clip(np.cumsum(freq)[:-1], 1e-6, 1 - 1e-6)
    a0 = np.log(cum / (1 - cum))
    start = np.concatenate([a0[:1], np.log(np.maximum(np.diff(a0), 1e-6)), np.zeros(Xm.shape[1])])
    # standardise predictors for the optimiser, transform back afterwards
    mu = Xm.mean(axis=0) if Xm.shape[1] else np.zeros(0)
    sd = Xm.std(axis=0) if Xm.shape[1] else np.zeros(0)
    sd = np.where(sd > 0, sd, 1.0)
    Xs = (Xm - mu) / sd
    par = _newton_polr(yc, Xs, K, a0, np.zeros(Xs.shape[1]))
    success = par is not None
    if par is None:  # fall back on quasi-Newton in the ordered parametrisation, then Newton-polish it
        res = optimize.minimize(_negll_grad, start, args=(yc, Xs, K), jac=True, method="BFGS",
                                options={"gtol": 1e-9, "maxiter": 2000})
        par, success = res.x, bool(res.success)
        for _ in range(5):
            g = _negll_grad(par, yc, Xs, K)[1]
            h = 1e-6
            H = np.empty((par.size, par.size))
            for i in range(par.size):
                e = np.zeros(par.size)
                e[i] = h
                H[:, i] = (_negll_grad(par + e, yc, Xs, K)[1] - _negll_grad(par - e, yc, Xs, K)[1]) / (2 * h)
            try:
                step = np.linalg.solve((H + H.T) / 2, g)
            except np.linalg.LinAlgError:
                break
            if _negll_grad(par - step, yc, Xs, K)[0] <= _negll_grad(par, yc, Xs, K)[0] + 1e-12:
                par = par - step
            if np.max(np.abs(step)) < 1e-10:
                break
    nll = _negll_grad(par, yc, Xs, K)[0]
    a = np.cumsum(np.concatenate([par[:1], np.exp(par[1:K - 1])]))
    beta_s = par[K - 1:]
    beta = beta_s / sd
    zeta = a + float(np.sum(beta * mu))
    return OrdinalLogitResult(zeta=zeta, beta=beta, loglik=float(-nll), n=int(yv.size), n_categories=K,
                              converged=bool(success or np.max(np.abs(_negll_grad(par, yc, Xs, K)[1])) < 1e-4))


def _nagelkerke(ll: float, ll0: float, n: int) -> float:
    return (1 - math.exp(2 * (ll0 - ll) / n)) / (1 - math.exp(2 * ll0 / n))


def _class(delta: float, significant: bool, cuts: tuple[float, float]) -> str:
    if not significant or delta < cuts[0]:
        return "A"
    return "B" if delta < cuts[1] else "C"


# ----------------------------------------------------------------------------- DIF
@small_blas
def dif(data: Any, group: Any, items: Sequence[str] | None = None,
        match: Literal["rest", "total", "theta"] | Any = "rest", alpha: float = 0.01,
        effect_size: Literal["zumbo", "jodoin"] = "jodoin", p_adjust: Literal["none", "holm", "bonferroni"] = "none",
        purify: bool = False, max_purify: int = 10) -> pd.DataFrame:
    """Logistic-regression DIF for every item: likelihood-ratio tests and ΔR² effect sizes.

    Parameters
    ----------
    data : DataFrame
        Respondents x items (ordered integer codes; e.g. ``pm.to_wide`` of keyed scores by
        administration). May also contain the ``group`` column.
    group : str or array-like
        Group of each respondent (a column name of ``data`` or values aligned with its rows), e.g. the
        option order (``order_id``) or instruction paraphrase. Two or more groups.
    items : items to test (default: every column except ``group``).
    match : ``"rest"`` (sum of the other items; default), ``"total"`` (sum of all items),
        ``"theta"`` (EAP estimate from a graded response model of all items) or an array of matching
        scores. Rows with any missing item or group are dropped (complete cases).
    alpha : significance level of the total χ² (2(G-1) df) that flags an item.
    effect_size : ``"jodoin"`` (Jodoin & Gierl: .035/.070) or ``"zumbo"`` (Zumbo & Thomas: .13/.26)
        cut-offs on ΔR² (model 3 vs 1) for the A/B/C class.
    p_adjust : multiplicity correction of the p-values across items (``holm``, ``bonferroni``).
    purify : iteratively recompute the rest/total score without the flagged items (not with θ or a
        supplied score), until the flags stop changing.

    Returns
    -------
    DataFrame, one row per item: ``n``, ``n_categories``, ``chi2_uniform``, ``p_uniform``,
    ``chi2_nonuniform``, ``p_nonuniform``, ``chi2_total``, ``p_total``, ``df_total``, ``r2_1``, ``r2_2``,
    ``r2_3`` (Nagelkerke), ``delta_r2_uniform`` (2 vs 1), ``delta_r2_nonuniform`` (3 vs 2),
    ``delta_r2_total`` (3 vs 1), ``beta_group`` (the uniform-DIF log-odds shift of model 2 per
    non-reference group; positive = higher responses in that group at equal matching score, first
    one for G > 2), ``flag`` (total p < alpha after adjustment) and ``class`` (A/B/C).

    Examples
    --------
    >>> wide = pm.to_wide(scored, by=["model", "order_id", "seed"]).reset_index()   # doctest: +SKIP
    >>> pm.dif(wide.drop(columns=["model", "seed"]), group="order_id")               # doctest: +SKIP
    """
    if isinstance(data, pd.DataFrame) and isinstance(group, str) and group in data.columns:
        g = data[group]
        frame = data.drop(columns=[group])
    else:
        frame = data
        if isinstance(group, str):
            raise DataError(f"group column {group!r} not found in data")
        g = pd.Series(np.asarray(group).reshape(-1))
    x = as_item_frame(frame, what="data", min_rows=4, min_cols=1 if not isinstance(match, str) else 2)
    if len(g) != len(x):
        raise DataError(f"group has {len(g)} values for {len(x)} respondents")
    g = pd.Series(np.asarray(g), index=x.index)
    items = list(x.columns) if items is None else [str(i) for i in items]
    bad = [i for i in items if i not in x.columns]
    if bad:
        raise DataError(f"items {bad} not in the data")
    if effect_size not in _CUTS:
        raise DataError(f"effect_size must be 'zumbo' or 'jodoin', got {effect_size!r}")
    keep = x.notna().all(axis=1) & g.notna()
    if not isinstance(match, str):
        m_all = np.asarray(match, dtype=float).reshape(-1)
        if m_all.size != len(x):
            raise DataError(f"match has {m_all.size} values for {len(x)} respondents")
        keep &= ~np.isnan(m_all)
    dropped = int((~keep).sum())
    if dropped:
        warn(f"{dropped} respondent(s) with a missing item, group or matching score were dropped (complete cases)")
    x = x[keep]
    g = g[keep]
    levels = list(pd.unique(g))
    if len(levels) < 2:
        raise DataError("DIF needs at least two groups", hint="check the group column")
    G = np.column_stack([(g == lv).to_numpy(dtype=float) for lv in levels[1:]])
    if isinstance(match, str):
        if match not in ("rest", "total", "theta"):
            raise DataError(f"match must be 'rest', 'total', 'theta' or an array, got {match!r}")
        if match == "theta":
            import warnings as _w

            from .irt import grm
            with _w.catch_warnings():
                _w.simplefilter("ignore")
                theta = grm(x, se=False).scores()["theta"].to_numpy()
    else:
        theta = np.asarray(match, dtype=float).reshape(-1)[keep.to_numpy()]
    X = x.to_numpy(dtype=float)
    anchor = np.ones(X.shape[1], dtype=bool)
    flagged_prev: set[str] | None = None
    for _ in range(max_purify if purify else 1):
        rows = []
        for it in items:
            j = list(x.columns).index(it)
            if isinstance(match, str) and match in ("rest", "total"):
                use = anchor.copy()
                if match == "rest":
                    use[j] = False
                else:
                    use[j] = True
                m = X[:, use].sum(axis=1)
            else:
                m = theta
            rows.append(_dif_item(X[:, j], m, G))
        out = pd.DataFrame(rows, index=items)
        out.index.name = "item"
        if p_adjust != "none":
            for col in ("p_uniform", "p_nonuniform", "p_total"):
                out[col] = _adjust(out[col].to_numpy(), p_adjust)
        out["flag"] = out["p_total"] < alpha
        flagged = set(out.index[out["flag"]])
        if not purify or not isinstance(match, str) or match == "theta" or flagged == flagged_prev:
            break
        flagged_prev = flagged
        anchor = np.array([c not in flagged for c in x.columns])
        if anchor.sum() < 2:
            warn("purification left fewer than 2 anchor items; stopped")
            break
    cuts = _CUTS[effect_size]
    out["class"] = [_class(d, f, cuts) for d, f in zip(out["delta_r2_total"], out["flag"])]
    separated = list(out.index[out["beta_group"].abs() > _SEPARATION])
    if separated:
        warn(f"item(s) {separated}: the group separates the responses (completely or almost) at equal matching "
             f"scores, so |beta_group| > {_SEPARATION:g} is not a finite estimate; the likelihood-ratio test and "
             "the flag remain valid, the size of beta_group is not")
    out.attrs.update({"groups": levels, "reference": levels[0], "match": match if isinstance(match, str)
                      else "supplied", "alpha": alpha, "effect_size": effect_size})
    return out


def _dif_item(y: np.ndarray, m: np.ndarray, G: np.ndarray) -> dict[str, float]:
    n = y.size
    m0 = ordinal_logit(y)
    m1 = ordinal_logit(y, m[:, None])
    m2 = ordinal_logit(y, np.column_stack([m, G]))
    m3 = ordinal_logit(y, np.column_stack([m, G, G * m[:, None]]))
    ll0, ll1, ll2, ll3 = (r["loglik"] for r in (m0, m1, m2, m3))
    dfg = G.shape[1]
    chi_u, chi_n, chi_t = max(2 * (ll2 - ll1), 0.0), max(2 * (ll3 - ll2), 0.0), max(2 * (ll3 - ll1), 0.0)
    r1, r2, r3 = (_nagelkerke(ll, ll0, n) for ll in (ll1, ll2, ll3))
    return {"n": n, "n_categories": m0["n_categories"], "chi2_uniform": chi_u, "p_uniform": stats.chi2.sf(chi_u, dfg),
            "chi2_nonuniform": chi_n, "p_nonuniform": stats.chi2.sf(chi_n, dfg), "chi2_total": chi_t,
            "p_total": stats.chi2.sf(chi_t, 2 * dfg), "df_total": 2 * dfg, "loglik_0": ll0, "loglik_1": ll1,
            "loglik_2": ll2, "loglik_3": ll3, "r2_1": r1, "r2_2": r2, "r2_3": r3, "delta_r2_uniform": r2 - r1,
            "delta_r2_nonuniform": r3 - r2, "delta_r2_total": r3 - r1, "beta_group": float(m2["beta"][1])}


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    k = p.size
    if method == "bonferroni":
        return np.minimum(p * k, 1.0)
    if method == "holm":
        order = np.argsort(p)
        adj = np.empty(k)
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, (k - rank) * p[i])
            adj[i] = min(running, 1.0)
        return adj
    raise DataError(f"p_adjust must be 'none', 'holm' or 'bonferroni', got {method!r}")
