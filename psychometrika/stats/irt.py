"""Item response theory: the graded response model and the 2PL by marginal maximum likelihood.

Models (logistic metric, no scaling constant D; the latent trait is standard normal):

* **Graded response model** (Samejima, 1969), item *j* with categories ``0 .. K_j - 1``:
  :math:`P(X_j \\ge k \\mid \\theta) = \\sigma(a_j\\theta + d_{jk})` for ``k = 1 .. K_j - 1`` with
  intercepts :math:`d_{j1} > d_{j2} > \\dots`, and thresholds (difficulties)
  :math:`b_{jk} = -d_{jk}/a_j`. The category probability is the difference of adjacent
  cumulative probabilities.
* **2PL** (Birnbaum, 1968): the special case ``K_j = 2``: :math:`P(X_j = 1\\mid\\theta) =
  \\sigma(a_j\\theta + d_j) = \\sigma(a_j(\\theta - b_j))`. ``twopl(..., equal_slopes=True)`` is the
  Rasch (1PL) model with a common slope (= the SD of the Rasch trait).

Estimation (own numpy/scipy code): Bock & Aitkin's (1981) EM algorithm with Gauss–Hermite quadrature
(61 nodes by default). The E-step computes each respondent's posterior over the nodes and the expected
category counts per node; the M-step maximises the expected complete-data log-likelihood for all items
(L-BFGS, with the intercepts parameterised to stay ordered). Because EM converges only linearly, the
EM solution is finished by quasi-Newton (L-BFGS) and Newton steps on the marginal log-likelihood
(gradient by Fisher's identity, Hessian by central differences of the gradient); standard errors are the square roots of the diagonal of the inverse observed
information (delta method for ``b``). Missing responses (NaN) are ignored in the likelihood (MAR).

Validated against an independent R implementation (direct BFGS/Newton maximisation of the same
marginal likelihood, ``tests/r/make_reference_irt.R``), ``lme4::glmer`` (Rasch), ``eRm::RM`` (Rasch,
conditional ML) and by simulation recovery; see ``docs/statistics.md``.

References: Bock, R. D. & Aitkin, M. (1981). Psychometrika 46, 443–459. Samejima, F. (1969).
Psychometrika Monograph 17. Baker, F. B. & Kim, S.-H. (2004). *Item Response Theory: Parameter
Estimation Techniques* (2nd ed.).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize
from scipy.special import expit

from psychometrika.errors import DataError

from .common import small_blas, StatsResult, as_item_frame, fmt_frame, warn

__all__ = ["IRTResult", "grm", "twopl"]

_TINY = np.finfo(float).tiny


# ----------------------------------------------------------------------------- data coding
def _code_items(frame: pd.DataFrame, categories: Sequence[np.ndarray] | None = None
                ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Map each item's observed values to 0..K-1 (sorted); missing -> -1."""
    x = frame.to_numpy(dtype=float)
    codes = np.full(x.shape, -1, dtype=np.int64)
    cats: list[np.ndarray] = []
    for j, name in enumerate(frame.columns):
        col = x[:, j]
        obs = ~np.isnan(col)
        if categories is None:
            values = np.unique(col[obs])
            if values.size < 2:
                raise DataError(f"item {name!r} has fewer than 2 observed response categories",
                                hint="drop items without variance before fitting an IRT model")
        else:
            values = np.asarray(categories[j], dtype=float)
            unknown = set(np.unique(col[obs])) - set(values)
            if unknown:
                raise DataError(f"item {name!r} has values {sorted(unknown)} not seen when the model was fitted")
        codes[obs, j] = np.searchsorted(values, col[obs])
        cats.append(values)
    return codes, cats


