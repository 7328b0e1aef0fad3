"""Confirmatory factor analysis with lavaan's model syntax and lavaan's numbers: :func:`cfa`.

The model is written as in R's lavaan (``visual =~ x1 + x2 + x3``), estimated by maximum
likelihood with lavaan's defaults for ``lavaan::cfa`` (marker-variable identification, sample
covariances with denominator N, listwise deletion, expected-information standard errors, all
latent variables correlated) and reported with lavaan's names (``fitMeasures``,
``parameterEstimates``, ``standardizedSolution``). Validated number for number against lavaan
0.6 in ``tests/stats/test_cfa.py``.

Supported syntax: ``=~`` (measurement), ``~~`` (variances/covariances), modifiers ``1*x`` (fixed
value), ``NA*x`` (free), ``a*x`` (label; equal labels mean equal parameters, also across
groups), ``start(.5)*x`` (ignored start value), ``+`` continuation across lines, ``#``/``!``
comments and ``;`` separators. Regressions (``~``), intercepts (``~1``), defined parameters
(``:=``) and explicit constraints (``==``, ``<``, ``>``) raise :class:`DataError` (use R's lavaan
or semopy for full SEM).

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1-36. Bollen, K. A. (1989). *Structural equations with latent
variables*. Wiley. Joreskog, K. G. (1969). A general approach to confirmatory maximum likelihood
factor analysis. *Psychometrika, 34*, 183-202. Hu, L., & Bentler, P. M. (1999). Cutoff criteria
for fit indexes. *Structural Equation Modeling, 6*, 1-55.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from psychometrika.errors import DataError
from psychometrika.stats.common import StatsResult, Summary, small_blas, warn, z_value
from psychometrika.stats.guards import guard
from psychometrika.stats.lavaan_syntax import ModelTerm, parse_lavaan

__all__ = ["CFAResult", "cfa"]  # parse_lavaan lives in lavaan_syntax (still importable from here)


# ============================================================================ parameter table
@dataclass
class _Par:
    lhs: str
    op: str
    rhs: str
    group: int
    user: bool
    free: bool
    value: float            # fixed value or current estimate
    label: str = ""
    index: int = -1         # position in the free-parameter vector (-1 when fixed)
    mat: str = ""           # "L", "P", "T", "nu", "alpha"
    i: int = 0
    j: int = 0


@dataclass
class _Group:
    label: str
    n: int
    S: np.ndarray            # ML covariance (denominator n)
    mean: np.ndarray | None


def _build_table(terms: list[ModelTerm], ov: list[str], lv: list[str], n_groups: int,
                 std_lv: bool, group_equal: Sequence[str] = (), group_partial: Sequence[str] = ()) -> list[_Par]:
    table: list[_Par] = []
    ovi = {v: k for k, v in enumerate(ov)}
    lvi = {v: k for k, v in enumerate(lv)}
    for g in range(1, n_groups + 1):
        rows: list[_Par] = []
        seen_first: set[str] = set()
        for t in terms:
            if t.op == "=~":
                first = t.lhs not in seen_first
                seen_first.add(t.lhs)
                if t.fixed is not None:
                    free, val = False, t.fixed
                elif t.free:
                    free, val = True, float("nan")
                elif first and not std_lv:
                    free, val = False, 1.0
                else:
                    free, val = True, float("nan")
                rows.append(_Par(t.lhs, "=~", t.rhs, g, True, free, val, t.label, mat="L",
                                 i=ovi[t.rhs], j=lvi[t.lhs]))
            else:
                a, b = t.lhs, t.rhs
                if (a in lvi) != (b in lvi):
                    raise DataError(f"'{a} ~~ {b}' mixes a latent and an observed variable; not supported")
                mat = "P" if a in lvi else "T"
                idx = lvi if mat == "P" else ovi
                if t.fixed is not None:
                    free, val = False, t.fixed
                elif std_lv and mat == "P" and a == b and not t.free:
                    free, val = False, 1.0
                else:
                    free, val = True, float("nan")
                rows.append(_Par(a, "~~", b, g, True, free, val, t.label, mat=mat, i=idx[a], j=idx[b]))
        have = {(r.lhs, r.rhs) for r in rows if r.op == "~~"} | {(r.rhs, r.lhs) for r in rows if r.op == "~~"}
        for v in ov:
            if (v, v) not in have:
                rows.append(_Par(v, "~~", v, g, False, True, float("nan"), mat="T", i=ovi[v], j=ovi[v]))
        for f in lv:
            if (f, f) not in have:
                rows.append(_Par(f, "~~", f, g, False, not std_lv, 1.0 if std_lv else float("nan"), mat="P",
                                 i=lvi[f], j=lvi[f]))
        for a in range(len(lv)):
            for b in range(a + 1, len(lv)):
                if (lv[a], lv[b]) not in have:
                    rows.append(_Par(lv[a], "~~", lv[b], g, False, True, float("nan"), mat="P", i=a, j=b))
        if n_groups > 1:
            for v in ov:
                rows.append(_Par(v, "~1", "", g, False, True, float("nan"), mat="nu", i=ovi[v]))
            for f in lv:
                rows.append(_Par(f, "~1", "", g, False, False, 0.0, mat="alpha", i=lvi[f]))
        table.extend(rows)
    _equal_across_groups(table, n_groups, group_equal, group_partial)
    # free-parameter indices: equal labels share one parameter (also across groups)
    by_label: dict[str, int] = {}
    k = 0
    for r in table:
        if not r.free:
            continue
        if r.label:
            if r.label not in by_label:
                by_label[r.label] = k
                k += 1
            r.index = by_label[r.label]
        else:
            r.index = k
            k += 1
    return table


#: lavaan's ``group.equal`` names supported, and which rows of the parameter table each one ties
GROUP_EQUAL = {"loadings": lambda r: r.mat == "L",
               "intercepts": lambda r: r.mat == "nu",
               "residuals": lambda r: r.mat == "T" and r.i == r.j,
               "residual.covariances": lambda r: r.mat == "T" and r.i != r.j,
               "lv.variances": lambda r: r.mat == "P" and r.i == r.j,
               "lv.covariances": lambda r: r.mat == "P" and r.i != r.j,
               "means": lambda r: r.mat == "alpha"}


def param_key(r: _Par) -> str:
    """lavaan's ``lhs op rhs`` name of a parameter-table row (used by ``group.partial``)."""
    return f"{r.lhs}{r.op}{r.rhs}"


