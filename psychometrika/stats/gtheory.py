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

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats._common import StatsResult, fmt_frame

__all__ = ["GStudyResult", "d_study", "g_study"]


class GStudyResult(StatsResult):
    """Result of :func:`g_study`.

    Attributes: ``components`` (DataFrame: ``effect, df, SS, MS, variance_raw, variance,
    percent``; ``variance`` has negative estimates set to 0), ``object`` (object of measurement),
    ``facets``, ``n`` (levels per factor), ``g_coefficient`` (Eρ², relative), ``phi`` (Φ,
    absolute), ``rel_error``/``abs_error`` variances for the observed design, ``notes``.
    """

    _title = "Generalizability study (crossed random design, ANOVA / expected mean squares)"

    def __init__(self, components: pd.DataFrame, object_: str, facets: list[str], n: dict[str, int],
                 notes: list[str], n_obs: int):
        self.components = components
        self.object = object_
        self.facets = facets
        self.n = n
        self.notes = notes
        self.n_obs = n_obs
        d = d_study(self, {f: n[f] for f in facets})
        self.g_coefficient = float(d["g_coefficient"].iloc[0])
        self.phi = float(d["phi"].iloc[0])
        self.rel_error = float(d["rel_error"].iloc[0])
        self.abs_error = float(d["abs_error"].iloc[0])

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
        raise DataError(f"the object of measurement {object!r} needs at least 2 levels")
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
    var = dict(zip(g.components["effect"], g.components["variance"]))
    sp = var[g.object]
    rows = []
    for combo in itertools.product(*grid.values()):
        nn = dict(zip(grid.keys(), (int(v) for v in combo)))
        rel = absv = 0.0
        for eff, v in var.items():
            parts = eff.split(":")
            fac = [p for p in parts if p != g.object]
            if not fac:
                continue
            div = float(np.prod([nn[p] for p in fac]))
            absv += v / div
            if g.object in parts:
                rel += v / div
        rows.append({**nn, "rel_error": rel, "abs_error": absv,
                     "g_coefficient": sp / (sp + rel) if sp + rel > 0 else np.nan,
                     "phi": sp / (sp + absv) if sp + absv > 0 else np.nan})
    return pd.DataFrame(rows)