def _cat_probs(a: float, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Category probabilities (K x len(theta)); tail-accurate differences, floored at the tiniest double."""
    z = a * theta[None, :] + d[:, None]
    inf = np.full((1, theta.size), np.inf)
    zu = np.vstack([inf, z])
    zl = np.vstack([z, -inf])
    with np.errstate(invalid="ignore"):
        p = np.where(zl > 0, expit(-zl) - expit(-zu), expit(zu) - expit(zl))
    return np.maximum(p, _TINY)


def _cum_weights(a: float, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``W_k = S_k (1 - S_k)`` padded with zero rows (K+1 x Q)."""
    s = expit(a * theta[None, :] + d[:, None])
    w = s * (1 - s)
    zero = np.zeros((1, theta.size))
    return np.vstack([zero, w, zero])


# ----------------------------------------------------------------------------- the model
class _Model:
    """Parameter bookkeeping: natural parameters (a_j, d_j1..) per item, optional common slope."""

    def __init__(self, n_cat: list[int], equal_slopes: bool):
        self.n_cat = n_cat
        self.equal_slopes = equal_slopes
        j_count = len(n_cat)
        self.a_index = np.zeros(j_count, dtype=int) if equal_slopes else np.arange(j_count)
        n_a = 1 if equal_slopes else j_count
        self.d_index: list[np.ndarray] = []
        pos = n_a
        for k in n_cat:
            self.d_index.append(np.arange(pos, pos + k - 1))
            pos += k - 1
        self.n_par = pos

    def unpack(self, par: np.ndarray) -> list[tuple[float, np.ndarray]]:
        return [(float(par[self.a_index[j]]), par[self.d_index[j]]) for j in range(len(self.n_cat))]

    def ordered(self, par: np.ndarray) -> bool:
        return all(np.all(np.diff(par[ix]) < 0) for ix in self.d_index)

    # ordered reparameterisation used in the M-step: d_1 = c, d_m = d_{m-1} - exp(e_m)
    def to_free(self, par: np.ndarray) -> np.ndarray:
        u = par.copy()
        for ix in self.d_index:
            d = par[ix]
            u[ix[1:]] = np.log(np.maximum(-np.diff(d), 1e-8))
        return u

    def from_free(self, u: np.ndarray) -> np.ndarray:
        par = u.copy()
        for ix in self.d_index:
            if ix.size > 1:
                par[ix[1:]] = u[ix[0]] - np.cumsum(np.exp(u[ix[1:]]))
        return par

    def grad_to_free(self, u: np.ndarray, g: np.ndarray) -> np.ndarray:
        gu = g.copy()
        for ix in self.d_index:
            gd = g[ix]
            tail = np.cumsum(gd[::-1])[::-1]          # sum_{m' >= m} dF/dd_m'
            gu[ix[0]] = tail[0]
            if ix.size > 1:
                gu[ix[1:]] = -np.exp(u[ix[1:]]) * tail[1:]
        return gu


class _Data:
    """Responses collapsed to unique patterns (with frequencies), plus index arrays per item."""

    def __init__(self, codes: np.ndarray, n_cat: list[int]):
        uniq, inverse, freq = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
        self.codes = uniq
        self.inverse = np.asarray(inverse).reshape(-1)
        self.freq = freq.astype(float)
        # per item: category index of each pattern, missing -> K_j (a zero row appended to log P)
        self.index = [np.where(uniq[:, j] >= 0, uniq[:, j], k) for j, k in enumerate(n_cat)]
        self.members = [[np.where(uniq[:, j] == c)[0] for c in range(k)] for j, k in enumerate(n_cat)]


def _loglik_matrix(model: _Model, par: np.ndarray, data: _Data, theta: np.ndarray) -> np.ndarray:
    L = np.zeros((data.codes.shape[0], theta.size))
    for j, (a, d) in enumerate(model.unpack(par)):
        lp = np.vstack([np.log(_cat_probs(a, d, theta)), np.zeros((1, theta.size))])
        L += lp[data.index[j]]                                     # patterns x Q
    return L


def _posterior(model, par, data: _Data, theta, logw) -> tuple[np.ndarray, float]:
    """Posterior over the nodes per pattern, and the marginal log-likelihood (frequency weighted)."""
    L = _loglik_matrix(model, par, data, theta) + logw[None, :]
    m = L.max(axis=1, keepdims=True)
    e = np.exp(L - m)
    tot = e.sum(axis=1, keepdims=True)
    norm = (m + np.log(tot))[:, 0]
    return e / tot, float(data.freq @ norm)


def _expected_counts(post: np.ndarray, data: _Data) -> list[np.ndarray]:
    wpost = post * data.freq[:, None]
    return [np.array([wpost[m].sum(axis=0) for m in members]) for members in data.members]   # K x Q


def _complete_ll_grad(model: _Model, par: np.ndarray, counts: list[np.ndarray], theta: np.ndarray
                      ) -> tuple[float, np.ndarray]:
    """Expected complete-data log-likelihood sum_jkq R log P and its gradient (natural parameters)."""
    f = 0.0
    g = np.zeros(model.n_par)
    for j, (a, d) in enumerate(model.unpack(par)):
        P = _cat_probs(a, d, theta)
        R = counts[j]
        f += float(np.sum(R * np.log(P)))
        RP = R / P                                          # K x Q
        W = _cum_weights(a, d, theta)                        # K+1 x Q
        g[model.a_index[j]] += float(np.sum(theta * np.sum(RP * (W[:-1] - W[1:]), axis=0)))
        # dP_k/dd_m = W_m (delta(k = m) - delta(k = m - 1)), m = 1..K-1
        g[model.d_index[j]] += np.sum(W[1:-1] * (RP[1:] - RP[:-1]), axis=1)
    return f, g


def _marginal_grad(model, par, data, theta, logw) -> tuple[float, np.ndarray]:
    """Marginal log-likelihood and its gradient (Fisher's identity: the posterior-expected score)."""
    post, ll = _posterior(model, par, data, theta, logw)
    return ll, _complete_ll_grad(model, par, _expected_counts(post, data), theta)[1]


def _numeric_hessian(model, par, data, theta, logw, h: float = 1e-5) -> np.ndarray:
    H = np.zeros((model.n_par, model.n_par))
    for i in range(model.n_par):
        e = np.zeros(model.n_par)
        e[i] = h
        gp = _marginal_grad(model, par + e, data, theta, logw)[1]
        gm = _marginal_grad(model, par - e, data, theta, logw)[1]
        H[:, i] = (gp - gm) / (2 * h)
    return (H + H.T) / 2


def _start_values(model: _Model, codes: np.ndarray) -> np.ndarray:
    par = np.zeros(model.n_par)
    x = np.where(codes >= 0, codes, np.nan).astype(float)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        total = np.nanmean(x / np.array([k - 1 for k in model.n_cat]), axis=1)
    slopes = []
    for j, k in enumerate(model.n_cat):
        obs = codes[:, j] >= 0
        freq = np.bincount(codes[obs, j], minlength=k) / obs.sum()
        upper = 1 - np.cumsum(freq)[:-1]                     # P(X >= k), k = 1..K-1
        upper = np.clip(upper, 1e-3, 1 - 1e-3)
        d = np.log(upper / (1 - upper))
        d = np.minimum.accumulate(d - np.arange(k - 1) * 1e-3)
        ok = obs & ~np.isnan(total)
        r = np.corrcoef(x[ok, j], total[ok])[0, 1] if ok.sum() > 2 else 0.5
        r = float(np.clip(np.nan_to_num(r, nan=0.5), 0.1, 0.9))
        slopes.append(1.7 * r / math.sqrt(1 - r * r))
        par[model.d_index[j]] = d * math.sqrt(1 + slopes[-1] ** 2 / 3.0)
    if model.equal_slopes:
        par[0] = float(np.mean(slopes))
    else:
        par[model.a_index] = slopes
    return par


def _fit(model: _Model, codes: np.ndarray, n_quad: int, max_iter: int, tol: float, se: bool) -> dict[str, Any]:
    theta, w = hermegauss(n_quad)
    w = w / w.sum()
    logw = np.log(w)
    data = _Data(codes, model.n_cat)
    par = _start_values(model, codes)
    u = model.to_free(par)
    n_iter = 0
    # 1) Bock-Aitkin EM
    for n_iter in range(1, max_iter + 1):
        post, ll = _posterior(model, par, data, theta, logw)
        counts = _expected_counts(post, data)

        def m_step(v, counts=counts):
            f, g = _complete_ll_grad(model, model.from_free(v), counts, theta)
            return -f, -model.grad_to_free(v, g)

        res = optimize.minimize(m_step, u, jac=True, method="L-BFGS-B", options={"maxiter": 100})
        change = float(np.max(np.abs(res.x - u)))
        u = res.x
        par = model.from_free(u)
        if change < tol:
            break

    # 2) quasi-Newton on the marginal likelihood from the EM solution (EM converges only linearly)
    def marginal(v):
        ll_v, g_v = _marginal_grad(model, model.from_free(v), data, theta, logw)
        return -ll_v, -model.grad_to_free(v, g_v)

    res = optimize.minimize(marginal, u, jac=True, method="L-BFGS-B",
                            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-7, "maxcor": 30})
    par = model.from_free(res.x)
    ll, g = _marginal_grad(model, par, data, theta, logw)
    cov = None
    if se or np.max(np.abs(g)) > 1e-4:
        # 3) Newton polish with the observed information (also the covariance of the estimates)
        H = _numeric_hessian(model, par, data, theta, logw)
        for _ in range(5):
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            cand = par - step
            if not model.ordered(cand):
                break
            ll_c, g_c = _marginal_grad(model, cand, data, theta, logw)
            if ll_c < ll - 1e-8:
                break
            par, ll, g = cand, ll_c, g_c
            if np.max(np.abs(step)) < 1e-10:
                break
        if se:
            try:
                cov = np.linalg.inv(-H)
                if np.any(np.diag(cov) <= 0):
                    warn("the information matrix is not positive definite (an item may be uninformative or "
                         "the model not identified); standard errors are unavailable")
                    cov = None
            except np.linalg.LinAlgError:
                warn("the information matrix is singular; standard errors are unavailable")
    max_g = float(np.max(np.abs(g)))
    converged = max_g < 1e-3
    if not converged:
        warn(f"IRT estimation did not converge (max |gradient| of the log-likelihood = {max_g:.3g}); "
             "estimates may be inaccurate", stacklevel=4)
    return {"par": par, "loglik": ll, "cov": cov, "n_iter": n_iter, "converged": converged,
            "theta": theta, "logw": logw, "max_gradient": max_g}


