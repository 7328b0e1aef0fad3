"""Response styles, polychoric correlations, ordinal reliability and expected-score reliability.

* :func:`response_styles` - acquiescence (ARS) from balanced keying, extreme (ERS) and midpoint (MRS)
  responding and acquiescence-corrected trait scores, per respondent.
* :func:`polychoric` - polychoric correlations and thresholds, equal to ``psych::polychoric``.
* :func:`ordinal_alpha`, :func:`ordinal_omega` - alpha / omega of the polychoric matrix
  (Zumbo, Gadermann & Zeisser, 2007), i.e. ``psych::alpha(polychoric(x)$rho)``.
* :func:`expected_vs_argmax_reliability` - for ``score`` mode: alpha of the probability-weighted
  expected item scores versus alpha of the argmax (chosen) scores, per scale.

References: Baumgartner, H. & Steenkamp, J.-B. E. M. (2001). Response styles in marketing research.
*Journal of Marketing Research* 38, 143–156. Soto, C. J. & John, O. P. (2017). The next Big Five
Inventory (BFI-2). *JPSP* 113, 117–143 (acquiescence-corrected scoring). Olsson, U. (1979).
Maximum likelihood estimation of the polychoric correlation coefficient. *Psychometrika* 44, 443–460.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.polynomial.legendre import leggauss
from scipy import optimize, stats

from psychometrika.errors import DataError

from ._common import StatsResult, as_item_frame, cor_smooth, fmt_frame, warn
from .reliability import AlphaResult, OmegaResult, alpha, alpha_ci, omega

__all__ = [
    "PolychoricResult",
    "expected_vs_argmax_reliability",
    "ordinal_alpha",
    "ordinal_omega",
    "polychoric",
    "response_styles",
]

#: Columns of the tidy response table that identify a respondent (as ``psychometrika.scoring``).
_RESPONDENT_COLUMNS = ("model", "persona", "instruction_id", "stem_id", "order_id", "label_scheme", "seed",
                       "repetition")


# ============================================================================ bivariate normal
_GL_X, _GL_W = leggauss(24)


def _bvn_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """Bivariate standard-normal CDF :math:`\\Phi_2(h, k; \\rho)` (vectorised, ±inf allowed).

    Plackett's identity :math:`\\partial\\Phi_2/\\partial\\rho = \\phi_2` integrated from 0 to
    :math:`\\rho` after the substitution :math:`r = \\sin t`, by composite Gauss-Legendre quadrature
    (8 panels x 24 nodes; absolute error < 1e-12 for :math:`|\\rho| \\le 0.9999`).
    """
    h = np.asarray(h, dtype=float)
    k = np.asarray(k, dtype=float)
    h, k = np.broadcast_arrays(h, k)
    out = stats.norm.cdf(h) * stats.norm.cdf(k)
    fin = np.isfinite(h) & np.isfinite(k)
    # infinite limits: Phi2(-inf, .) = 0, Phi2(inf, k) = Phi(k)
    out = np.where((h == -np.inf) | (k == -np.inf), 0.0, out)
    out = np.where((h == np.inf) & np.isfinite(k), stats.norm.cdf(k), out)
    out = np.where((k == np.inf) & np.isfinite(h), stats.norm.cdf(h), out)
    out = np.where((h == np.inf) & (k == np.inf), 1.0, out)
    if rho == 0 or not fin.any():
        return out
    top = math.asin(max(min(rho, 1.0), -1.0))
    edges = np.linspace(0.0, top, 9)
    hf, kf = h[fin], k[fin]
    acc = np.zeros(hf.shape)
    for lo, hi in itertools.pairwise(edges):
        t = (hi - lo) / 2 * _GL_X + (hi + lo) / 2
        s, c2 = np.sin(t), np.cos(t) ** 2
        expo = -(hf[..., None] ** 2 + kf[..., None] ** 2 - 2 * hf[..., None] * kf[..., None] * s) / (2 * c2)
        acc += (hi - lo) / 2 * np.sum(_GL_W * np.exp(expo), axis=-1)
    out = out.copy()
    out[fin] += acc / (2 * math.pi)
    return out


def _cell_probs(rho: float, rc: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """Probabilities of the cells of a bivariate normal cut at thresholds ``rc`` (rows), ``cc`` (cols)."""
    rcut = np.concatenate([[-np.inf], rc, [np.inf]])
    ccut = np.concatenate([[-np.inf], cc, [np.inf]])
    F = _bvn_cdf(rcut[:, None], ccut[None, :], rho)
    return F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]


def _poly_rho(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray) -> tuple[float, float]:
    """ML polychoric correlation for a (proportion) table given thresholds (psych's ``polyF``)."""
    def negll(r):
        P = _cell_probs(r, rc, cc)
        ok = P > 0
        return -float(np.sum(tab[ok] * np.log(P[ok])))
    res = optimize.minimize_scalar(negll, bounds=(-1.0, 1.0), method="bounded",
                                   options={"xatol": 1e-10, "maxiter": 500})
    return float(res.x), float(res.fun)


# ============================================================================ polychoric
class PolychoricResult(StatsResult):
    """Result of :func:`polychoric` (psych's ``poly`` object).

    Attributes
    ----------
    rho : DataFrame
        Polychoric correlation matrix (smoothed when not positive definite and ``smooth=True``).
    tau : DataFrame
        Thresholds per item (rows) on the standard-normal scale, ``qnorm`` of the cumulative
        proportions (``±inf`` for categories an item never uses).
    n_obs : int
    global_thresholds : bool
        Whether the pair-wise estimates used the items' marginal ("global") thresholds.
    """

    _title = "Polychoric correlations"

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)

    def _summary_lines(self, digits: int) -> list[str]:
        low = self.rho.where(np.tril(np.ones(self.rho.shape, dtype=bool)))
        return ["Call: polychoric(x = data)", "Polychoric correlations ", fmt_frame(low, digits), "",
                " with tau of ", fmt_frame(self.tau, digits)]


