"""Minimum-information guards: below how many respondents a statistic says nothing trustworthy.

"A number that can mislead is worse than no number." Each statistic has a rule (:data:`GUARD_RULES`) with two
levels:

* **not estimable** -- the quantity is undefined or the estimate is an artefact (e.g. a correlation matrix of
  more items than respondents is singular; a correlation needs ``n > 3`` for its Fisher-z interval); the report
  prints "not estimable (n = 12; needs ≥ 45 = items + 1)" in words and no number;
* **too little information** -- the statistic can be computed but is known to be unstable at this size; the
  statistics functions (``pm.fa``, ``pm.cfa``, ``pm.invariance``, ``pm.omega``, ``pm.split_half``) emit an
  :class:`InsufficientInformationWarning` (a :class:`~psychometrika.stats.common.PsychometrikaWarning`) that
  says the same in words, and still return the result.

========== ========================================== ================================================ =================
statistic  not estimable below                        warning below                                    sources
========== ========================================== ================================================ =================
alpha      n < 2 respondents or < 2 items              n < 30                                           Yurdugül (2008); Bonett (2002)
omega      n ≤ items (singular correlations), no α     n < max(100, 5 × items)                          as EFA (it is an EFA)
split_half n < 2 or < 4 items                          n < 30                                           as alpha
efa        n ≤ items (singular correlations)           n < max(100, 5 × items)                          Gorsuch (1983); MacCallum et al. (1999)
cfa        n ≤ indicators (singular covariance)        n < max(100, 5 × free parameters)                Bentler & Chou (1987); Kline (2016)
invariance any group n ≤ indicators                    any group n < max(100, 5 × free parameters)      as CFA, per group (Meade & Lautenschlager, 2004)
cor        n ≤ 3 or a constant variable                n < 30                                           Fisher z needs n > 3; project's choice
========== ========================================== ================================================ =================

The "warning below" sizes are rules of thumb, not laws (MacCallum et al. 1999 show that communalities matter
as much as N); they are stated so that a reader sees which rule withheld a number. What counts as *n* is the
number of respondents -- and when the respondents are conditions of one model (personas, paraphrases, option
orders), they are not independent people: a p-value over them is not a claim about a population of models
(pseudo-replication; Hurlbert, 1984). :data:`PSEUDO_REPLICATION_CAVEAT` is the sentence the report prints.

References: Bentler, P. M. & Chou, C.-P. (1987). Practical issues in structural modeling. *Sociological Methods
& Research* 16, 78–117. Bonett, D. G. (2002). Sample size requirements for testing and estimating coefficient
alpha. *J. Educational and Behavioral Statistics* 27, 335–340. Gorsuch, R. L. (1983). *Factor analysis* (2nd
ed.). Erlbaum. Hurlbert, S. H. (1984). Pseudoreplication and the design of ecological field experiments.
*Ecological Monographs* 54, 187–211. Kline, R. B. (2016). *Principles and practice of structural equation
modeling* (4th ed.). Guilford. MacCallum, R. C., Widaman, K. F., Zhang, S. & Hong, S. (1999). Sample size in
factor analysis. *Psychological Methods* 4, 84–99. Meade, A. W. & Lautenschlager, G. J. (2004). A Monte-Carlo
study of confirmatory factor analytic tests of measurement equivalence/invariance. *Structural Equation
Modeling* 11, 60–72. Yurdugül, H. (2008). Minimum sample size for Cronbach's coefficient alpha: a Monte-Carlo
study. *Hacettepe University Journal of Education* 35, 397–405.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psychometrika.stats.common import PsychometrikaWarning

__all__ = ["GUARD_RULES", "GuardResult", "InsufficientInformationWarning", "PSEUDO_REPLICATION_CAVEAT",
           "WarningSummary", "cor_table", "guard", "holm"]

#: The caveat printed with any p-value computed over conditions of one model.
PSEUDO_REPLICATION_CAVEAT = (
    "The respondents are administration conditions (personas, instruction wordings, option orders) of one model, "
    "not independent people: a p-value over them describes this set of conditions, not a population of models or "
    "people (pseudo-replication).")


class InsufficientInformationWarning(PsychometrikaWarning):
    """A statistic was computed from fewer respondents than its minimum-information rule asks for."""


@dataclass(frozen=True)
class GuardResult:
    """The verdict of one rule: ``estimable`` (a number may be shown), ``adequate`` (no warning needed) and
    ``reason`` in words (empty when adequate)."""

    statistic: str
    n: int
    estimable: bool
    adequate: bool
    needs: int
    reason: str

    def text(self) -> str:
        """What a table prints instead of a number: ``not estimable (n = 12; needs ≥ 45: items + 1)``."""
        return f"not estimable ({self.reason})" if not self.estimable else ""


#: statistic -> (what it is, sources): the table of the module docstring, for reports and error messages.
GUARD_RULES: Mapping[str, str] = {
    "alpha": "alpha needs ≥ 2 items and ≥ 2 respondents; below 30 respondents it is unstable (Yurdugül 2008; "
             "Bonett 2002)",
    "split_half": "split-half reliability needs ≥ 4 items; below 30 respondents it is unstable (as alpha)",
    "omega": "omega is an EFA: it needs more respondents than items and a defined alpha; below max(100, 5 × items) "
             "respondents its factor solution is unstable (Gorsuch 1983; MacCallum et al. 1999)",
    "efa": "an EFA needs more respondents than items (else the correlation matrix is singular); below "
           "max(100, 5 × items) it is unstable (Gorsuch 1983; MacCallum et al. 1999)",
    "cfa": "a CFA needs more respondents than indicators; below max(100, 5 × free parameters) its estimates and "
           "fit are unreliable (Bentler & Chou 1987; Kline 2016)",
    "invariance": "invariance tests need the CFA rule in EVERY group (Meade & Lautenschlager 2004)",
    "cor": "a correlation needs n > 3 and two variables that vary; below 30 its CI is wide (project's choice)",
}


def guard(statistic: str, n: int, *, items: int = 0, params: int = 0, constant: bool = False,
          alpha_defined: bool = True, warn: bool = True, stacklevel: int = 3) -> GuardResult:
    """Apply the rule of ``statistic`` (a key of :data:`GUARD_RULES`) to ``n`` respondents.

    ``items``: items (EFA, omega, alpha, split-half) or indicators (CFA, invariance); ``params``: free
    parameters (CFA, invariance per group); ``constant``: a variable does not vary (correlations, alpha);
    ``alpha_defined``: for omega. With ``warn`` an :class:`InsufficientInformationWarning` is emitted when the
    rule is not met (estimable or not), naming the numbers in words.
    """
    n = int(n)
    if statistic not in GUARD_RULES:
        raise KeyError(f"no minimum-information rule for {statistic!r}; known: {sorted(GUARD_RULES)}")
    floor, need, what = 0, 0, ""
    extra = ""
    if statistic in ("alpha", "split_half"):
        min_items = 4 if statistic == "split_half" else 2
        if items and items < min_items:
            return _done(statistic, n, False, min_items, f"{items} items; needs ≥ {min_items} items", warn, stacklevel)
        if constant:
            return _done(statistic, n, False, 2, f"n = {n}; the answers do not vary, so the item variances and "
                                                 "their ratio are undefined", warn, stacklevel)
        floor, need, what = 2, 30, "30 respondents"
    elif statistic in ("efa", "omega"):
        if statistic == "omega" and not alpha_defined:
            return _done(statistic, n, False, 0, f"n = {n}; alpha is undefined (answers without variance), so "
                                                 "omega total would be an artefact", warn, stacklevel)
        floor, need = items + 1, max(100, 5 * items)
        what = f"{need} respondents: max(100, 5 × {items} items)"
        extra = f"needs ≥ {floor} = items + 1 for a non-singular correlation matrix"
    elif statistic in ("cfa", "invariance"):
        floor, need = items + 1, max(100, 5 * params)
        what = f"{need} respondents{' per group' if statistic == 'invariance' else ''}: max(100, 5 × {params} " \
               f"free parameters)"
        extra = f"needs ≥ {floor} = indicators + 1{' per group' if statistic == 'invariance' else ''} for a " \
                f"non-singular covariance matrix"
    elif statistic == "cor":
        if constant:
            return _done(statistic, n, False, 0, f"n = {n}; a variable is constant, so the correlation is "
                                                 "undefined", warn, stacklevel)
        floor, need, what = 4, 30, "30 pairs"
        extra = "needs ≥ 4 pairs for a Fisher-z interval"
    if n < floor:
        return _done(statistic, n, False, floor, f"n = {n}; {extra or f'needs ≥ {floor}'}", warn, stacklevel)
    if n < need:
        return _done(statistic, n, True, need, f"n = {n}; needs ≥ {what}", warn, stacklevel)
    return GuardResult(statistic, n, True, True, need, "")


def _done(statistic: str, n: int, estimable: bool, needs: int, reason: str, warn: bool,
          stacklevel: int) -> GuardResult:
    res = GuardResult(statistic, n, estimable, False, needs, reason)
    if warn:
        head = "not estimable" if not estimable else "too little information"
        warnings.warn(f"{statistic}: {head} ({reason}); {GUARD_RULES[statistic]}", InsufficientInformationWarning,
                      stacklevel=stacklevel + 1)
    return res


def holm(p_values: "list[float] | tuple[float, ...] | object") -> list[float]:
    """Holm (1979) step-down adjusted p-values, like R's ``p.adjust(p, "holm")`` (NaN stays NaN, not counted)."""
    import math

    ps = [float(p) for p in p_values]  # type: ignore[union-attr]
    idx = sorted((i for i, p in enumerate(ps) if not math.isnan(p)), key=lambda i: ps[i])
    m = len(idx)
    out = [math.nan] * len(ps)
    running = 0.0
    for rank, i in enumerate(idx):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        out[i] = running
    return out