# ----------------------------------------------------------------------------- result
@dataclass(repr=False, eq=False)
class IRTResult(StatsResult):
    """Result of :func:`grm` / :func:`twopl`.

    Attributes
    ----------
    coef : DataFrame
        Per item: ``a`` (discrimination), ``d1 .. d{K-1}`` (intercepts, slope-intercept form) and
        ``b1 .. b{K-1}`` (thresholds :math:`b = -d/a`; for the 2PL ``d`` and ``b``).
    se : DataFrame
        Standard errors of the same columns (observed information; delta method for ``b``).
    categories : dict
        Item -> the response values coded 0, 1, ... (sorted observed values).
    loglik, aic, bic : float
        Marginal log-likelihood and information criteria (``n_par`` free parameters).
    n_obs, n_par, n_iter : int
    converged : bool
    """

    title: str
    call: str
    coef: pd.DataFrame
    se: pd.DataFrame | None
    vcov: np.ndarray | None
    items: list[str]
    categories: dict[str, list[Any]]
    loglik: float
    aic: float
    bic: float
    n_obs: int
    n_par: int
    n_iter: int
    converged: bool
    max_gradient: float
    n_quad: int
    equal_slopes: bool
    _model: Any = field(repr=False)
    _par: np.ndarray = field(repr=False)
    _cats: list[np.ndarray] = field(repr=False)
    _codes: np.ndarray = field(repr=False)
    _index: pd.Index = field(repr=False)
    _theta: np.ndarray = field(repr=False)
    _logw: np.ndarray = field(repr=False)

    @property
    def _title(self) -> str:  # type: ignore[override]
        return self.title

    # ------------------------------------------------------------------ model functions
    def _items(self):
        return self._model.unpack(self._par)

    def probabilities(self, theta: Sequence[float] | float) -> dict[str, pd.DataFrame]:
        """Category response probabilities: item -> DataFrame (theta x categories)."""
        th = np.atleast_1d(np.asarray(theta, dtype=float))
        out = {}
        for name, cats, (a, d) in zip(self.items, self._cats, self._items()):
            out[name] = pd.DataFrame(_cat_probs(a, d, th).T, index=pd.Index(th, name="theta"),
                                     columns=[f"P({c:g})" for c in cats])
        return out

    def item_information(self, theta: Sequence[float] | float) -> pd.DataFrame:
        """Item information :math:`I_j(\\theta) = \\sum_k P'_{jk}(\\theta)^2 / P_{jk}(\\theta)`
        (for the 2PL :math:`a^2 P (1 - P)`): DataFrame theta x items."""
        th = np.atleast_1d(np.asarray(theta, dtype=float))
        cols = {}
        for name, (a, d) in zip(self.items, self._items()):
            P = _cat_probs(a, d, th)
            W = _cum_weights(a, d, th)
            dP = a * (W[:-1] - W[1:])
            cols[name] = np.sum(dP ** 2 / P, axis=0)
        return pd.DataFrame(cols, index=pd.Index(th, name="theta"))

    def test_information(self, theta: Sequence[float] | float = np.linspace(-4, 4, 81)) -> pd.Series:
        """Test information :math:`I(\\theta) = \\sum_j I_j(\\theta)`; the conditional standard error of
        measurement is :math:`1/\\sqrt{I(\\theta)}`."""
        return self.item_information(theta).sum(axis=1).rename("information")

    def scores(self, data: Any = None, method: Literal["EAP", "MAP"] = "EAP") -> pd.DataFrame:
        """Trait estimates with standard errors, one row per respondent.

        ``EAP``: posterior mean and SD over the quadrature nodes (standard-normal prior);
        ``MAP``: posterior mode, SE :math:`1/\\sqrt{I(\\hat\\theta) + 1}` (Bock & Mislevy, 1982).
        ``data`` defaults to the data the model was fitted to (same item columns otherwise).
        """
        if data is None:
            codes, index = self._codes, self._index
        else:
            frame = as_item_frame(data, what="data", min_rows=1)
            missing = [c for c in self.items if c not in frame.columns]
            if missing:
                raise DataError(f"data lacks the fitted item column(s) {missing}")
            frame = frame[self.items]
            codes, _ = _code_items(frame, self._cats)
            index = frame.index
        method_u = method.upper()
        data_u = _Data(codes, self._model.n_cat)
        post, _ = _posterior(self._model, self._par, data_u, self._theta, self._logw)
        post = post[data_u.inverse]
        eap = post @ self._theta
        sd = np.sqrt(np.maximum(post @ self._theta ** 2 - eap ** 2, 0))
        if method_u == "EAP":
            return pd.DataFrame({"theta": eap, "se": sd}, index=index)
        if method_u != "MAP":
            raise DataError(f"method must be 'EAP' or 'MAP', got {method!r}")
        th = eap.copy()
        h = 1e-4
        items = self._items()

        def logpost(t):
            out = -t ** 2 / 2
            for j, (a, d) in enumerate(items):
                obs = codes[:, j] >= 0
                P = _cat_probs(a, d, t)                       # K x n
                out = out + np.where(obs, np.log(P[np.where(obs, codes[:, j], 0), np.arange(t.size)]), 0.0)
            return out
        for _ in range(50):
            f0, fp, fm = logpost(th), logpost(th + h), logpost(th - h)
            g1 = (fp - fm) / (2 * h)
            g2 = (fp - 2 * f0 + fm) / h ** 2
            step = np.where(g2 < 0, -g1 / np.minimum(g2, -1e-8), np.sign(g1) * 0.5)
            step = np.clip(step, -1, 1)
            th = th + step
            if np.max(np.abs(step)) < 1e-8:
                break
        # information of the answered items only
        info = np.zeros_like(th)
        for j, (a, d) in enumerate(items):
            obs = codes[:, j] >= 0
            P = _cat_probs(a, d, th)
            W = _cum_weights(a, d, th)
            info += np.where(obs, np.sum((a * (W[:-1] - W[1:])) ** 2 / P, axis=0), 0.0)
        return pd.DataFrame({"theta": th, "se": 1 / np.sqrt(info + 1)}, index=index)

    def to_frame(self) -> pd.DataFrame:
        """The item parameters ``coef`` (a, d..., b...)."""
        return self.coef.copy()

    def _summary_lines(self, digits: int) -> list[str]:
        lines = [f"Call: {self.call}", "",
                 (f"Marginal ML (EM, {self.n_quad}-point Gauss-Hermite quadrature); n = {self.n_obs}, "
                  f"{len(self.items)} items, {self.n_par} parameters"),
                 (f"log-likelihood = {self.loglik:.{digits + 1}f}   AIC = {self.aic:.{digits}f}   "
                  f"BIC = {self.bic:.{digits}f}   converged: {self.converged}"), "",
                 "Item parameters (a = discrimination, b = thresholds, d = intercepts):",
                 fmt_frame(self.coef, digits)]
        if self.se is not None:
            lines += ["", "Standard errors:", fmt_frame(self.se, digits)]
        info = self.test_information([-2, -1, 0, 1, 2])
        lines += ["", "Test information at theta = -2, -1, 0, 1, 2:",
                  "  " + "  ".join(f"{v:.{digits}f}" for v in info.to_numpy())]
        return lines