def polychoric(data: Any, correct: float = 0.5, smooth: bool = True, max_cat: int = 8) -> PolychoricResult:
    """Polychoric correlations by the two-step method, equal to ``psych::polychoric``.

    Step 1: each item's thresholds are :math:`\\tau_{jk} = \\Phi^{-1}(\\sum_{c \\le k} p_{jc})` from its
    marginal proportions (responses are shifted so that the smallest value over all items is 1).
    Step 2: for each pair, :math:`\\rho` maximises :math:`\\sum_{ab} n_{ab}\\log \\pi_{ab}(\\rho)`, where
    :math:`\\pi_{ab}` are the bivariate-normal probabilities of the cells cut at the thresholds
    (Olsson, 1979), over the pairwise-complete cross table.
    If the items have different numbers of categories, psych's non-"global" rule is used: per pair,
    empty rows/columns are dropped, empty cells are set to ``correct / n`` and the thresholds are
    re-estimated from the table's margins (with a warning naming the number of corrected cells).
    A non-positive-definite matrix is smoothed (psych's ``cor.smooth``) when ``smooth``.

    Items without variance are dropped with a warning. With 0/1 items the result is the
    tetrachoric correlation (ML, without psych's ``tetrachoric`` correction for continuity).

    Examples
    --------
    >>> pc = pm.polychoric(bfi[["N1", "N2", "N3", "N4", "N5"]])   # doctest: +SKIP
    >>> pc.rho.round(2)                                            # doctest: +SKIP
    """
    x = as_item_frame(data, what="data", min_rows=2, min_cols=2)
    vals = x.to_numpy()
    obs = vals[~np.isnan(vals)]
    if np.any(obs != np.round(obs)):
        raise DataError("polychoric needs integer-coded ordered categories",
                        hint="expected values from option probabilities are continuous: use pm.alpha on them")
    sd = x.std(ddof=1)
    bad = [c for c in x.columns if not (sd[c] > 0)]
    if bad:
        for c in bad:
            warn(f"item {c!r} had no variance and was deleted")
        x = x.drop(columns=bad)
        if x.shape[1] < 2:
            raise DataError("polychoric needs at least 2 items with variance")
    names = list(x.columns)
    xv = x.to_numpy()
    xmin = np.nanmin(xv)
    xv = xv - xmin + 1
    nvalues = int(np.nanmax(xv))
    if nvalues > max_cat:
        raise DataError(f"items have {nvalues} categories (> max_cat = {max_cat}); polychoric is probably "
                        "not needed", hint="raise max_cat to force it")
    item_max = np.nanmax(xv, axis=0)
    global_ = bool(np.all(item_max == item_max[0]))
    if not global_:
        warn("the items do not have an equal number of response alternatives; thresholds are estimated "
             "per pair (psych's global = FALSE)")
    nvar = len(names)
    tau = np.empty((nvar, nvalues - 1))
    codes = []
    for j in range(nvar):
        col = xv[:, j]
        ok = ~np.isnan(col)
        freq = np.bincount(col[ok].astype(int) - 1, minlength=nvalues)[:nvalues] / ok.sum()
        tau[j] = stats.norm.ppf(np.cumsum(freq)[:-1])
        codes.append(np.where(ok, col - 1, -1).astype(int))
    rho = np.eye(nvar)
    fixed = 0
    for i in range(nvar):
        for j in range(i):
            both = (codes[i] >= 0) & (codes[j] >= 0)
            tot = int(both.sum())
            if tot == 0:
                rho[i, j] = rho[j, i] = np.nan
                continue
            tab = np.zeros((nvalues, nvalues))
            np.add.at(tab, (codes[i][both], codes[j][both]), 1.0)
            tab /= tot
            if global_:
                r, _ = _poly_rho(tab, tau[i], tau[j])
            else:
                tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
                if correct > 0 and np.any(tab == 0):
                    fixed += 1
                    tab[tab == 0] = correct / tot
                if min(tab.shape) < 2:
                    r = np.nan
                else:
                    with np.errstate(invalid="ignore"):
                        rc = stats.norm.ppf(np.cumsum(tab.sum(axis=1))[:-1])
                        cc = stats.norm.ppf(np.cumsum(tab.sum(axis=0))[:-1])
                    r, _ = _poly_rho(tab, rc, cc)
            rho[i, j] = rho[j, i] = r
    if fixed and correct > 0:
        warn(f"{fixed} cells were adjusted for 0 values using the correction for continuity")
    if np.isnan(rho).any():
        warn("some correlations are missing; smoothing turned off")
    elif smooth:
        rho = cor_smooth(rho)
    return PolychoricResult(rho=pd.DataFrame(rho, index=names, columns=names),
                            tau=pd.DataFrame(tau, index=names, columns=[str(k + 1) for k in range(nvalues - 1)]),
                            n_obs=int(x.shape[0]), global_thresholds=global_)


