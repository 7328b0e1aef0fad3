"""Measurement invariance across groups (models, personas, prompt conditions): :func:`invariance`.

The nested multi-group CFA sequence of Meredith (1993) and Vandenberg & Lance (2000), fitted with
:func:`psychometrika.stats.cfa` (lavaan's ML, validated against ``lavaan::cfa(..., group=, group.equal=)``):

* **configural** - the same pattern of loadings in every group, all parameters free;
* **metric** (weak) - loadings equal: the factors have the same meaning and units;
* **scalar** (strong) - loadings and item intercepts equal: latent means can be compared (they are then
  free from the second group on);
* **strict** - also residual variances equal: observed scale scores can be compared.

Each level is compared with the one before it by the likelihood-ratio test (Δχ² with Δdf, as
``lavTestLRT``), ΔCFI and ΔRMSEA. A level "holds" when ΔCFI ≥ -0.01 and ΔRMSEA ≤ 0.015 (Chen, 2007; Cheung &
Rensvold, 2002). With many observations the χ² test rejects trivial differences, which is why the change in
fit indices decides. The configural level itself has no level before it: it holds when its model converges and
fits acceptably in absolute terms, CFI ≥ 0.90 and RMSEA ≤ 0.10 (``configural_cfi``, ``configural_rmsea``: CFI's
usual acceptable bound, and RMSEA short of poor fit; Hu & Bentler, 1999; MacCallum, Browne & Sugawara, 1996;
Putnick & Bornstein, 2016). When it does not, no later level
holds either: equal loadings of a factor model that does not describe the groups say nothing. For the first level
that fails, ``partial`` lists the equality constraints whose release
improves χ² most (each freed alone, refitted). These are the candidates for partial invariance (Byrne,
Shavelson & Muthén, 1989), in lavaan's ``group.partial`` syntax.

References
----------
Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor covariance and mean
structures. *Psychological Bulletin, 105*, 456-466. Chen, F. F. (2007). Sensitivity of goodness of fit indexes
to lack of measurement invariance. *Structural Equation Modeling, 14*, 464-504. Cheung, G. W., & Rensvold,
R. B. (2002). Evaluating goodness-of-fit indexes for testing measurement invariance. *Structural Equation
Modeling, 9*, 233-255. Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
analysis. *Structural Equation Modeling, 6*, 1-55. MacCallum, R. C., Browne, M. W., & Sugawara, H. M. (1996).
Power analysis and determination of sample size for covariance structure modeling. *Psychological Methods, 1*,
130-149. Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
*Psychometrika, 58*, 525-543. Putnick, D. L., & Bornstein, M. H. (2016). Measurement invariance conventions
and reporting. *Developmental Review, 41*, 71-90. Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the
measurement invariance literature. *Organizational Research Methods, 3*, 4-70.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import small_blas, PsychometrikaWarning, StatsResult, fmt_frame
from psychometrika.stats.cfa import GROUP_EQUAL, CFAResult, param_key, cfa

__all__ = ["InvarianceResult", "invariance", "LEVELS"]

#: the invariance levels and the lavaan ``group.equal`` of each
LEVELS: dict[str, tuple[str, ...]] = {"configural": (), "metric": ("loadings",),
                                      "scalar": ("loadings", "intercepts"),
                                      "strict": ("loadings", "intercepts", "residuals")}


@dataclass(repr=False, eq=False)
class InvarianceResult(StatsResult):
    """Result of :func:`invariance`.

    Attributes: ``table`` (one row per level: ``level, group_equal, npar, chisq, df, pvalue, cfi, tli, rmsea,
    srmr, aic, bic, chisq_diff, df_diff, p_diff, delta_cfi, delta_rmsea, holds``), ``fits`` (level ->
    :class:`~psychometrika.stats.cfa.CFAResult`), ``highest`` (the strictest level that holds, or None),
    ``partial`` (constraints of the first failing level, freed one at a time: ``level, parameter, chisq,
    chisq_drop, cfi, delta_cfi``, best first; empty when every level holds), ``groups`` and ``n_obs``.
    """

    _title = "Measurement invariance (multi-group CFA, ML; lavaan group.equal)"

    table: pd.DataFrame
    fits: dict[str, CFAResult]
    partial: pd.DataFrame
    highest: str | None = field(init=False)
    groups: list[str] = field(init=False)
    n_obs: list[int] = field(init=False)

    def __post_init__(self) -> None:
        table, fits = self.table, self.fits
        holds = table.loc[table["holds"].astype(bool), "level"].tolist()
        self.highest = None
        for lev in table["level"]:  # the strictest level before the first failure
            if lev not in holds:
                break
            self.highest = lev
        first = next(iter(fits.values()))
        self.groups = first.group_labels
        self.n_obs = first.n_obs

    def no_level(self) -> str:
        """Why no level holds, in words."""
        first = self.table.iloc[0]
        if not next(iter(self.fits.values())).converged:
            return "none (the configural model did not converge)"
        return (f"none (the configural model fits poorly: CFI {first['cfi']:.3f}, RMSEA {first['rmsea']:.3f}; "
                "the factor model does not describe the groups, so equal parameters would mean nothing)")

    def to_frame(self) -> pd.DataFrame:
        """The level-by-level comparison ``table``."""
        return self.table.copy()

    def _summary_lines(self, digits: int) -> list[str]:
        cols = ["npar", "chisq", "df", "pvalue", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff", "p_diff",
                "delta_cfi", "delta_rmsea", "holds"]
        lines = ["Groups: " + ", ".join(f"{g} (n = {n})" for g, n in zip(self.groups, self.n_obs)), "",
                 fmt_frame(self.table.set_index("level")[cols], max(digits, 3)), "",
                 "The configural level holds when it converges with CFI >= 0.90 and RMSEA <= 0.10; a later level "
                 "when dCFI >= -0.010 and dRMSEA <= 0.015 against the level before it (Chen, 2007).",
                 f"Highest level that holds: {self.highest or self.no_level()}"]
        if len(self.partial):
            lines += ["", f"Partial {self.partial['level'].iloc[0]} invariance: constraints whose release helps most",
                      fmt_frame(self.partial.head(10).set_index("parameter").drop(columns="level"), max(digits, 3))]
        return lines


def _row(level: str, fit: CFAResult, eq: Sequence[str]) -> dict[str, Any]:
    fm = fit.fit_measures()
    return {"level": level, "group_equal": ", ".join(eq) or "none", "npar": int(fm["npar"]),
            "chisq": fm["chisq"], "df": int(fm["df"]), "pvalue": fm["pvalue"], "cfi": fm["cfi"], "tli": fm["tli"],
            "rmsea": fm["rmsea"], "srmr": fm["srmr"], "aic": fm["aic"], "bic": fm["bic"]}


def _misfit(fit: CFAResult) -> dict[str, float]:
    """Per parameter of the equality-constrained model, the n-weighted squared standardised residual of the
    moment it mainly reproduces: an item's mean (intercepts), its variance (residual variances) or its row of
    covariances (loadings). Used to rank the partial-invariance candidates before refitting."""
    m = fit.spec
    score: dict[str, float] = {}
    for gi, grp in enumerate(m.groups, start=1):
        sd = np.sqrt(np.diag(grp.S))
        res_cov = (grp.S - m.sigma(fit.theta, gi)) / np.outer(sd, sd)
        res_mean = (grp.mean - m.mu(fit.theta, gi)) / sd if grp.mean is not None else np.zeros(m.p)
        for r in m.table:
            if r.group != gi or not r.free:
                continue
            if r.mat == "nu":
                v = res_mean[r.i] ** 2
            elif r.mat == "T":
                v = res_cov[r.i, r.j] ** 2
            elif r.mat == "L":
                v = float(np.sum(res_cov[r.i] ** 2))
            else:
                continue
            score[param_key(r)] = score.get(param_key(r), 0.0) + grp.n * v
    return score


@small_blas
def invariance(model: str, data: pd.DataFrame, group: str, *, levels: Sequence[str] = tuple(LEVELS),
               std_lv: bool = False, delta_cfi: float = -0.01, delta_rmsea: float = 0.015,
               configural_cfi: float = 0.90, configural_rmsea: float = 0.10,
               partial: bool | int = True) -> InvarianceResult:
    """Configural, metric, scalar and strict invariance of a CFA model across the groups in ``data[group]``.

    Parameters
    ----------
    model : lavaan model syntax (see :func:`psychometrika.stats.cfa`).
    data : one row per respondent (e.g. :func:`psychometrika.to_wide` of a run: one row per model x persona x
        condition), the model's items as columns and the ``group`` column (``"model"``, ``"persona"``,
        ``"order_id"`` ...).
    levels : the nested levels to fit, in order (a prefix of ``configural, metric, scalar, strict``).
    delta_cfi, delta_rmsea : cut-offs for "holds" (Chen, 2007: ΔCFI ≥ -.010, ΔRMSEA ≤ .015).
    configural_cfi, configural_rmsea : the absolute fit the configural model needs to hold (CFI ≥ .90,
        RMSEA ≤ .10); a later level holds only when the configural one does.
    partial : for the first level that fails, free each of its new equality constraints alone and report
        the χ² improvement (partial-invariance candidates). An integer refits only that many constraints, those
        whose items misfit most under the failing level (standardised mean, variance or covariance residuals,
        weighted by group size); ``False`` skips the search.

    The likelihood-ratio statistic between nested levels a ⊂ b is :math:`\\Delta\\chi^2 = \\chi^2_b -
    \\chi^2_a` on :math:`\\Delta df = df_b - df_a` (lavaan's ``lavTestLRT`` with ML), and
    :math:`\\Delta CFI = CFI_b - CFI_a`, :math:`\\Delta RMSEA = RMSEA_b - RMSEA_a`.

    Examples
    --------
    >>> mi = pm.invariance("E =~ e1 + e2 + e3 + e4", wide, group="model")   # doctest: +SKIP
    >>> mi.table[["level", "chisq", "df", "cfi", "delta_cfi", "holds"]]       # doctest: +SKIP
    """
    levels = list(levels)
    order = list(LEVELS)
    if not levels or levels != order[:len(levels)]:
        raise DataError(f"levels must be a prefix of {order}, got {levels}")
    if group not in getattr(data, "columns", []):
        raise DataError(f"group column {group!r} is not in the data")
    n_groups = data[group].nunique(dropna=True)
    if n_groups < 2:
        raise DataError(f"invariance needs at least 2 groups in column {group!r}; found {n_groups}")
    fits: dict[str, CFAResult] = {}
    rows = []
    for lev in levels:
        fits[lev] = cfa(model, data, group=group, group_equal=LEVELS[lev], std_lv=std_lv)
        rows.append(_row(lev, fits[lev], LEVELS[lev]))
    table = pd.DataFrame(rows)
    for col in ("chisq_diff", "p_diff", "delta_cfi", "delta_rmsea"):
        table[col] = np.nan
    table["df_diff"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["holds"] = True
    base = table.iloc[0]
    table.loc[0, "holds"] = bool(fits[levels[0]].converged and base["cfi"] >= configural_cfi
                                 and base["rmsea"] <= configural_rmsea)
    for k in range(1, len(table)):
        a, b = table.iloc[k - 1], table.iloc[k]
        d_chi, d_df = b["chisq"] - a["chisq"], int(b["df"] - a["df"])
        table.loc[k, "chisq_diff"] = d_chi
        table.loc[k, "df_diff"] = d_df
        table.loc[k, "p_diff"] = float(stats.chi2.sf(max(d_chi, 0.0), d_df)) if d_df > 0 else np.nan
        table.loc[k, "delta_cfi"] = b["cfi"] - a["cfi"]
        table.loc[k, "delta_rmsea"] = b["rmsea"] - a["rmsea"]
        table.loc[k, "holds"] = bool(table.loc[k, "delta_cfi"] >= delta_cfi
                                     and table.loc[k, "delta_rmsea"] <= delta_rmsea and fits[b["level"]].converged
                                     and bool(table.loc[0, "holds"]))
    part = pd.DataFrame(columns=["level", "parameter", "chisq", "chisq_drop", "cfi", "delta_cfi"])
    failed = [k for k in range(1, len(table)) if not table.loc[k, "holds"]]
    if partial and failed:
        k = failed[0]
        lev, prev = table.loc[k, "level"], table.loc[k - 1, "level"]
        new_kinds = [x for x in LEVELS[lev] if x not in LEVELS[prev]]
        fit = fits[lev]
        params = sorted({param_key(r) for r in fit.spec.table
                         if r.free and r.label.startswith(".eq.") and any(GROUP_EQUAL[x](r) for x in new_kinds)})
        if partial is not True and int(partial) < len(params):  # refit only the most misfitting candidates
            misfit = _misfit(fit)
            params = sorted(params, key=lambda par: -misfit.get(par, 0.0))[:int(partial)]
        out = []
        for par in params:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PsychometrikaWarning)
                f2 = cfa(model, data, group=group, group_equal=LEVELS[lev], group_partial=[par], std_lv=std_lv)
            fm = f2.fit_measures()
            out.append({"level": lev, "parameter": par, "chisq": fm["chisq"],
                        "chisq_drop": table.loc[k, "chisq"] - fm["chisq"], "cfi": fm["cfi"],
                        "delta_cfi": fm["cfi"] - table.loc[k - 1, "cfi"]})
        if out:
            part = pd.DataFrame(out).sort_values("chisq_drop", ascending=False, kind="stable").reset_index(drop=True)
    return InvarianceResult(table, fits, part)