def _irt(data: Any, equal_slopes: bool, n_quad: int, max_iter: int, tol: float, se: bool, binary_only: bool,
         call: str, title: str) -> IRTResult:
    frame = as_item_frame(data, what="data", min_rows=3, min_cols=1)
    codes, cats = _code_items(frame)
    n_cat = [c.size for c in cats]
    if binary_only and max(n_cat) > 2:
        bad = [n for n, k in zip(frame.columns, n_cat) if k > 2]
        raise DataError(f"twopl needs dichotomous items; {bad} have more than 2 categories",
                        hint="use pm.grm for ordered polytomous items")
    answered = (codes >= 0).any(axis=1)
    if answered.sum() < 3:
        raise DataError("fewer than 3 respondents answered any item")
    if not isinstance(n_quad, (int, np.integer)) or n_quad < 5:
        raise DataError(f"n_quad must be an integer >= 5, got {n_quad!r}")
    model = _Model(n_cat, equal_slopes)
    fit = _fit(model, codes, int(n_quad), max_iter, tol, se)
    par = fit["par"]
    kmax = max(n_cat) - 1
    names = list(frame.columns)
    one = kmax == 1
    dcols = ["d"] if one else [f"d{k + 1}" for k in range(kmax)]
    bcols = ["b"] if one else [f"b{k + 1}" for k in range(kmax)]
    coef = pd.DataFrame(np.nan, index=names, columns=["a", *dcols, *bcols])
    se = pd.DataFrame(np.nan, index=names, columns=coef.columns) if fit["cov"] is not None else None
    cov = fit["cov"]
    for j, (a, d) in enumerate(model.unpack(par)):
        ia, idd = model.a_index[j], model.d_index[j]
        coef.iloc[j, 0] = a
        coef.iloc[j, 1:1 + d.size] = d
        b = -d / a
        coef.iloc[j, 1 + kmax:1 + kmax + d.size] = b
        if cov is not None:
            se.iloc[j, 0] = math.sqrt(cov[ia, ia])
            se.iloc[j, 1:1 + d.size] = np.sqrt(cov[idd, idd])
            # b = -d/a: var = (var d + b^2 var a + 2 b cov(a, d)) / a^2
            vb = (cov[idd, idd] + b ** 2 * cov[ia, ia] + 2 * b * cov[ia, idd]) / a ** 2
            se.iloc[j, 1 + kmax:1 + kmax + d.size] = np.sqrt(vb)
    n_obs = int(frame.shape[0])
    k = model.n_par
    return IRTResult(title=title, call=call, coef=coef, se=se, vcov=cov, items=names,
                     categories={n: c.tolist() for n, c in zip(names, cats)}, loglik=fit["loglik"],
                     aic=-2 * fit["loglik"] + 2 * k, bic=-2 * fit["loglik"] + math.log(n_obs) * k,
                     n_obs=n_obs, n_par=k, n_iter=fit["n_iter"], converged=fit["converged"],
                     max_gradient=fit["max_gradient"], n_quad=int(n_quad), equal_slopes=equal_slopes,
                     _model=model, _par=par, _cats=cats, _codes=codes, _index=frame.index,
                     _theta=fit["theta"], _logw=fit["logw"])