def ordinal_alpha(data: Any, keys: Sequence[str] | None = None, check_keys: bool = False) -> AlphaResult:
    """Ordinal alpha: Cronbach's alpha of the polychoric correlation matrix (Zumbo et al., 2007).

    Equals ``psych::alpha(polychoric(x)$rho, keys = keys)`` (``total``: raw_alpha = std_alpha on a
    correlation matrix, G6, average_r, S/N, median_r); the Feldt CI uses the number of respondents.
    It estimates the reliability of the continuous latent responses, not of the observed sum score.

    Reference: Zumbo, B. D., Gadermann, A. M. & Zeisser, C. (2007). Ordinal versions of coefficients
    alpha and theta for Likert rating scales. *J. Modern Applied Statistical Methods* 6, 21–29.

    >>> pm.ordinal_alpha(bfi[["A1", "A2", "A3", "A4", "A5"]], keys=["A1"]).total["raw_alpha"]  # doctest: +SKIP
    """
    pc = polychoric(data)
    return alpha(pc.rho, keys=keys, check_keys=check_keys, n_obs=pc.n_obs)


def ordinal_omega(data: Any, nfactors: int = 3, fm: str = "minres") -> OmegaResult:
    """Ordinal omega: ``psych::omega`` (Schmid-Leiman omega_h and omega_t) of the polychoric matrix.

    >>> pm.ordinal_omega(bfi[items15], nfactors=3).omega_h   # doctest: +SKIP
    """
    pc = polychoric(data)
    return omega(pc.rho, nfactors=nfactors, fm=fm, n_obs=pc.n_obs)


# ============================================================================ response styles
def _is_tidy(data: Any) -> bool:
    return isinstance(data, pd.DataFrame) and "item" in data.columns and (
        "chosen_value" in data.columns or "expected_value" in data.columns or "value" in data.columns)