def _equal_across_groups(table: list[_Par], n_groups: int, group_equal: Sequence[str],
                         group_partial: Sequence[str]) -> None:
    """lavaan's ``group.equal`` / ``group.partial``: tie each free parameter of the named kinds to the same
    parameter in group 1 (a shared label), except those listed in ``group_partial`` (``"x3~1"``,
    ``"visual=~x2"``). With equal intercepts the latent means are free from group 2 on (lavaan's default)."""
    unknown = [g for g in group_equal if g not in GROUP_EQUAL]
    if unknown:
        raise DataError(f"group_equal {unknown} not supported; choose from {sorted(GROUP_EQUAL)}")
    if group_equal and n_groups < 2:
        raise DataError("group_equal needs a multi-group model (group=...)")
    keys = {param_key(r) for r in table}
    partial = {re.sub(r"\s+", "", x) for x in group_partial}
    bad = sorted(partial - keys)
    if bad:
        raise DataError(f"group_partial names parameter(s) not in the model: {bad}",
                        hint="write them as in lavaan's parameter table, e.g. 'x3~1' or 'visual=~x2'")
    for r in table:
        if not r.free or r.label or param_key(r) in partial:
            continue
        if any(GROUP_EQUAL[k](r) for k in group_equal):
            r.label = f".eq.{param_key(r)}"
    if "intercepts" in group_equal and "means" not in group_equal:
        for r in table:
            if r.mat == "alpha" and r.group > 1:
                r.free, r.value = True, float("nan")