@small_blas
def grm(data: Any, n_quad: int = 61, max_iter: int = 100, tol: float = 1e-4,
        equal_slopes: bool = False, se: bool = True) -> IRTResult:
    """Samejima's graded response model by marginal maximum likelihood (EM, then (quasi-)Newton).

    Parameters
    ----------
    data : DataFrame
        Respondents x items of ordered responses (any numeric codes; each item's observed values,
        sorted, become categories 0, 1, ...; ``NaN`` = not answered).
    n_quad : int
        Gauss–Hermite quadrature nodes for the standard-normal trait (61 by default).
    max_iter, tol : EM iterations and the largest parameter change that stops EM (the estimate is
        then finished by quasi-Newton and Newton steps on the marginal likelihood).
    se : bool
        Compute standard errors (observed information by central differences of the analytic
        gradient; costs 2 x n_parameters likelihood evaluations).
    equal_slopes : bool
        One common discrimination for all items (a "1-parameter" GRM).

    Returns
    -------
    IRTResult with ``coef`` (a, d1.., b1..), ``se``, ``test_information(theta)``,
    ``item_information(theta)``, ``scores(method="EAP")`` and ``summary()``.

    Notes
    -----
    :math:`P(X_j \\ge k\\mid\\theta) = 1/(1 + e^{-(a_j\\theta + d_{jk})})`, :math:`b_{jk} = -d_{jk}/a_j`,
    :math:`\\theta \\sim N(0, 1)`. Reference: Samejima (1969); Bock & Aitkin (1981).

    Examples
    --------
    >>> fit = pm.grm(bfi[["N1", "N2", "N3", "N4", "N5"]])     # doctest: +SKIP
    >>> fit.coef.round(2)                                      # doctest: +SKIP
    >>> fit.scores().head()                                    # doctest: +SKIP
    """
    return _irt(data, equal_slopes, n_quad, max_iter, tol, se, False, "grm(data)", "Graded response model")


