"""Generalizability theory for fully crossed random designs: :func:`g_study` and :func:`d_study`.

Variance components are estimated from the ANOVA mean squares through their expected values
(Cornfield–Tukey rules for a fully crossed random-effects design with one observation per
cell), as in GENOVA / Brennan (2001). For LLM measurement the object of measurement is
typically the persona (or the model) and the facets are items, instruction paraphrases,
option orders, seeds.

References
----------
Cronbach, L. J., Gleser, G. C., Nanda, H., & Rajaratnam, N. (1972). *The dependability of
behavioral measurements*. Wiley. Brennan, R. L. (2001). *Generalizability theory*. Springer.
Shavelson, R. J., & Webb, N. M. (1991). *Generalizability theory: A primer*. Sage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import functools
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats.common import small_blas, StatsResult, fmt_frame

__all__ = ["GStudyResult", "d_study", "d_study_plan", "g_study"]


@dataclass(repr=False, eq=False)
class GStudyResult(StatsResult):
    """Result of :func:`g_study`.

    Attributes: ``components`` (DataFrame: ``effect, df, SS, MS, variance_raw, variance,
    percent``; ``variance`` has negative estimates set to 0), ``object`` (object of measurement),
    ``facets``, ``n`` (levels per factor), ``g_coefficient`` (Eρ², relative), ``phi`` (Φ,
    absolute), ``rel_error``/``abs_error`` variances for the observed design, ``notes``.
    """

    _title = "Generalizability study (crossed random design, ANOVA / expected mean squares)"

    components: pd.DataFrame
    object: str
    facets: list[str]
    n: dict[str, int]
    notes: list[str]
    n_obs: int
    g_coefficient: float = field(init=False)
    phi: float = field(init=False)
    rel_error: float = field(init=False)
    abs_error: float = field(init=False)

    def __post_init__(self) -> None:
        d = d_study(self, {f: self.n[f] for f in self.facets})
        self.g_coefficient = float(d["g_coefficient"].iloc[0])
        self.phi = float(d["phi"].iloc[0])
        self.rel_error = float(d["rel_error"].iloc[0])
        self.abs_error = float(d["abs_error"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """The variance components table ``components``."""
        return self.components.copy()

    def _summary_lines(self, digits: int) -> list[str]:
        design = " x ".join([self.object, *self.facets])
        lines = [f"Design: {design}  (levels: " + ", ".join(f"{k} {v}" for k, v in self.n.items()) + ")",
                 f"Object of measurement: {self.object}", "", "Variance components:",
                 fmt_frame(self.components.set_index("effect"), max(digits, 4)), "",
                 (f"Relative error variance {self.rel_error:.{digits + 2}f}   absolute error variance "
                  f"{self.abs_error:.{digits + 2}f}"),
                 (f"G coefficient (E rho^2) {self.g_coefficient:.{digits + 1}f}   dependability (Phi) "
                  f"{self.phi:.{digits + 1}f}")]
        if self.notes:
            lines += ["", *[f"Note: {n}" for n in self.notes]]
        return lines


def _effect_name(combo: Sequence[str]) -> str:
    return ":".join(combo)


@small_blas
def g_study(df: pd.DataFrame, *, value: str = "score",
            facets: Sequence[str] = ("item", "persona", "instruction_id", "order_id", "seed"),
            object: str | None = None) -> GStudyResult:
    """Variance components of a fully crossed random design from ANOVA expected mean squares.

    ``df`` is long (one row per observation) with the ``value`` column and one column per
    factor. The factors are ``object`` (the object of measurement) plus ``facets``. When
    ``object`` is None it is ``"model"`` if that column exists and is not a facet, otherwise
    ``"persona"`` if it is among the facets (then it is removed from them), otherwise the first
    facet. Facets with a single level are dropped. Repeated observations of a cell are averaged
    (the highest-order interaction is then confounded with within-cell error, as always with one
    observation per cell). Every cell must be observed.

    For each effect α (a set of factors) with mean square :math:`MS_\\alpha`,
    :math:`E[MS_\\alpha] = \\sum_{\\beta \\supseteq \\alpha} \\pi(\\bar\\beta)\\sigma^2_\\beta`
    (π(β̄) = product of the numbers of levels of the factors not in β); the system is solved from
    the highest-order interaction down (Brennan, 2001, §3.4). Negative estimates are kept in
    ``variance_raw`` and set to 0 in ``variance`` (with a note); later equations use the raw values
    (Brennan's convention). With object p and n'_f levels per facet:
    relative error :math:`\\sigma^2_\\delta = \\sum_{\\alpha \\ni p, \\alpha \\ne p} \\sigma^2_\\alpha/
    \\prod_{f \\in \\alpha \\setminus p} n'_f`, absolute error :math:`\\sigma^2_\\Delta` = the same sum
    over every effect except p; :math:`E\\rho^2 = \\sigma^2_p/(\\sigma^2_p + \\sigma^2_\\delta)`,
    :math:`\\Phi = \\sigma^2_p/(\\sigma^2_p + \\sigma^2_\\Delta)` (for the observed numbers of levels;
    :func:`d_study` for others).

    >>> g = pm.g_study(long, value="score", facets=("item", "instruction_id"), object="persona")  # doctest: +SKIP
    >>> g.components, g.g_coefficient, pm.d_study(g, {"item": 20})                          # doctest: +SKIP
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError("g_study needs a long DataFrame (one row per observation)")
    facets = [facets] if isinstance(facets, str) else list(facets)
    if object is None:
        if "model" in df.columns and "model" not in facets:
            object = "model"
        elif "persona" in facets:
            object = "persona"
        elif facets:
            object = facets[0]
        else:
            raise DataError("give the object of measurement (object=) and at least one facet")
    facets = [f for f in facets if f != object]
    missing = [c for c in [value, object, *facets] if c not in df.columns]
    if missing:
        raise DataError(f"column(s) {missing} are not in the data", hint=f"columns: {list(df.columns)}")
    data = df[[object, *facets, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    n_missing = int(data[value].isna().sum())
    data = data.dropna()
    notes: list[str] = []
    if n_missing:
        notes.append(f"{n_missing} missing value(s) were dropped")
    single = [f for f in facets if data[f].nunique() < 2]
    if single:
        notes.append(f"facet(s) {single} have a single level and were dropped")
        facets = [f for f in facets if f not in single]
    if not facets:
        raise DataError("no facet has two or more levels: nothing to decompose")
    if data[object].nunique() < 2:
        others = [c for c in ("persona", "model", "instruction_id", "order_id") if c != object and c in df.columns
                  and df[c].nunique() >= 2]
        raise DataError(f"the object of measurement {object!r} needs at least 2 levels; it has "
                        f"{data[object].nunique()}",
                        hint=(f"with one model, measure another object, e.g. object={others[0]!r} "
                              f"(and leave it out of facets)") if others else "add levels (models or personas)")
    factors = [object, *facets]
    cells = data.groupby(factors, observed=True)[value].agg(["mean", "size"])
    if (cells["size"] > 1).any():
        notes.append("cells with several observations were averaged")
    levels = [sorted(data[f].unique(), key=str) for f in factors]
    shape = tuple(len(lv) for lv in levels)
    if len(cells) != int(np.prod(shape)):
        raise DataError(f"the design is not fully crossed: {len(cells)} of {int(np.prod(shape))} cells "
                        f"({' x '.join(f'{f} {n}' for f, n in zip(factors, shape))}) are observed",
                        hint="drop incomplete levels (e.g. respondents with refusals) or average over a facet")
    X = np.empty(shape)
    idx = tuple(pd.Categorical(cells.index.get_level_values(i), categories=levels[i]).codes
                for i in range(len(factors)))
    X[idx] = cells["mean"].to_numpy(float)
    k = len(factors)
    N = X.size
    # marginal means over every subset of factors (kept as broadcastable arrays)
    means: dict[tuple[int, ...], np.ndarray] = {}
    for r in range(k + 1):
        for keep in itertools.combinations(range(k), r):
            drop = tuple(i for i in range(k) if i not in keep)
            means[keep] = X.mean(axis=drop, keepdims=True) if drop else X
    effects = [c for r in range(1, k + 1) for c in itertools.combinations(range(k), r)]
    rows = {}
    for e in effects:
        eff = np.zeros([shape[i] if i in e else 1 for i in range(k)])
        for r in range(len(e) + 1):
            for sub in itertools.combinations(e, r):
                eff = eff + (-1) ** (len(e) - r) * means[sub]
        ss = float(np.sum(eff ** 2)) * N / eff.size
        df_e = int(np.prod([shape[i] - 1 for i in e]))
        rows[e] = (df_e, ss, ss / df_e)
    # solve the expected-mean-square equations from the highest order down
    raw: dict[tuple[int, ...], float] = {}
    for e in sorted(effects, key=len, reverse=True):
        ms = rows[e][2]
        acc = ms
        for f in effects:
            if set(f) > set(e):
                acc -= np.prod([shape[i] for i in range(k) if i not in f]) * raw[f]
        raw[e] = acc / np.prod([shape[i] for i in range(k) if i not in e])
    neg = [_effect_name([factors[i] for i in e]) for e in effects if raw[e] < 0]
    if neg:
        notes.append(f"negative variance estimate(s) for {neg} were set to 0 (Brennan's convention: the raw "
                     "estimates are used in the other equations)")
    comp = pd.DataFrame([{"effect": _effect_name([factors[i] for i in e]), "df": rows[e][0], "SS": rows[e][1],
                          "MS": rows[e][2], "variance_raw": float(raw[e]), "variance": max(float(raw[e]), 0.0)}
                         for e in effects])
    total = comp["variance"].sum()
    comp["percent"] = 100 * comp["variance"] / total if total > 0 else np.nan
    n = dict(zip(factors, shape))
    return GStudyResult(comp, object, facets, n, notes, len(data))


def d_study(g: GStudyResult, n: Mapping[str, int | Sequence[int]] | None = None) -> pd.DataFrame:
    """Decision study: G coefficient and Φ for other numbers of facet levels.

    ``n`` maps facets to the numbers of levels n' that will be averaged over (an int or a list of
    ints; lists give every combination); facets not named keep their G-study numbers. Returns one
    row per combination with the n' columns, ``rel_error``, ``abs_error``, ``g_coefficient``
    (:math:`\\sigma^2_p/(\\sigma^2_p + \\sigma^2_\\delta)`) and ``phi``
    (:math:`\\sigma^2_p/(\\sigma^2_p + \\sigma^2_\\Delta)`), using the non-negative components.

    >>> pm.d_study(g, {"item": [5, 10, 20], "instruction_id": 1})          # doctest: +SKIP
    """
    if not isinstance(g, GStudyResult):
        raise DataError("d_study needs the result of g_study")
    n = dict(n or {})
    unknown = [f for f in n if f not in g.facets]
    if unknown:
        raise DataError(f"unknown facet(s) {unknown}; the facets are {g.facets}")
    grid = {f: (list(n[f]) if isinstance(n.get(f), (list, tuple, range, np.ndarray)) else [n.get(f, g.n[f])])
            for f in g.facets}
    for f, vals in grid.items():
        if any(int(v) < 1 for v in vals):
            raise DataError(f"numbers of levels must be >= 1 (facet {f!r})")
    sp = _object_variance(g)
    rows = []
    for combo in itertools.product(*grid.values()):
        nn = dict(zip(grid.keys(), (int(v) for v in combo)))
        rel, absv = (float(x) for x in _error_variances(g, nn))
        rows.append({**nn, "rel_error": rel, "abs_error": absv,
                     "g_coefficient": sp / (sp + rel) if sp + rel > 0 else np.nan,
                     "phi": sp / (sp + absv) if sp + absv > 0 else np.nan})
    return pd.DataFrame(rows)


def _object_variance(g: GStudyResult) -> float:
    return float(g.components.set_index("effect").loc[g.object, "variance"])


def _error_variances(g: GStudyResult, n: Mapping[str, Any]) -> tuple[Any, Any]:
    r"""Brennan's relative and absolute error variances for n' levels per facet (2001, ch. 4):
    :math:`\sigma^2_\delta = \sum_{\alpha \ni p} \sigma^2_\alpha / \prod_{f \in \alpha \setminus p} n'_f`,
    :math:`\sigma^2_\Delta` the same over every effect but p. The n' may be numbers or broadcastable arrays."""
    rel: Any = 0.0
    absv: Any = 0.0
    for eff, v in zip(g.components["effect"], g.components["variance"]):
        parts = eff.split(":")
        fac = [p for p in parts if p != g.object]
        if not fac:
            continue
        term = v / functools.reduce(np.multiply, [np.asarray(n[p], dtype=float) for p in fac])
        absv = absv + term
        if g.object in parts:
            rel = rel + term
    return rel, absv


def d_study_plan(g: GStudyResult, *, target_g: float | None = 0.80, target_se: float | None = None,
                 facets: Sequence[str] | None = None, max_levels: int = 64,
                 coefficient: str = "g_coefficient") -> pd.DataFrame:
    """D-study planner: how many option orders, paraphrases, seeds ... reach a target precision.

    For the design facets (default: every facet of ``g`` except ``item``, whose number is fixed by the
    instrument) it searches every combination of n' = 1 ... ``max_levels`` levels and returns, per facet
    varied alone and for all of them together, the cheapest design that reaches ``target_g`` (on
    ``coefficient``: ``g_coefficient`` = Eρ² for relative decisions, ``phi`` = Φ for absolute ones) and/or
    ``target_se`` (standard error of measurement :math:`\\sqrt{\\sigma^2_\\delta}`, or
    :math:`\\sqrt{\\sigma^2_\\Delta}` with ``phi``). The cost of a design is the number of administrations per
    respondent and item, :math:`\\prod_f n'_f`. Rows: ``varied`` (the facet, or ``"all"``), the n' of each
    design facet, ``administrations``, ``g_coefficient``, ``phi``, ``se``, ``reached`` (False when even
    ``max_levels`` is not enough: the row then shows ``max_levels``).

    The error variances decrease as :math:`\\sigma^2_\\alpha/\\prod n'` (Brennan, 2001, ch. 4), so precision
    limited by object × item variance cannot be bought with more orders or paraphrases: the planner then says
    ``reached = False``.

    >>> pm.d_study_plan(g, target_g=0.8)   # doctest: +SKIP
    """
    if not isinstance(g, GStudyResult):
        raise DataError("d_study_plan needs the result of g_study")
    if target_g is None and target_se is None:
        raise DataError("give target_g and/or target_se")
    if coefficient not in ("g_coefficient", "phi"):
        raise DataError("coefficient must be 'g_coefficient' or 'phi'")
    design = [f for f in (facets if facets is not None else [f for f in g.facets if f != "item"])]
    unknown = [f for f in design if f not in g.facets]
    if unknown:
        raise DataError(f"unknown facet(s) {unknown}; the facets are {g.facets}")
    if not design:
        raise DataError("no design facet to plan (the G study has only items)")
    sp = _object_variance(g)
    levels = np.arange(1, max_levels + 1)
    out = []
    for varied in [*design, "all"] if len(design) > 1 else design:
        vary = design if varied == "all" else [varied]
        # every combination of n' for the varied facets (an axis each); other facets at their G-study numbers
        axes = {f: levels.reshape([-1 if k == i else 1 for k in range(len(vary))]) for i, f in enumerate(vary)}
        nn = {f: axes.get(f, g.n[f]) for f in g.facets}
        shape = [max_levels] * len(vary)
        rel, absv = (np.broadcast_to(x, shape) for x in _error_variances(g, nn))
        gc = np.where(sp + rel > 0, sp / (sp + rel), np.nan)
        phi = np.where(sp + absv > 0, sp / (sp + absv), np.nan)
        coef, err = (gc, rel) if coefficient == "g_coefficient" else (phi, absv)
        good = np.ones_like(rel, dtype=bool)
        if target_g is not None:
            good &= coef >= target_g - 1e-12
        if target_se is not None:
            good &= np.sqrt(err) <= target_se + 1e-12
        cost = functools.reduce(np.multiply, [np.asarray(nn[f], dtype=float) for f in design]) * np.ones_like(rel)
        if good.any():
            flat = np.flatnonzero(good.ravel())
            pick = flat[np.lexsort((flat, cost.ravel()[flat]))[0]]   # cheapest, then fewest of the first facet
        else:
            pick = rel.size - 1                                       # every varied facet at max_levels
        idx = np.unravel_index(pick, rel.shape)
        chosen = {f: int(levels[idx[vary.index(f)]]) if f in vary else int(g.n[f]) for f in design}
        out.append({"varied": varied, **chosen, "administrations": int(np.prod(list(chosen.values()))),
                    "g_coefficient": float(gc[idx]), "phi": float(phi[idx]), "se": float(np.sqrt(err[idx])),
                    "reached": bool(good.any())})
    return pd.DataFrame(out)