# ============================================================================ model algebra
class _Model:
    def __init__(self, table: list[_Par], ov: list[str], lv: list[str], groups: list[_Group]):
        self.table, self.ov, self.lv, self.groups = table, ov, lv, groups
        self.p, self.m = len(ov), len(lv)
        self.cov_rows = [r for r in table if r.mat in ("L", "P", "T")]
        self.mean_rows = [r for r in table if r.mat in ("nu", "alpha")]
        self.n_free = 1 + max((r.index for r in table if r.free), default=-1)
        # Means are saturated (each group's intercepts free, latent means 0) unless intercepts are tied across
        # groups or latent means are free: then the mean structure mu = nu + Lambda alpha is fitted too.
        self.structured = any(r.mat == "alpha" and r.free for r in table) or \
            any(r.mat == "nu" and r.free and r.label for r in table)
        rows = self.cov_rows + (self.mean_rows if self.structured else [])
        self.cov_free = sorted({r.index for r in rows if r.free})   # indices optimised
        self.N = sum(g.n for g in groups)

    def matrices(self, theta: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        L = np.zeros((self.p, self.m))
        P = np.zeros((self.m, self.m))
        T = np.zeros((self.p, self.p))
        for r in self.cov_rows:
            if r.group != g:
                continue
            v = theta[r.index] if r.free else r.value
            if r.mat == "L":
                L[r.i, r.j] = v
            elif r.mat == "P":
                P[r.i, r.j] = P[r.j, r.i] = v
            else:
                T[r.i, r.j] = T[r.j, r.i] = v
        return L, P, T

    def mu(self, theta: np.ndarray, g: int) -> np.ndarray:
        """Model-implied means ``nu + Lambda alpha`` of group ``g``."""
        nu, alpha = np.zeros(self.p), np.zeros(self.m)
        for r in self.mean_rows:
            if r.group == g:
                v = theta[r.index] if r.free else r.value
                if r.mat == "nu":
                    nu[r.i] = v
                else:
                    alpha[r.i] = v
        L, _, _ = self.matrices(theta, g)
        return nu + L @ alpha

    def dmu(self, theta: np.ndarray, g: int) -> np.ndarray:
        """Derivatives dmu/dtheta_k for the optimised parameters (array k x p)."""
        L, _, _ = self.matrices(theta, g)
        alpha = np.zeros(self.m)
        for r in self.mean_rows:
            if r.group == g and r.mat == "alpha":
                alpha[r.i] = theta[r.index] if r.free else r.value
        out = np.zeros((len(self.cov_free), self.p))
        pos = {k: a for a, k in enumerate(self.cov_free)}
        for r in self.table:
            if r.group != g or not r.free or r.index not in pos:
                continue
            if r.mat == "nu":
                out[pos[r.index], r.i] += 1.0
            elif r.mat == "alpha":
                out[pos[r.index]] += L[:, r.i]
            elif r.mat == "L":
                out[pos[r.index], r.i] += alpha[r.j]
        return out

    def sigma(self, theta: np.ndarray, g: int) -> np.ndarray:
        L, P, T = self.matrices(theta, g)
        return L @ P @ L.T + T

    def _cov_index(self, g: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(position in the optimised vector, i, j) of the free covariance-structure rows of group ``g``."""
        cache = self.__dict__.setdefault("_cov_index_cache", {})
        if g not in cache:
            pos = {k: a for a, k in enumerate(self.cov_free)}
            out = {}
            for mat in ("L", "P", "T"):
                rows = [r for r in self.cov_rows if r.group == g and r.free and r.mat == mat]
                out[mat] = tuple(np.array(v, dtype=int) for v in
                                 ([pos[r.index] for r in rows], [r.i for r in rows], [r.j for r in rows]))
            cache[g] = out
        return cache[g]

    def dsigma(self, theta: np.ndarray, g: int) -> np.ndarray:
        """Derivatives dSigma/dtheta_k for the optimised parameters (array k x p x p)."""
        L, P, _ = self.matrices(theta, g)
        out = np.zeros((len(self.cov_free), self.p, self.p))
        idx = self._cov_index(g)
        k, i, j = idx["L"]            # d(L P L')/dL_ij = e_i (P L')_j + its transpose
        if k.size:
            V = (P @ L.T)[j]
            np.add.at(out, (k, i), V)
            np.add.at(out, (k, slice(None), i), V)
        k, i, j = idx["P"]            # d/dP_ij = L_.i L_.j' (+ transpose off the diagonal)
        if k.size:
            D = np.einsum("ni,nj->nij", L[:, i].T, L[:, j].T)
            off = i != j
            D[off] += D[off].transpose(0, 2, 1)
            np.add.at(out, k, D)
        k, i, j = idx["T"]            # d/dTheta_ij = 1 at (i, j) and (j, i)
        if k.size:
            np.add.at(out, (k, i, j), 1.0)
            off = i != j
            np.add.at(out, (k[off], j[off], i[off]), 1.0)
        return out

    def mean_discrepancy(self, theta: np.ndarray, g: int) -> np.ndarray:
        """``m_g - mu_g`` (zeros with saturated means)."""
        if not self.structured:
            return np.zeros(self.p)
        return self.groups[g - 1].mean - self.mu(theta, g)

    def blocks(self) -> list[tuple[list[int], np.ndarray]]:
        """Independent sub-problems: groups linked by a shared free parameter (a label or a
        ``group_equal`` constraint) form one block. Returns ``[(groups (1-based), positions in the
        optimised vector)]``; a configural model has one block per group."""
        pos = {k: a for a, k in enumerate(self.cov_free)}
        used = [{pos[r.index] for r in self.table if r.group == g and r.free and r.index in pos}
                for g in range(1, len(self.groups) + 1)]
        parent = list(range(len(self.groups)))

        def root(a: int) -> int:
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a
        for a in range(len(used)):
            for b in range(a):
                if used[a] & used[b]:
                    parent[root(a)] = root(b)
        out: dict[int, list[int]] = {}
        for a in range(len(used)):
            out.setdefault(root(a), []).append(a)
        return [([a + 1 for a in members], np.array(sorted(set().union(*(used[a] for a in members))), dtype=int))
                for members in out.values()]

    def objective(self, theta: np.ndarray, groups: Sequence[int] | None = None
                  ) -> tuple[float, np.ndarray, np.ndarray]:
        """lavaan's F_ML summed over groups with weights n_g/N (twice ``fmin``), gradient and
        expected-information Hessian of F (over the optimised vector). ``groups`` (1-based) restricts
        the sum to those groups (one block of :meth:`blocks`)."""
        F = 0.0
        q = len(self.cov_free)
        grad = np.zeros(q)
        H = np.zeros((q, q))
        for gi, grp in enumerate(self.groups, start=1):
            if groups is not None and gi not in groups:
                continue
            Sig = self.sigma(theta, gi)
            try:
                c = np.linalg.cholesky(Sig)
            except np.linalg.LinAlgError:
                return float("inf"), grad, H
            logdet = 2 * np.sum(np.log(np.diag(c)))
            Si = np.linalg.inv(Sig)
            w = grp.n / self.N
            F += w * (logdet + np.trace(grp.S @ Si) - grp.logdetS - self.p)
            dS = self.dsigma(theta, gi)
            A = Si @ dS                                           # Sigma^-1 dSigma_k (batched BLAS)
            G = Si @ (Sig - grp.S) @ Si
            if self.structured:                                   # + (m - mu)' Sigma^-1 (m - mu)
                d = self.mean_discrepancy(theta, gi)
                sd = Si @ d
                F += w * float(d @ sd)
                G = G - np.outer(sd, sd)
                dM = self.dmu(theta, gi)
                grad += w * (-2.0 * dM @ sd)
                H += w * 2.0 * dM @ Si @ dM.T
            grad += w * (dS.reshape(len(dS), -1) @ G.T.ravel())    # tr(G dSigma_k)
            H += w * _tr_pairs(A)
        return F, grad, H


def _tr_pairs(A: np.ndarray) -> np.ndarray:
    """``out[k, l] = tr(A_k A_l)`` for a stack of square matrices, as one matrix product."""
    k = len(A)
    return A.reshape(k, -1) @ A.transpose(0, 2, 1).reshape(k, -1).T


def _markers(rows: list[_Par]) -> tuple[dict[int, int], dict[int, float]]:
    """Per factor: the marker indicator (first with a fixed non-zero loading, else the first one) and
    its fixed loading (absent for factors without a fixed loading, e.g. with ``std_lv``)."""
    markers: dict[int, int] = {}
    scale: dict[int, float] = {}
    for r in rows:
        if r.mat == "L" and (not r.free) and r.value != 0 and r.j not in markers:
            markers[r.j], scale[r.j] = r.i, r.value
    for r in rows:
        if r.mat == "L" and r.j not in markers:
            markers[r.j] = r.i
    return markers, scale


def _start_values(model: _Model) -> np.ndarray:
    """Simple start values: marker-scaled loadings, half the observed variances as residuals."""
    theta = np.full(model.n_free, np.nan)
    for gi, grp in enumerate(model.groups, start=1):
        S = grp.S
        rows = [r for r in model.cov_rows if r.group == gi]
        markers, scale = _markers(rows)
        for r in rows:
            if not r.free or not np.isnan(theta[r.index]):
                continue
            if r.mat == "L":
                mk = markers[r.j]
                if r.j in scale:
                    val = S[r.i, mk] / S[mk, mk] if r.i != mk else 1.0
                else:
                    val = math.sqrt(0.5 * S[r.i, r.i])
                theta[r.index] = val if abs(val) > 1e-3 else 0.1
            elif r.mat == "T":
                theta[r.index] = 0.5 * S[r.i, r.i] if r.i == r.j else 0.0
            else:
                if r.i == r.j:
                    mk = markers.get(r.i, 0)
                    theta[r.index] = 0.5 * S[mk, mk] if r.i in scale else 1.0
                else:
                    theta[r.index] = 0.0
    _start_means(model, theta)
    return np.nan_to_num(theta)


def _start_means(model: _Model, theta: np.ndarray) -> None:
    """Free intercepts start at the group means."""
    for r in model.table:
        if r.free and r.mat in ("nu",):
            grp = model.groups[r.group - 1]
            theta[r.index] = grp.mean[r.i]


def _iv_loadings(rows: list[_Par], S: np.ndarray, simple: np.ndarray, theta: np.ndarray,
                 only: list[_Par] | None = None) -> dict[tuple[int, int], float]:
    """FABIN 3 loadings of one group's rows from the covariances ``S`` (unset entries of ``theta`` are
    filled, ``only`` restricts which); returns every loading of the group by (item, factor)."""
    markers, scale = _markers(rows)
    load: dict[tuple[int, int], float] = {}
    for r in rows:
        if r.mat != "L":
            continue
        if not r.free:
            load[(r.i, r.j)] = r.value
            continue
        if only is not None and r not in only:
            continue
        val = simple[r.index]
        mk = markers[r.j]
        Z = [x.i for x in rows if x.mat == "L" and x.j == r.j and x.i not in (r.i, mk)]
        if r.j in scale and Z:
            try:
                w = np.linalg.solve(S[np.ix_(Z, Z)], S[Z, mk])
            except np.linalg.LinAlgError:
                w = None
            den = float(S[mk, Z] @ w) if w is not None else 0.0
            if w is not None and abs(den) > 1e-12 * S[mk, mk] ** 2:
                val = scale[r.j] * float(S[r.i, Z] @ w) / den
        if not np.isnan(theta[r.index]):
            val = theta[r.index]
        theta[r.index] = val
        load[(r.i, r.j)] = val
    return load


def _start_values_iv(model: _Model) -> np.ndarray:
    """Instrumental-variable start values (Hägglund's FABIN 3, as lavaan's default start).

    A loading is ``s_iZ S_ZZ^-1 s_Zm / s_mZ S_ZZ^-1 s_Zm`` (times the marker's fixed loading), with the
    factor's other indicators Z as instruments, so a marker with a near-zero loading gives the large
    loadings of the optimum instead of near-zero ones; factor variances are the least-squares fit of the
    indicators' covariances, residual variances what is left of the observed ones. Factors without a
    fixed loading (``std_lv``) start like :func:`_start_values`."""
    theta = np.full(model.n_free, np.nan)
    simple = _start_values(model)
    groups_of: dict[int, set[int]] = {}
    for r in model.cov_rows:
        if r.free:
            groups_of.setdefault(r.index, set()).add(r.group)
    pooled = sum(g.n * g.S for g in model.groups) / model.N
    for gi, grp in enumerate(model.groups, start=1):
        rows = [r for r in model.cov_rows if r.group == gi]
        shared = [r for r in rows if r.mat == "L" and r.free and len(groups_of[r.index]) > 1]
        if shared and np.isnan(theta[shared[0].index]):   # loadings equal across groups: pooled moments
            _iv_loadings(rows, pooled, simple, theta, only=shared)
        S = grp.S
        _, scale = _markers(rows)
        load = _iv_loadings(rows, S, simple, theta)
        lv_var: dict[int, float] = {}
        for f in range(model.m):
            items = [(i, v) for (i, j), v in load.items() if j == f]
            num = den = 0.0
            for a in range(len(items)):
                for b in range(a):
                    (ia, la), (ib, lb) = items[a], items[b]
                    num += la * lb * S[ia, ib]
                    den += (la * lb) ** 2
            lv_var[f] = num / den if den > 0 and num > 0 else 0.05
        for r in rows:
            if not r.free or not np.isnan(theta[r.index]):
                continue
            if r.mat == "P":
                theta[r.index] = (lv_var[r.i] if r.i in scale else simple[r.index]) if r.i == r.j else 0.0
            elif r.mat == "T":
                if r.i == r.j:
                    common = sum(v ** 2 * (lv_var[j] if j in scale else 1.0) for (i, j), v in load.items() if i == r.i)
                    theta[r.index] = max(S[r.i, r.i] - common, 0.1 * S[r.i, r.i])
                else:
                    theta[r.index] = 0.0
    _start_means(model, theta)
    theta = np.where(np.isnan(theta), simple, theta)
    return theta


#: Optimiser settings of :func:`_fit` (Fisher scoring; lavaan's nlminb stops ~1e-5 earlier).
_GRAD_TOL = 1e-10          # converged when every |dF/dtheta| is below this
_GRAD_TOL_STALLED = 1e-7   # ... or below this when no step lowers F any more (rounding)
_GRAD_TOL_FALLBACK = 1e-6  # accepted after the quasi-Newton fallback
_MIN_STEP = 1e-8           # smallest step fraction tried by step halving
_MAX_STEP = 5.0            # largest change of one parameter in one scoring step (trust region)


def _fit_block(model: _Model, theta: np.ndarray, groups: list[int], sub: np.ndarray,
               max_iter: int) -> tuple[bool, int]:
    """Fisher scoring with step halving on one block (``theta`` updated in place); BFGS when it stalls.

    Each block gets its own step length, so one group's hard problem cannot drag the others along
    (nor be pushed uphill by their progress)."""
    idx = np.array(model.cov_free, dtype=int)[sub]
    F, g, H = model.objective(theta, groups)
    g, H = g[sub], H[np.ix_(sub, sub)]
    if not np.isfinite(F):
        raise DataError("the start values give a non-positive-definite model covariance matrix",
                        hint="check the model: every factor needs indicators with non-zero covariances")
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(H + 1e-12 * np.eye(len(sub)), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        big = float(np.max(np.abs(step), initial=0.0))
        t = min(1.0, _MAX_STEP / big) if big > 0 else 1.0
        while t > _MIN_STEP:
            new = theta.copy()
            new[idx] = theta[idx] - t * step
            F_new, g_new, H_new = model.objective(new, groups)
            if np.isfinite(F_new) and F_new <= F + 1e-14:
                break
            t /= 2
        else:  # no step lowers F: at the optimum up to rounding when the gradient is already tiny
            converged = bool(np.max(np.abs(g)) < _GRAD_TOL_STALLED)
            break
        g_new, H_new = g_new[sub], H_new[np.ix_(sub, sub)]
        done = abs(F - F_new) < 1e-15 and np.max(np.abs(g_new)) < 1e-8
        theta[:], F, g, H = new, F_new, g_new, H_new
        if np.max(np.abs(g)) < _GRAD_TOL or done:
            converged = True
            break
    if not converged:
        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            full = theta.copy()
            full[idx] = x
            f, gg, _ = model.objective(full, groups)
            return (f, gg[sub]) if np.isfinite(f) else (1e10, np.zeros_like(x))
        res = optimize.minimize(fun, theta[idx], jac=True, method="BFGS",
                                options={"gtol": _GRAD_TOL, "maxiter": 100})  # bounded: stops, with a warning
        if res.fun <= F:
            theta[idx] = res.x
        _, g, _ = model.objective(theta, groups)
        converged = bool(np.max(np.abs(g[sub])) < _GRAD_TOL_FALLBACK)
    return converged, it


def _std_lv_start(model: _Model, groups: list[int], max_iter: int) -> np.ndarray | None:
    """Start for a one-group block from the same model fitted with standardised latent variables.

    With a marker whose loading is near 0 the marker parameterisation is badly conditioned (tiny factor
    variance, huge loadings) while ``std_lv`` is not. When the group's factors are each scaled by one fixed
    non-zero loading, free variances and no labels (so the two parameterisations are the same model), the
    ``std_lv`` optimum is mapped back: ``c_j = lambda_marker,j / value``, loadings ``/ c_j``, factor
    (co)variances ``* c_j c_k``. Returns ``None`` when that does not apply or the ``std_lv`` fit fails."""
    if len(groups) != 1:
        return None
    g = groups[0]
    rows = [r for r in model.table if r.group == g]
    if any(r.label for r in rows if r.free) or any(r.mat == "P" and not r.free for r in rows):
        return None
    fixed = {}
    for r in rows:
        if r.mat == "L" and not r.free and r.value != 0:
            if r.j in fixed:
                return None
            fixed[r.j] = r
    if len(fixed) != model.m:
        return None
    alt_rows: list[_Par] = []
    for r in rows:
        a = _Par(r.lhs, r.op, r.rhs, 1, r.user, r.free, r.value, "", mat=r.mat, i=r.i, j=r.j)
        if r.mat == "L" and fixed.get(r.j) is r:
            a.free, a.value = True, float("nan")
        elif r.mat == "P" and r.i == r.j:
            a.free, a.value = False, 1.0
        alt_rows.append(a)
    k = 0
    for a in alt_rows:
        if a.free:
            a.index, k = k, k + 1
    alt = _Model(alt_rows, model.ov, model.lv, [model.groups[g - 1]])
    th = _start_values(alt)
    if not np.isfinite(alt.objective(th)[0]):
        return None
    ok, _ = _fit_block(alt, th, [1], np.arange(len(alt.cov_free)), max_iter)
    if not ok:
        return None
    L, P, _ = alt.matrices(th, 1)
    c = np.array([L[fixed[j].i, j] / fixed[j].value for j in range(model.m)])
    if np.any(np.abs(c) < 1e-12):
        return None
    out = np.full(model.n_free, np.nan)
    for r, a in zip(rows, alt_rows):
        if not r.free:
            continue
        v = th[a.index] if a.free else a.value
        if r.mat == "L":
            v = v / c[r.j]
        elif r.mat == "P":
            v = P[r.i, r.j] * c[r.i] * c[r.j]
        out[r.index] = v
    return out


def _fit(model: _Model, starts: Sequence[np.ndarray], max_iter: int = 100) -> tuple[np.ndarray, bool, int]:
    """Maximum likelihood: each independent block of groups (see :meth:`_Model.blocks`) is fitted on its
    own by :func:`_fit_block` from every start vector; per block the converged solution with the lowest
    discrepancy is kept. Returns (estimates, converged, iterations of the slowest block)."""
    theta = np.array(starts[0], dtype=float)
    converged, iterations = True, 0
    idx = np.array(model.cov_free, dtype=int)
    for groups, sub in model.blocks():
        if not sub.size:
            continue
        best: tuple[bool, float, np.ndarray, int] | None = None
        alt = _std_lv_start(model, groups, max_iter)
        for start in [*starts, *([] if alt is None else [alt])]:
            trial = theta.copy()
            trial[idx[sub]] = np.asarray(start, dtype=float)[idx[sub]]
            if np.isnan(trial[idx[sub]]).any():
                continue
            if not np.isfinite(model.objective(trial, groups)[0]):
                continue
            ok, it = _fit_block(model, trial, groups, sub, max_iter)
            F = model.objective(trial, groups)[0]
            if best is None or (ok, -F) > (best[0], -best[1]):
                best = (ok, F, trial, it)
        if best is None:
            raise DataError("the start values give a non-positive-definite model covariance matrix",
                            hint="check the model: every factor needs indicators with non-zero covariances")
        ok, _, trial, it = best
        theta[idx[sub]] = trial[idx[sub]]
        converged &= ok
        iterations = max(iterations, it)
    return theta, converged, iterations


# ============================================================================ result
_FIT_ORDER = ["npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "baseline.pvalue", "cfi",
              "tli", "nnfi", "rfi", "nfi", "ifi", "logl", "unrestricted.logl", "aic", "bic", "ntotal", "bic2",
              "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "srmr_bentler", "gfi", "agfi"]


@dataclass(repr=False, eq=False)
class CFAResult(StatsResult):
    """Result of :func:`cfa`.

    Methods named after lavaan's: :meth:`fit_measures` (``fitMeasures``),
    :meth:`parameter_estimates` (``parameterEstimates``), :meth:`standardized_solution`
    (``standardizedSolution``), :meth:`summary` (``summary(fit, fit.measures = TRUE,
    standardized = TRUE)``). Attributes: ``model`` (the syntax), ``converged``, ``iterations``,
    ``n_obs`` (per group), ``group_labels``, ``ov_names``, ``lv_names``, ``vcov`` (free parameters),
    ``implied_cov`` / ``sample_cov`` (lists, one per group; ML covariances with denominator N).
    """

    _title = "lavaan-style CFA (psychometrika)"

    model: str
    _m: _Model = field(repr=False)
    theta: np.ndarray
    converged: bool
    iterations: int
    group: str | None
    n_dropped: int
    group_labels: list[str] = field(init=False)
    n_obs: list[int] = field(init=False)
    ov_names: list[str] = field(init=False)
    lv_names: list[str] = field(init=False)
    implied_cov: list[pd.DataFrame] = field(init=False)
    sample_cov: list[pd.DataFrame] = field(init=False)
    vcov: np.ndarray = field(init=False)
    _fm: pd.Series | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        m, theta = self._m, self.theta
        self.group_labels = [g.label for g in m.groups]
        self.n_obs = [g.n for g in m.groups]
        self.ov_names = list(m.ov)
        self.lv_names = list(m.lv)
        self.implied_cov = [pd.DataFrame(m.sigma(theta, g), index=m.ov, columns=m.ov)
                            for g in range(1, len(m.groups) + 1)]
        self.sample_cov = [pd.DataFrame(g.S, index=m.ov, columns=m.ov) for g in m.groups]
        self.vcov = self._vcov()
        self._fm = None

    def to_frame(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates`` (see :meth:`parameter_estimates`)."""
        return self.parameter_estimates()

    @property
    def spec(self) -> _Model:
        """The fitted model specification: parameter ``table`` (lavaan's partable rows), ``groups``
        (sample moments per group), ``sigma(theta, g)`` / ``mu(theta, g)`` (implied moments)."""
        return self._m

    # ------------------------------------------------------------------ inference
    def _vcov(self) -> np.ndarray:
        m = self._m
        q = m.n_free
        info = np.zeros((q, q))
        pos = np.array(m.cov_free, dtype=int)
        for gi, grp in enumerate(m.groups, start=1):
            Sig = m.sigma(self.theta, gi)
            Si = np.linalg.inv(Sig)
            dS = m.dsigma(self.theta, gi)
            info[np.ix_(pos, pos)] += 0.5 * grp.n * _tr_pairs(Si @ dS)
            if m.structured:      # mean structure: information n_g dmu' Sigma^-1 dmu
                dM = m.dmu(self.theta, gi)
                info[np.ix_(pos, pos)] += grp.n * dM @ Si @ dM.T
                continue
            for r in m.table:     # saturated intercepts: information n_g Sigma^-1
                if r.group == gi and r.mat == "nu" and r.free:
                    for r2 in m.table:
                        if r2.group == gi and r2.mat == "nu" and r2.free:
                            info[r.index, r2.index] += grp.n * Si[r.i, r2.i]
        try:
            return np.linalg.inv(info)
        except np.linalg.LinAlgError:
            warn("the information matrix is singular: the model is probably not identified; standard errors "
                 "are NaN")
            return np.full((q, q), np.nan)

    def _value(self, r: _Par, theta: np.ndarray | None = None) -> float:
        theta = self.theta if theta is None else theta
        return float(theta[r.index]) if r.free else float(r.value)

    def parameter_estimates(self, level: float = 0.95) -> pd.DataFrame:
        """lavaan's ``parameterEstimates``: ``lhs op rhs (group) label est se z pvalue ci.lower ci.upper``.

        Standard errors from the expected information matrix (N, not N - 1); Wald z tests and
        normal-theory confidence intervals; fixed parameters have ``se`` 0 and no test.
        """
        zc = z_value(level)
        rows = []
        for r in self._m.table:
            est = self._value(r)
            if r.free:
                var = float(self.vcov[r.index, r.index])  # negative on an improper solution: no SE, as lavaan
                se = math.sqrt(var) if np.isfinite(var) and var >= 0 else float("nan")
                z = est / se if se > 0 else float("nan")
                p = 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else float("nan")
                lo, hi = est - zc * se, est + zc * se
            else:
                se, z, p, lo, hi = 0.0, float("nan"), float("nan"), est, est
            rows.append({"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "group": r.group, "label": r.label, "est": est,
                         "se": se, "z": z, "pvalue": p, "ci.lower": lo, "ci.upper": hi})
        out = pd.DataFrame(rows)
        if len(self._m.groups) == 1:
            out = out.drop(columns="group")
        return out

    def _std_values(self, theta: np.ndarray, kind: str) -> np.ndarray:
        m = self._m
        vals = []
        cache = {}
        for g in range(1, len(m.groups) + 1):
            L, P, T = m.matrices(theta, g)
            Sig = L @ P @ L.T + T
            cache[g] = (np.sqrt(np.clip(np.diag(P), 0, None)), np.sqrt(np.clip(np.diag(Sig), 0, None)),
                        np.sqrt(np.clip(np.diag(T), 0, None)))
        for r in m.table:
            v = self._value(r, theta)
            sd_lv, sd_ov, sd_res = cache[r.group]
            with np.errstate(divide="ignore", invalid="ignore"):
                if r.mat == "L":
                    v = v * sd_lv[r.j] / (sd_ov[r.i] if kind == "std.all" else 1.0)
                elif r.mat == "P":
                    v = v / (sd_lv[r.i] * sd_lv[r.j])
                elif r.mat == "T":
                    if kind == "std.all":      # lavaan: residual covariances become residual correlations
                        v = v / (sd_ov[r.i] * sd_ov[r.j]) if r.i == r.j else v / (sd_res[r.i] * sd_res[r.j])
                elif r.mat == "nu":
                    if kind == "std.all":
                        v = v / sd_ov[r.i]
                else:
                    v = v / sd_lv[r.i]
            vals.append(float(v))
        return np.array(vals)

    def standardized_solution(self, type: str = "std.all", level: float = 0.95) -> pd.DataFrame:
        """lavaan's ``standardizedSolution``: ``est.std`` with delta-method ``se``, ``z``, ``pvalue``
        and CI, plus both ``std.lv`` (latent variables standardised) and ``std.all`` (latent and
        observed variables standardised) columns. ``type`` picks which one is ``est.std``."""
        if type not in ("std.all", "std.lv"):
            raise DataError(f"type must be 'std.all' or 'std.lv', got {type!r}")
        est = self._std_values(self.theta, type)
        idx = np.arange(self._m.n_free)
        J = np.zeros((len(est), len(idx)))
        for k in idx:
            h = 1e-6 * max(1.0, abs(self.theta[k]))
            tp, tm = self.theta.copy(), self.theta.copy()
            tp[k] += h
            tm[k] -= h
            J[:, k] = (self._std_values(tp, type) - self._std_values(tm, type)) / (2 * h)
        V = J @ self.vcov @ J.T
        se = np.sqrt(np.clip(np.diag(V), 0, None))
        se[np.abs(se) < 1e-10] = 0.0
        zc = z_value(level)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)
        base = self.parameter_estimates()[["lhs", "op", "rhs"] + (["group"] if len(self._m.groups) > 1 else [])]
        out = base.copy()
        out["est.std"] = est
        out["se"] = se
        out["z"] = z
        out["pvalue"] = p
        out["ci.lower"] = est - zc * se
        out["ci.upper"] = est + zc * se
        out["std.lv"] = self._std_values(self.theta, "std.lv")
        out["std.all"] = self._std_values(self.theta, "std.all")
        return out

    # ------------------------------------------------------------------ fit measures
    def fit_measures(self) -> pd.Series:
        """lavaan's ``fitMeasures`` (names as in lavaan, plus underscore aliases).

        With :math:`F_g = \\log|\\Sigma_g| + \\operatorname{tr}(S_g\\Sigma_g^{-1}) - \\log|S_g| - p`
        (S with denominator :math:`n_g`): ``chisq`` :math:`= \\sum_g n_g F_g`; ``baseline.chisq``
        the same for :math:`\\Sigma = \\operatorname{diag}(S)`; ``cfi`` :math:`= 1 -
        \\max(\\chi^2 - df, 0)/\\max(\\chi^2 - df, \\chi^2_b - df_b, 0)`; ``tli`` :math:`=
        (\\chi^2_b/df_b - \\chi^2/df)/(\\chi^2_b/df_b - 1)`; ``rmsea`` :math:`=
        \\sqrt{\\max(\\chi^2 - df, 0)/(N\\,df)}\\sqrt{G}` with the noncentral-χ² 90 % CI and the
        test of close fit (RMSEA ≤ .05); ``srmr`` Bentler's standardised RMR (with mean residuals
        in multi-group models), weighted by :math:`n_g/N`; ``logl``, ``aic``, ``bic``, ``bic2``.
        """
        if self._fm is not None:
            return self._fm.copy()
        m = self._m
        G = len(m.groups)
        p = m.p
        N = m.N
        F, _, _ = m.objective(self.theta)
        chisq = N * F
        meanstructure = G > 1
        npar = m.n_free
        moments = G * (p * (p + 1) // 2 + (p if meanstructure else 0))
        df = moments - npar
        pval = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
        b_chisq = sum(g.n * (np.sum(np.log(np.diag(g.S))) - g.logdetS) for g in m.groups)
        b_df = G * p * (p - 1) // 2
        b_p = float(stats.chi2.sf(b_chisq, b_df))
        t1 = max(chisq - df, 0.0)
        t2 = max(chisq - df, b_chisq - b_df, 0.0)
        cfi = 1.0 if t2 == 0 else 1 - t1 / t2
        tli = 1.0 if df == 0 else (b_chisq / b_df - chisq / df) / (b_chisq / b_df - 1)
        rfi = float("nan") if df == 0 else (b_chisq / b_df - chisq / df) / (b_chisq / b_df)
        nfi = (b_chisq - chisq) / b_chisq
        ifi = (b_chisq - chisq) / (b_chisq - df)
        logl = 0.0
        ulogl = 0.0
        srmr = 0.0
        gfi_groups: list[tuple[int, float]] = []
        for gi, g in enumerate(m.groups, start=1):
            Sig = m.sigma(self.theta, gi)
            Si = np.linalg.inv(Sig)
            _, ld = np.linalg.slogdet(Sig)
            dm = m.mean_discrepancy(self.theta, gi)
            logl += -g.n / 2 * (p * math.log(2 * math.pi) + ld + np.trace(g.S @ Si) + float(dm @ Si @ dm))
            ulogl += -g.n / 2 * (p * math.log(2 * math.pi) + g.logdetS + p)
            sd_s = np.sqrt(np.diag(g.S))
            res = (g.S - Sig) / np.outer(sd_s, sd_s)        # Bentler: scaled by the sample SDs
            lower = res[np.tril_indices(p)]
            ss = float(np.sum(lower ** 2)) + float(np.sum((dm / sd_s) ** 2))
            count = len(lower) + (p if meanstructure else 0)     # mean residuals (0 when saturated)
            srmr += g.n / N * math.sqrt(ss / count)
            # GFI with ML weights (lavaan): W = Sigma^-1 (model-implied); means enter with weight 1
            A = Si @ g.S
            t1 = 0.5 * np.trace((A - np.eye(p)) @ (A - np.eye(p))) + float(dm @ Si @ dm)
            t2 = 0.5 * np.trace(A @ A) + (float(g.mean @ Si @ g.mean) if meanstructure else 0.0)
            gfi_groups.append((g.n, 1 - t1 / t2))
        gfi = sum(n * v for n, v in gfi_groups) / N
        agfi = 1 - (moments / df) * (1 - gfi) if df > 0 else 1.0   # lavaan: 1 when df = 0
        aic = -2 * logl + 2 * npar
        bic = -2 * logl + npar * math.log(N)
        bic2 = -2 * logl + npar * math.log((N + 2) / 24)
        if df > 0:
            rmsea = math.sqrt(max(chisq - df, 0) / (N * df)) * math.sqrt(G)

            def ncp_at(prob: float) -> float:
                f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
                if f(0.0) < 0:
                    return 0.0
                hi = max(1.0, chisq)
                while f(hi) > 0:
                    hi *= 2
                return optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-14)
            lam_l, lam_u = ncp_at(0.95), ncp_at(0.05)
            ci_l = math.sqrt(lam_l / (N * df)) * math.sqrt(G)
            ci_u = math.sqrt(lam_u / (N * df)) * math.sqrt(G)
            rmsea_p = float(stats.ncx2.sf(chisq, df, N * df * 0.05 ** 2 / G))
        else:
            rmsea = ci_l = ci_u = rmsea_p = float("nan") if df < 0 else 0.0
            if df == 0:
                rmsea_p = float("nan")
        vals = {"npar": npar, "fmin": F / 2, "chisq": chisq, "df": df, "pvalue": pval, "baseline.chisq": b_chisq,
                "baseline.df": b_df, "baseline.pvalue": b_p, "cfi": cfi, "tli": tli, "nnfi": tli, "rfi": rfi,
                "nfi": nfi, "ifi": ifi, "logl": logl, "unrestricted.logl": ulogl, "aic": aic, "bic": bic,
                "ntotal": N, "bic2": bic2, "rmsea": rmsea, "rmsea.ci.lower": ci_l, "rmsea.ci.upper": ci_u,
                "rmsea.pvalue": rmsea_p, "srmr": srmr, "srmr_bentler": srmr, "gfi": gfi, "agfi": agfi}
        s = pd.Series({k: float(vals[k]) for k in _FIT_ORDER})
        aliases = {k.replace(".", "_"): s[k] for k in _FIT_ORDER if "." in k}
        s = pd.concat([s, pd.Series(aliases, dtype=float)])
        self._fm = s
        return s.copy()

    # ------------------------------------------------------------------ printing
    def summary(self, digits: int = 3) -> Summary:  # type: ignore[override]
        """Text laid out like lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)``."""
        fm = self.fit_measures()
        m = self._m
        f = lambda x, w=10: f"{x:{w}.{digits}f}" if np.isfinite(x) else " " * (w - 2) + "NA"
        lines = [(f"psychometrika CFA (lavaan-compatible) {'converged' if self.converged else 'did NOT converge'} "
                  f"after {self.iterations} iterations"), "",
                 f"  Estimator{'ML':>45}", f"  Optimization method{'Fisher scoring':>35}",
                 f"  Number of model parameters{int(fm['npar']):>28}", ""]
        if len(m.groups) > 1:
            lines.append(f"  Number of observations per group:{'Used':>20}")
            for lab, n in zip(self.group_labels, self.n_obs):
                lines.append(f"    {lab:<30}{n:>24}")
        else:
            lines.append(f"  Number of observations{'Used' if self.n_dropped else '':>22}{self.n_obs[0]:>10}")
            if self.n_dropped:
                lines.append(f"  (listwise deletion removed {self.n_dropped} incomplete rows)")
        lines += ["", "Model Test User Model:", "",
                  f"  Test statistic{f(fm['chisq'], 40)}", f"  Degrees of freedom{int(fm['df']):>36}",
                  f"  P-value (Chi-square){f(fm['pvalue'], 34)}", "",
                  "Model Test Baseline Model:", "",
                  f"  Test statistic{f(fm['baseline.chisq'], 40)}",
                  f"  Degrees of freedom{int(fm['baseline.df']):>36}",
                  f"  P-value{f(fm['baseline.pvalue'], 47)}", "",
                  "User Model versus Baseline Model:", "",
                  f"  Comparative Fit Index (CFI){f(fm['cfi'], 27)}",
                  f"  Tucker-Lewis Index (TLI){f(fm['tli'], 30)}", "",
                  "Loglikelihood and Information Criteria:", "",
                  f"  Loglikelihood user model (H0){f(fm['logl'], 25)}",
                  f"  Loglikelihood unrestricted model (H1){f(fm['unrestricted.logl'], 17)}", "",
                  f"  Akaike (AIC){f(fm['aic'], 42)}", f"  Bayesian (BIC){f(fm['bic'], 40)}",
                  f"  Sample-size adjusted Bayesian (SABIC){f(fm['bic2'], 17)}", "",
                  "Root Mean Square Error of Approximation:", "",
                  f"  RMSEA{f(fm['rmsea'], 49)}",
                  f"  90 Percent confidence interval - lower{f(fm['rmsea.ci.lower'], 16)}",
                  f"  90 Percent confidence interval - upper{f(fm['rmsea.ci.upper'], 16)}",
                  f"  P-value H_0: RMSEA <= 0.050{f(fm['rmsea.pvalue'], 27)}", "",
                  "Standardized Root Mean Square Residual:", "", f"  SRMR{f(fm['srmr'], 50)}", "",
                  "Parameter Estimates:", "", f"  Standard errors{'Standard':>39}",
                  f"  Information{'Expected':>43}", ""]
        pe = self.parameter_estimates()
        ss = self.standardized_solution()
        pe["std.lv"] = ss["std.lv"].to_numpy()
        pe["std.all"] = ss["std.all"].to_numpy()
        head = f"{'':20}{'Estimate':>10}{'Std.Err':>10}{'z-value':>10}{'P(>|z|)':>10}{'Std.lv':>10}{'Std.all':>10}"
        groups = range(1, len(m.groups) + 1)
        for g in groups:
            sub = pe[pe["group"] == g] if "group" in pe else pe
            if len(m.groups) > 1:
                lines += [f"Group {g} [{self.group_labels[g - 1]}]:", ""]
            for title, mask in (("Latent Variables:", sub["op"] == "=~"),
                                ("Covariances:", (sub["op"] == "~~") & (sub["lhs"] != sub["rhs"])),
                                ("Intercepts:", sub["op"] == "~1"),
                                ("Variances:", (sub["op"] == "~~") & (sub["lhs"] == sub["rhs"]))):
                block = sub[mask]
                if block.empty:
                    continue
                lines += [title, head]
                last = None
                for _, r in block.iterrows():
                    if r["op"] != "~1" and not (r["op"] == "~~" and r["lhs"] == r["rhs"]) and r["lhs"] != last:
                        lines.append(f"  {r['lhs']} {r['op']}")
                        last = r["lhs"]
                    name = r["rhs"] if r["op"] in ("=~",) or (r["op"] == "~~" and r["lhs"] != r["rhs"]) \
                        else r["lhs"]
                    indent = "    " if r["op"] in ("=~",) or (r["op"] == "~~" and r["lhs"] != r["rhs"]) \
                        or name in self.lv_names else "   ."
                    lab = f" ({r['label']})" if r["label"] else ""
                    txt = f"{indent}{name}{lab}"
                    if r["se"] > 0:
                        nums = f"{f(r['est'])}{f(r['se'])}{f(r['z'])}{f(r['pvalue'])}"
                    else:
                        nums = f"{f(r['est'])}" + " " * 30
                    lines.append(f"{txt:<20}{nums}{f(r['std.lv'])}{f(r['std.all'])}")
                lines.append("")
        return Summary("\n".join(lines))


# ============================================================================ entry point
def _ml_cov(x: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=0)
    return xc.T @ xc / x.shape[0]


@small_blas
def cfa(model: str, data: pd.DataFrame | None = None, *, sample_cov: Any = None, n_obs: int | None = None,
        group: str | None = None, group_equal: Sequence[str] = (), group_partial: Sequence[str] = (),
        std_lv: bool = False, estimator: str = "ML") -> CFAResult:
    """Confirmatory factor analysis equal to ``lavaan::cfa`` with its defaults.

    Parameters
    ----------
    model : lavaan model syntax (``=~``, ``~~``, ``1*x`` fixed values, ``NA*x`` free, labels,
        ``+`` continuation across lines, ``#`` comments).
    data : raw data (rows with a missing value on a model variable are dropped: lavaan's
        ``missing = "listwise"``). Either ``data`` or ``sample_cov`` + ``n_obs``.
    sample_cov : covariance matrix (DataFrame with variable names, denominator N - 1 as R's
        ``cov``; like lavaan, it is rescaled by (N - 1)/N).
    group : column of ``data`` defining groups: a configural multi-group model (same pattern,
        all parameters free per group, observed intercepts estimated; equal labels are equal
        across groups). Group order is order of first appearance, as in lavaan.
    group_equal : lavaan's ``group.equal``: parameter kinds held equal across groups -- ``"loadings"``
        (metric invariance), ``+ "intercepts"`` (scalar; latent means are then free from group 2 on),
        ``+ "residuals"`` (strict), also ``"residual.covariances"``, ``"lv.variances"``, ``"lv.covariances"``,
        ``"means"``. See :func:`psychometrika.stats.invariance` for the whole sequence.
    group_partial : lavaan's ``group.partial``: parameters exempt from ``group_equal`` (``"x3~1"``,
        ``"visual=~x2"``), for partial invariance.
    std_lv : identify factors by unit variances instead of marker loadings (``std.lv = TRUE``).
    estimator : only ``"ML"``.

    The ML discrepancy :math:`F = \\log|\\Sigma(\\theta)| + \\operatorname{tr}(S\\Sigma(\\theta)^{-1})
    - \\log|S| - p` with :math:`\\Sigma = \\Lambda\\Psi\\Lambda' + \\Theta` is minimised by Fisher
    scoring; ``chisq`` = N·F; standard errors from the expected information
    :math:`\\tfrac{N}{2}\\Delta'(\\Sigma^{-1}\\otimes\\Sigma^{-1})\\Delta`. Reference: Rosseel (2012).

    Examples
    --------
    >>> fit = pm.cfa("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9", hs)  # doctest: +SKIP
    >>> fit.fit_measures()[["chisq", "df", "cfi", "rmsea", "srmr"]]   # 85.306 24 .931 .092 .065  # doctest: +SKIP
    """
    if estimator.upper() != "ML":
        raise DataError(f"estimator {estimator!r} is not supported; pm.cfa implements lavaan's default 'ML'")
    terms = parse_lavaan(model)
    lv: list[str] = []
    for t in terms:
        if t.op == "=~" and t.lhs not in lv:
            lv.append(t.lhs)
    ov: list[str] = []
    for t in terms:
        for v in ((t.rhs,) if t.op == "=~" else (t.lhs, t.rhs)):
            if v not in lv and v not in ov:
                ov.append(v)
    for t in terms:
        if t.op == "=~" and t.rhs in lv:
            raise DataError(f"'{t.lhs} =~ {t.rhs}': higher-order factors are not supported by pm.cfa",
                            hint="use R's lavaan or semopy for second-order models")
    n_dropped = 0
    groups: list[_Group] = []
    if sample_cov is not None:
        if data is not None:
            raise DataError("give either data or sample_cov, not both")
        if group is not None:
            raise DataError("group= needs raw data (a list of covariance matrices is not supported)")
        if n_obs is None or n_obs < 2:
            raise DataError("sample_cov needs n_obs (the number of observations) > 1")
        if isinstance(sample_cov, pd.DataFrame):
            missing = [v for v in ov if v not in sample_cov.columns]
            if missing:
                raise DataError(f"model variable(s) {missing} are not in sample_cov")
            S = sample_cov.loc[ov, ov].to_numpy(dtype=float)
        else:
            S = np.asarray(sample_cov, dtype=float)
            if S.shape != (len(ov), len(ov)):
                raise DataError(f"sample_cov without names must be {len(ov)} x {len(ov)} in the order {ov}")
        if not np.allclose(S, S.T, atol=1e-8):
            raise DataError("sample_cov is not symmetric")
        S = (S + S.T) / 2 * (n_obs - 1) / n_obs
        groups.append(_Group("", int(n_obs), S, None))
    else:
        if data is None:
            raise DataError("cfa needs data (a DataFrame) or sample_cov with n_obs")
        if not isinstance(data, pd.DataFrame):
            data = pd.DataFrame(np.asarray(data))
            data.columns = [str(c) for c in data.columns]
        missing = [v for v in ov if v not in data.columns]
        if missing:
            raise DataError(f"model variable(s) {missing} are not columns of the data",
                            hint=f"the data have columns {list(data.columns)[:20]}")
        cols = ov + ([group] if group is not None else [])
        if group is not None and group not in data.columns:
            raise DataError(f"group column {group!r} is not in the data")
        sub = data[cols].copy()
        for v in ov:
            if not pd.api.types.is_numeric_dtype(sub[v]):
                conv = pd.to_numeric(sub[v], errors="coerce")
                if (conv.isna() & sub[v].notna()).any():
                    raise DataError(f"column {v!r} is not numeric")
                sub[v] = conv
        complete = sub.dropna()
        n_dropped = len(sub) - len(complete)
        if n_dropped:
            warn(f"{n_dropped} row(s) with missing values on model variables were dropped (listwise deletion, "
                 "lavaan's default)")
        labels = list(pd.unique(complete[group])) if group is not None else [""]
        for lab in labels:
            part = complete[complete[group] == lab] if group is not None else complete
            x = part[ov].to_numpy(dtype=float)
            if x.shape[0] < 2:
                raise DataError(f"group {lab!r} has fewer than 2 complete rows")
            groups.append(_Group(str(lab), x.shape[0], _ml_cov(x), x.mean(axis=0)))
    for g in groups:
        sign, ld = np.linalg.slogdet(g.S)
        if sign <= 0:
            raise DataError("the sample covariance matrix of the model variables is singular"
                            + (f" in group {g.label!r}" if g.label else ""),
                            hint="drop constant or linearly dependent variables, or collect more observations")
        g.logdetS = ld  # type: ignore[attr-defined]
        zero = [ov[i] for i in np.where(np.diag(g.S) <= 0)[0]]
        if zero:
            raise DataError(f"variable(s) {zero} have no variance")
    if isinstance(group_equal, str):
        group_equal = [group_equal]
    if isinstance(group_partial, str):
        group_partial = [group_partial]
    table = _build_table(terms, ov, lv, len(groups), std_lv, group_equal, group_partial)
    mdl = _Model(table, ov, lv, groups)
    for g in groups:  # minimum-information rule (stats/guards.py): warns in words below it
        guard("invariance" if group is not None else "cfa", g.n, items=len(ov), params=mdl.n_free // len(groups))
    theta, converged, it = _fit(mdl, [_start_values_iv(mdl), _start_values(mdl)])
    if not converged:
        warn("the CFA estimation did not converge; results are unreliable")
    res = CFAResult(model, mdl, theta, converged, it, group, n_dropped)
    for gi in range(1, len(groups) + 1):
        _, P, T = mdl.matrices(theta, gi)
        if np.any(np.diag(T) < 0) or np.any(np.diag(P) < 0):
            warn("some estimated variances are negative (Heywood case); the solution is improper")
            break
    return res