def _parse_style_keys(keys: Any, items: list[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """keys: {item: +1/-1} or psych keys list {scale: ["A2", "-A1", ...]} -> (item key, scale items)."""
    if keys is None:
        raise DataError("response_styles needs keys for a wide table",
                        hint="pass {item: 1 or -1} or {scale: ['item', '-reversed_item', ...]}")
    if isinstance(keys, pd.Series):
        keys = keys.to_dict()
    if not isinstance(keys, Mapping):
        raise DataError("keys must be a mapping {item: +1/-1} or {scale: [items, '-reversed']}")
    item_key: dict[str, int] = {}
    scales: dict[str, list[str]] = {}
    for k, v in keys.items():
        if isinstance(v, (int, float, np.integer, np.floating)):
            if v not in (1, -1):
                raise DataError(f"key of item {k!r} must be +1 or -1, got {v!r}")
            item_key[str(k)] = int(v)
        else:
            members = []
            for it in v:
                it = str(it)
                sign = -1 if it.startswith("-") else 1
                name = it[1:] if sign < 0 else it
                item_key[name] = sign
                members.append(name)
            scales[str(k)] = members
    missing = [i for i in item_key if i not in items]
    if missing:
        raise DataError(f"keys name item(s) not in the data: {missing}")
    return item_key, scales


def response_styles(data: Any, keys: Any = None, low: float | Mapping[str, float] | None = None,
                    high: float | Mapping[str, float] | None = None,
                    source: Literal["chosen", "expected"] = "chosen",
                    by: Sequence[str] | None = None) -> pd.DataFrame:
    """Response-style indices and acquiescence-corrected trait scores, one row per respondent.

    Parameters
    ----------
    data : DataFrame
        Either the tidy response table (``docs/response-table.md``: ``item``, ``keyed``, ``scale``,
        ``option_values``, ``chosen_value`` / ``expected_value``, ``probs``, ``status``; respondents are
        identified by ``by``, default the administration columns) or a wide table of RAW (not reversed)
        responses, respondents x items.
    keys : mapping, wide tables only
        ``{item: +1 or -1}`` or psych-style ``{scale: ["E1", "-E2", ...]}`` (``-`` = reverse keyed).
    low, high : response scale end points (wide tables; default: min and max over all items). The
        tidy table uses each item's ``option_values``.
    source : ``"chosen"`` (argmax / parsed answers; default) or ``"expected"`` (probability-weighted
        expected values) as the raw response of the tidy table.

    Returns
    -------
    DataFrame indexed by respondent with

    * ``n_items``, ``n_positive``, ``n_negative`` - answered items by keying direction;
    * ``acquiescence`` - balanced-keying acquiescence (ARS):
      :math:`\\tfrac12(\\bar d_{+} + \\bar d_{-})`, the mean deviation :math:`d = x - m` of the raw
      response from the scale midpoint :math:`m = (low + high)/2`, averaged over positively and
      negatively keyed items with equal weight (the trait cancels; NaN without reversed items);
    * ``acquiescence_all`` - :math:`\\bar d` over all items (the simple ARS);
    * ``ers`` - share of answers at either end point; ``mrs`` - share at the midpoint (items with an
      odd number of categories only); with option probabilities also ``ers_prob`` / ``mrs_prob``,
      the mean probability mass on the end / middle options;
    * per scale ``trait_<scale>`` - mean keyed score, and ``corrected_<scale>`` - mean keyed score of
      the acquiescence-corrected responses :math:`x - \\mathrm{ARS}` (ten Berge, 1999; Soto & John,
      2017); for a balanced scale both are equal, for an unbalanced one the correction removes the
      agreeing bias.

    Examples
    --------
    >>> rs = pm.response_styles(df[df.instrument == "bfi-44"])      # doctest: +SKIP
    >>> rs[["acquiescence", "ers", "mrs"]].describe()               # doctest: +SKIP
    """
    probs_info = None
    if _is_tidy(data):
        df = data
        if "status" in df:
            df = df[df["status"].eq("ok")]
        if df.empty:
            raise DataError("no answered (status 'ok') rows in the response table")
        keycols = list(by) if by is not None else [c for c in _RESPONDENT_COLUMNS if c in df.columns]
        missing = [c for c in keycols if c not in df.columns]
        if missing:
            raise DataError(f"response table lacks respondent column(s) {missing}")
        if "keyed" not in df:
            raise DataError("response table lacks the 'keyed' column")
        col = {"chosen": "chosen_value", "expected": "expected_value"}.get(source)
        if col is None:
            raise DataError(f"source must be 'chosen' or 'expected', got {source!r}")
        if col not in df and "value" in df:
            col = "value"
        if col not in df:
            raise DataError(f"response table has no column {col!r}")
        if "instrument" in df and df["instrument"].nunique() > 1:
            item_id = df["instrument"].astype(str) + ":" + df["item"].astype(str)
        else:
            item_id = df["item"].astype(str)
        df = df.assign(_item=item_id)
        index_cols = keycols if keycols else None
        if index_cols:
            wide = df.pivot_table(index=index_cols, columns="_item", values=col, aggfunc="first", dropna=False)
        else:
            wide = df.set_index("_item")[col].to_frame().T
        wide.columns.name = None
        meta = df.drop_duplicates("_item").set_index("_item")
        item_key = {i: int(meta.at[i, "keyed"]) for i in wide.columns}
        scales: dict[str, list[str]] = {}
        if "scale" in meta:
            for i in wide.columns:
                scales.setdefault(str(meta.at[i, "scale"]), []).append(i)
        if "option_values" in meta:
            lows = {i: float(np.min(meta.at[i, "option_values"])) for i in wide.columns}
            highs = {i: float(np.max(meta.at[i, "option_values"])) for i in wide.columns}
            catsets = {i: set(np.asarray(meta.at[i, "option_values"], dtype=float).tolist()) for i in wide.columns}
        else:
            vals = wide.to_numpy(dtype=float)
            lows = dict.fromkeys(wide.columns, float(np.nanmin(vals)))
            highs = dict.fromkeys(wide.columns, float(np.nanmax(vals)))
            catsets = None
        if "probs" in df and "option_values" in df:
            ends = []
            mids = []
            for rec in df[["probs", "option_values"]].itertuples(index=False):
                p = np.asarray(rec.probs, dtype=float)
                v = np.asarray(rec.option_values, dtype=float)
                if p.size != v.size or p.size == 0 or not np.isfinite(p).all() or p.sum() <= 0:
                    ends.append(np.nan)
                    mids.append(np.nan)
                    continue
                p = p / p.sum()
                ends.append(float(p[v == v.min()].sum() + p[v == v.max()].sum()))
                m = (v.min() + v.max()) / 2
                mids.append(float(p[v == m].sum()) if np.any(v == m) else np.nan)
            extra = df[keycols].copy() if keycols else pd.DataFrame(index=df.index)
            extra["ers_prob"] = ends
            extra["mrs_prob"] = mids
            probs_info = extra.groupby(keycols).mean() if keycols else extra.mean().to_frame().T
        x = wide.astype(float)
    else:
        x = as_item_frame(data, what="data", min_rows=1, min_cols=2)
        item_key, scales = _parse_style_keys(keys, list(x.columns))
        x = x[[c for c in x.columns if c in item_key]]
        vals = x.to_numpy()

        def _bound(b, fn):
            if b is None:
                return dict.fromkeys(x.columns, float(fn(vals)))
            if isinstance(b, Mapping):
                return {c: float(b[c]) for c in x.columns}
            return dict.fromkeys(x.columns, float(b))
        lows, highs = _bound(low, np.nanmin), _bound(high, np.nanmax)
        catsets = None
    items = list(x.columns)
    if not items:
        raise DataError("no keyed items to analyse")
    lo = np.array([lows[i] for i in items])
    hi = np.array([highs[i] for i in items])
    mid = (lo + hi) / 2
    sign = np.array([item_key[i] for i in items])
    X = x.to_numpy(dtype=float)
    ans = ~np.isnan(X)
    dev = X - mid
    pos, neg = sign > 0, sign < 0
    with np.errstate(invalid="ignore", divide="ignore"):
        n_pos = ans[:, pos].sum(axis=1)
        n_neg = ans[:, neg].sum(axis=1)
        mean_pos = np.nansum(np.where(ans[:, pos], dev[:, pos], 0), axis=1) / n_pos
        mean_neg = np.nansum(np.where(ans[:, neg], dev[:, neg], 0), axis=1) / n_neg
        acq = np.where((n_pos > 0) & (n_neg > 0), (mean_pos + mean_neg) / 2, np.nan)
        acq_all = np.nanmean(np.where(ans, dev, np.nan), axis=1) if ans.any() else np.full(X.shape[0], np.nan)
        n_ans = ans.sum(axis=1)
        extreme = ((X == lo) | (X == hi)) & ans
        ers = extreme.sum(axis=1) / n_ans
        has_mid = np.array([(catsets is None and float(m).is_integer() and (h - l) % 2 == 0)
                            or (catsets is not None and m in catsets[i]) for i, m, l, h in zip(items, mid, lo, hi)])
        mid_ans = ans & has_mid
        mrs = np.where(mid_ans.sum(axis=1) > 0, ((X == mid) & mid_ans).sum(axis=1) / mid_ans.sum(axis=1), np.nan)
    if not neg.any() or not pos.any():
        warn("acquiescence needs both positively and negatively keyed items (balanced keying); it is NaN")
    out = pd.DataFrame({"n_items": n_ans, "n_positive": n_pos, "n_negative": n_neg, "acquiescence": acq,
                        "acquiescence_all": acq_all, "ers": ers, "mrs": mrs}, index=x.index)
    if probs_info is not None:
        out = out.join(probs_info)
    keyed = np.where(sign < 0, lo + hi - X, X)
    corr_raw = X - np.nan_to_num(acq)[:, None]
    corr_raw = np.where(np.isnan(acq)[:, None], np.nan, corr_raw)
    corrected = np.where(sign < 0, lo + hi - corr_raw, corr_raw)
    for s, members in scales.items():
        idx = [items.index(m) for m in members if m in items]
        with np.errstate(invalid="ignore"):
            out[f"trait_{s}"] = np.nanmean(np.where(ans[:, idx], keyed[:, idx], np.nan), axis=1) \
                if idx else np.nan
            out[f"corrected_{s}"] = np.nanmean(np.where(ans[:, idx], corrected[:, idx], np.nan), axis=1) \
                if idx else np.nan
    return out


# ============================================================================ expected vs argmax
def _raw_alpha(m: np.ndarray) -> float:
    """Cronbach's alpha of complete cases, all items kept (constant items count in k)."""
    k = m.shape[1]
    if m.shape[0] < 2 or k < 2:
        return np.nan
    v_items = m.var(axis=0, ddof=1).sum()
    v_tot = m.sum(axis=1).var(ddof=1)
    if v_tot <= 0:
        return np.nan
    return float(k / (k - 1) * (1 - v_items / v_tot))


def expected_vs_argmax_reliability(responses: pd.DataFrame, keys: Mapping[str, Sequence[str]] | None = None,
                                   by: Sequence[str] | None = None) -> pd.DataFrame:
    """Reliability of probability-weighted expected item scores versus argmax (chosen) scores.

    In ``score`` mode every answer is a probability distribution over the options. The *expected*
    item score is :math:`\\sum_k p_k v_k` (``expected_value``), the *argmax* score the value of the
    most probable option (``chosen_value``; recomputed from ``probs`` when absent). Both are reverse
    keyed (``low + high - x`` for ``keyed == -1``, end points from ``option_values``) and, per scale,
    Cronbach's alpha :math:`\\alpha = \\frac{k}{k-1}(1 - \\sum s_i^2 / s_X^2)` is computed over the
    respondents that have every item of the scale in both versions (items without variance are kept
    and count in *k*). The difference ``alpha_expected - alpha_argmax`` shows how much reliability
    the discretisation to the argmax loses (or gains).

    Parameters
    ----------
    responses : the tidy response table (score mode rows; ``status`` other than ``ok`` dropped).
    keys : optional ``{scale: [item, "-reversed_item", ...]}``; default: the table's ``scale`` and
        ``keyed`` columns.
    by : respondent columns (default: the administration columns present).

    Returns
    -------
    DataFrame, one row per scale: ``n_respondents``, ``n_items``, ``alpha_expected`` (+ Feldt
    ``lower``/``upper``), ``alpha_argmax`` (+ CI), ``difference``, ``r_scores`` (correlation of the two
    scale scores), ``mean_expected``, ``mean_argmax``.

    Examples
    --------
    >>> pm.expected_vs_argmax_reliability(df[df.instrument == "bfi-44"])   # doctest: +SKIP
    """
    df = responses
    need = [c for c in ("item", "option_values") if c not in df]
    if need:
        raise DataError(f"response table lacks column(s) {need}")
    if "status" in df:
        df = df[df["status"].eq("ok")]
    if df.empty:
        raise DataError("no answered (status 'ok') rows in the response table")
    keycols = list(by) if by is not None else [c for c in _RESPONDENT_COLUMNS if c in df.columns]
    vals = [np.asarray(v, dtype=float) for v in df["option_values"]]
    if "expected_value" in df:
        expected = pd.to_numeric(df["expected_value"], errors="coerce").to_numpy(dtype=float)
    else:
        expected = np.full(len(df), np.nan)
    if "chosen_value" in df:
        argmax = pd.to_numeric(df["chosen_value"], errors="coerce").to_numpy(dtype=float)
    else:
        argmax = np.full(len(df), np.nan)
    if "probs" in df:
        for n, (p, v) in enumerate(zip(df["probs"], vals)):
            p = np.asarray(p, dtype=float) if p is not None else np.array([])
            if p.size == v.size and p.size and np.isfinite(p).all() and p.sum() > 0:
                if np.isnan(expected[n]):
                    expected[n] = float(p / p.sum() @ v)
                if np.isnan(argmax[n]):
                    argmax[n] = float(v[int(np.argmax(p))])
    lo = np.array([v.min() for v in vals])
    hi = np.array([v.max() for v in vals])
    if keys is None:
        if "keyed" not in df or "scale" not in df:
            raise DataError("response table lacks 'keyed'/'scale'; pass keys={scale: [items]}")
        sign = df["keyed"].to_numpy()
        membership = {str(s): sorted(set(g["item"].astype(str))) for s, g in df.groupby("scale")}
    else:
        sign_map, membership = _parse_style_keys(keys, sorted(set(df["item"].astype(str))))
        sign = df["item"].astype(str).map(sign_map).fillna(1).to_numpy()
    work = df[keycols + ["item"]].copy()
    work["item"] = work["item"].astype(str)
    work["e"] = np.where(sign == -1, lo + hi - expected, expected)
    work["m"] = np.where(sign == -1, lo + hi - argmax, argmax)
    if work.duplicated(keycols + ["item"]).any():
        raise DataError("duplicate (respondent, item) rows; add the distinguishing column to `by`")
    rows = []
    for scale, members in membership.items():
        sub = work[work["item"].isin(members)]
        if keycols:
            we = sub.pivot(index=keycols, columns="item", values="e")
            wm = sub.pivot(index=keycols, columns="item", values="m")
        else:
            raise DataError("the response table has no respondent columns")
        we, wm = we.reindex(columns=members), wm.reindex(columns=members)
        complete = we.notna().all(axis=1) & wm.notna().all(axis=1)
        E, M = we[complete].to_numpy(), wm[complete].to_numpy()
        n, k = E.shape
        a_e, a_m = _raw_alpha(E), _raw_alpha(M)
        ci_e = alpha_ci(a_e, n, k) if n > 1 and k > 1 and np.isfinite(a_e) else (np.nan, np.nan)
        ci_m = alpha_ci(a_m, n, k) if n > 1 and k > 1 and np.isfinite(a_m) else (np.nan, np.nan)
        se, sm = E.mean(axis=1) if n else np.array([]), M.mean(axis=1) if n else np.array([])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = float(np.corrcoef(se, sm)[0, 1]) if n > 2 and se.std() > 0 and sm.std() > 0 else np.nan
        rows.append({"scale": scale, "n_respondents": n, "n_items": k, "alpha_expected": a_e,
                     "lower_expected": ci_e[0], "upper_expected": ci_e[1], "alpha_argmax": a_m,
                     "lower_argmax": ci_m[0], "upper_argmax": ci_m[1], "difference": a_e - a_m,
                     "r_scores": r, "mean_expected": float(se.mean()) if n else np.nan,
                     "mean_argmax": float(sm.mean()) if n else np.nan})
    return pd.DataFrame(rows).set_index("scale")