@small_blas
def twopl(data: Any, n_quad: int = 61, max_iter: int = 100, tol: float = 1e-4,
          equal_slopes: bool = False, se: bool = True) -> IRTResult:
    """Two-parameter logistic model for dichotomous items by marginal maximum likelihood.

    :math:`P(X_j = 1\\mid\\theta) = 1/(1 + e^{-a_j(\\theta - b_j)})`, :math:`\\theta\\sim N(0,1)`;
    ``coef`` has ``a``, the intercept ``d = -a b`` and the difficulty ``b``. With
    ``equal_slopes=True`` the model is the Rasch model (common ``a`` = the SD of the Rasch trait,
    item difficulties ``-d``). Estimation as in :func:`grm` (Bock & Aitkin EM, Gauss–Hermite
    quadrature, Newton polish, observed-information SEs). Reference: Birnbaum (1968) in Lord &
    Novick, *Statistical Theories of Mental Test Scores*.

    Examples
    --------
    >>> fit = pm.twopl(ability)          # 0/1 items          # doctest: +SKIP
    >>> fit.test_information([-1, 0, 1])                        # doctest: +SKIP
    """
    return _irt(data, equal_slopes, n_quad, max_iter, tol, se, True,
                "twopl(data" + (", equal_slopes=True)" if equal_slopes else ")"),
                "Rasch model (1PL)" if equal_slopes else "Two-parameter logistic model (2PL)")