def cor_table(data: Any, *, ci: float = 0.95, method: str = "pearson", one_model: bool = False) -> Any:
    """Pairwise correlations with CIs, p-values and Holm-adjusted p-values, guarded.

    One row per pair of columns of ``data``: ``x, y, n, r, CI, CI_low, CI_high, p`` (as :func:`pm.cor_ci`),
    ``p_holm`` (Holm over the estimable pairs) and ``note``. A pair with a constant variable or fewer than 4
    complete pairs is *not estimable*: its numbers are NaN and ``note`` says why in words (never a
    correlation of 1.00 or 0 that is an artefact). ``one_model=True`` (respondents are conditions of one model)
    puts :data:`PSEUDO_REPLICATION_CAVEAT` in ``attrs["caveat"]`` and in the note of every p-value.
    """
    import itertools

    import numpy as np
    import pandas as pd

    from psychometrika.errors import DataError
    from psychometrika.stats.correlation import cor_ci

    if not isinstance(data, pd.DataFrame) or data.shape[1] < 2:
        raise DataError("cor_table needs a DataFrame with at least 2 columns (respondents x variables)")
    frame = data.apply(pd.to_numeric, errors="coerce")
    rows = []
    for a, b in itertools.combinations(frame.columns, 2):
        pair = frame[[a, b]].dropna()
        n = len(pair)
        constant = bool(n and (pair[a].nunique() < 2 or pair[b].nunique() < 2))
        verdict = guard("cor", n, constant=constant, warn=False)
        row = {"x": a, "y": b, "n": n, "r": np.nan, "CI": ci, "CI_low": np.nan, "CI_high": np.nan, "p": np.nan}
        if verdict.estimable:
            row.update(cor_ci(pair[a].to_numpy(), pair[b].to_numpy(), method=method, ci=ci).iloc[0]
                       .drop(["x", "y"]).to_dict())
            row["note"] = "" if verdict.adequate else f"few pairs ({verdict.reason})"
        else:
            row["note"] = verdict.text()
        rows.append(row)
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p"].tolist())
    if one_model:
        out.attrs["caveat"] = PSEUDO_REPLICATION_CAVEAT
        out["note"] = [(f"{n}; " if n else "") + "p over conditions of one model (pseudo-replication)"
                       if not np.isnan(p) else n for n, p in zip(out["note"], out["p"])]
    return out


class WarningSummary:
    """Record warnings instead of hiding them, and summarise them (``with pm.WarningSummary() as w: ...;
    print(w.summary())``): one line per distinct message with its count. Replaces
    ``warnings.simplefilter("ignore")`` in scripts, so Heywood cases, non-convergence and too-little-information
    warnings are seen."""

    def __init__(self) -> None:
        self.records: list[warnings.WarningMessage] = []
        self._cm: Any = None

    def __enter__(self) -> "WarningSummary":
        self._cm = warnings.catch_warnings(record=True)
        self.records = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)

    def summary(self, label: str = "warnings") -> str:
        """``"warnings: none"`` or ``"warnings (3): 2 x PsychometrikaWarning: ...; 1 x ..."``."""
        if not self.records:
            return f"{label}: none"
        counts: dict[str, int] = {}
        for w in self.records:
            key = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
            counts[key] = counts.get(key, 0) + 1
        body = "\n  ".join(f"{n} x {k}" for k, n in counts.items())
        return f"{label} ({len(self.records)}):\n  {body}"
