"""Validity of personality shaping: does the measured trait follow the persona's target level?

For trait-shaped personas (``personas: {shaping: ...}``, each carrying ``target_<trait>``; Serapio-García et
al., PsyBORGS) :func:`shaping_validity` computes, per model and instrument:

* **convergent shaping ρ** -- Spearman's ρ between the target level of a trait and the measured score of the
  scale that measures it, across the personas that set that trait, with a confidence interval and the p-value
  of ``cor.test(method = "spearman", exact = FALSE)`` in R;
* **the target × measured matrix** -- ρ between the target level of each trait and *every* measured trait scale
  (off-target effects: shaping extraversion should leave agreeableness alone);
* **monotonicity** -- the mean score per target level and whether it rises at every step;
* **high/low classification accuracy** (concurrent designs) -- for personas at the lowest or highest level of a
  trait, the share whose measured score falls on the matching side of the threshold (the median score of those
  personas, the scale's midpoint, or a number).

Confidence interval of ρ: Fisher's z, ``tanh(atanh(ρ) ± z_{1-α/2}·SE)``, with the standard error of
Bonett & Wright (2000, *Psychometrika* 65, 23–28) ``SE = sqrt((1 + ρ²/2) / (n − 3))`` (default,
``ci_method="bonett-wright"``) or of Fieller, Hartley & Pearson (1957) ``SE = sqrt(1.06 / (n − 3))``
(``ci_method="fieller"``). R's ``cor.test`` gives no interval for Spearman; ``tests/r/make_reference_shaping.R``
computes ρ, S and p with ``cor.test`` and the intervals with the same formulas.

p-value: ``t = ρ·sqrt((n − 2)/(1 − ρ²))`` on ``n − 2`` degrees of freedom, two-sided (R's non-exact branch,
used whenever the levels are tied, which they always are here).

Each persona contributes one score per scale: its scale scores averaged over the other conditions of the
design (instruction paraphrases, option orders, seeds, repetitions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from psychometrika.errors import DataError
from psychometrika.stats.common import StatsResult, fmt_frame

TARGET_PREFIX = "persona_target_"
KEYS = ["model", "instrument", "design"]
CIMethod = Literal["bonett-wright", "fieller"]


def spearman_ci(rho: float, n: int, ci: float = 0.95, method: CIMethod = "bonett-wright") -> tuple[float, float]:
    """Fisher-z confidence interval of Spearman's ρ (Bonett–Wright or Fieller standard error).

    >>> [round(x, 4) for x in spearman_ci(0.5, 30)]
    [0.1566, 0.7364]
    """
    if n <= 3 or not np.isfinite(rho):
        return (math.nan, math.nan)
    if abs(rho) >= 1:
        return (float(rho), float(rho))
    if method == "bonett-wright":
        se = math.sqrt((1 + rho ** 2 / 2) / (n - 3))
    elif method == "fieller":
        se = math.sqrt(1.06 / (n - 3))
    else:
        raise DataError(f"ci_method must be 'bonett-wright' or 'fieller', not {method!r}")
    z, q = math.atanh(rho), _st.norm.ppf(0.5 + ci / 2)
    return (math.tanh(z - q * se), math.tanh(z + q * se))


def spearman_test(x: Sequence[float], y: Sequence[float], ci: float = 0.95,
                  method: CIMethod = "bonett-wright") -> dict[str, float]:
    """Spearman's ρ of complete pairs with R's ``S`` statistic, two-sided non-exact p and a CI."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = int(a.size)
    out = {"n": n, "rho": math.nan, "CI_low": math.nan, "CI_high": math.nan, "S": math.nan, "p": math.nan}
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return out
    ra, rb = _st.rankdata(a), _st.rankdata(b)
    rho = float(np.corrcoef(ra, rb)[0, 1])
    lo, hi = spearman_ci(rho, n, ci, method)
    s = (n ** 3 - n) * (1 - rho) / 6
    if abs(rho) < 1:
        t = rho * math.sqrt((n - 2) / (1 - rho ** 2))
        p = float(2 * _st.t.sf(abs(t), n - 2))
    else:
        p = 0.0
    out.update(rho=rho, CI_low=lo, CI_high=hi, S=float(s), p=min(1.0, p))
    return out


@dataclass(repr=False, eq=False)
class ShapingValidity(StatsResult):
    """Result of :func:`shaping_validity`.

    Attributes
    ----------
    rho : convergent shaping validity, one row per model, instrument, shaping design (``single``,
        ``concurrent``; personas of different designs are never pooled) and shaped trait
        (``model, instrument, design, trait, scale, n, rho, CI_low, CI_high, S, p``).
    matrix : target trait × measured trait ρ (long form: ``model, instrument, design, target_trait,
        measured_trait, scale, n, rho, CI_low, CI_high, p``) over every trait of the marker list (or of
        ``scales``) that an administered scale measures, shaped or not; the diagonal equals ``rho``. In the single-trait
        design a row uses the personas that set that trait only.
    levels : mean measured score per target level (``model, instrument, design, trait, level, n, mean, sd``).
    monotonicity : ``model, instrument, design, trait, n_levels, n_steps_up, monotone, range`` (monotone: the
        mean rises at every step from level to level).
    accuracy : high/low classification of the extreme levels, concurrent design (``model, instrument, design,
        trait, n, accuracy, threshold``); empty when there is none.
    ci, ci_method : the interval's level and standard-error formula.
    """

    rho: pd.DataFrame
    matrix: pd.DataFrame
    levels: pd.DataFrame
    monotonicity: pd.DataFrame
    accuracy: pd.DataFrame
    ci: float = 0.95
    ci_method: str = "bonett-wright"
    traits: dict[str, dict[str, str]] = field(default_factory=dict)

    _title = "Personality shaping validity (Spearman rho of target level vs measured score)"

    def to_frame(self) -> pd.DataFrame:
        """The convergent table :attr:`rho` (with monotonicity and accuracy joined per trait)."""
        keys = [*KEYS, "trait"]
        out = self.rho.merge(self.monotonicity[keys + ["monotone"]], on=keys, how="left")
        if not self.accuracy.empty:
            out = out.merge(self.accuracy[keys + ["accuracy"]], on=keys, how="left")
        return out

    def off_target(self, model: str | None = None, instrument: str | None = None,
                   design: str | None = None) -> pd.DataFrame:
        """The target × measured matrix of one model, instrument and shaping design as a square table of ρ."""
        m = self.matrix
        for col, want in (("model", model), ("instrument", instrument), ("design", design)):
            if want is not None:
                m = m[m[col] == want]
        if m[KEYS].drop_duplicates().shape[0] > 1:
            raise DataError("several models/instruments/designs: name model=, instrument= and design=")
        return m.pivot(index="target_trait", columns="measured_trait", values="rho")

    def _summary_lines(self, digits: int) -> list[str]:
        lines = [f"CI: {self.ci:.0%}, Fisher z with the {self.ci_method} standard error; p as R cor.test "
                 "(spearman, exact = FALSE)", ""]
        lines.append(fmt_frame(self.to_frame().set_index([*KEYS, "trait"]), digits))
        for (mod, ins, des), _ in self.matrix.groupby(KEYS, sort=False):
            lines += ["", f"Target (rows) x measured (columns) rho: {mod}, {ins}, {des} design",
                      fmt_frame(self.off_target(mod, ins, des), digits)]
        return lines


def _targets(responses: pd.DataFrame, prefix: str) -> pd.DataFrame:
    cols = [c for c in responses.columns if c.startswith(prefix)]
    if not cols:
        raise DataError(f"the response table has no {prefix}<trait> columns",
                        hint="shape personas with personas: {shaping: ...}; read the run with pm.read_run")
    extra = [c for c in ("persona_shaping_design",) if c in responses]
    t = responses[["persona", *cols, *extra]].drop_duplicates("persona").set_index("persona")
    t = t.rename(columns={c: c[len(prefix):] for c in cols})
    return t


def _scale_map(traits: list[str], instruments: list[str], scales: Mapping[str, Any] | None,
               markers: str) -> dict[str, dict[str, str]]:
    """trait -> {instrument: scale}."""
    if scales is None:
        from psychometrika.design.personas import trait_scales

        known = trait_scales(markers)
        return {t: {i: s for i, s in known.get(t, {}).items() if i in instruments} for t in traits}
    out: dict[str, dict[str, str]] = {}
    for t in traits:
        v = scales.get(t)
        if v is None:
            out[t] = {}
        elif isinstance(v, str):
            out[t] = {i: v for i in instruments}
        else:
            out[t] = {i: s for i, s in dict(v).items() if i in instruments}
    return out


def _threshold(values: np.ndarray, how: Any, lo: float | None, hi: float | None) -> float:
    if how == "median":
        return float(np.median(values))
    if how == "midpoint":
        if lo is None or hi is None:
            raise DataError("threshold='midpoint' needs the instruments (for the scale's response range)")
        return (lo + hi) / 2
    return float(how)


def shaping_validity(responses: pd.DataFrame, instruments: Any = None, *, scores: pd.DataFrame | None = None,
                     scales: Mapping[str, Any] | None = None, markers: str = "big5",
                     source: Literal["expected", "chosen"] = "expected", ci: float = 0.95,
                     ci_method: CIMethod = "bonett-wright", threshold: Any = "median",
                     target_prefix: str = TARGET_PREFIX) -> ShapingValidity:
    """Shaping validity of trait-shaped personas (see the module docstring for the formulas).

    Parameters
    ----------
    responses : the response table of a run (``pm.read_run``) with ``persona_target_<trait>`` columns.
    instruments : the instruments administered (ids, :class:`Instrument` objects or a mapping); needed unless
        ``scores`` is given. Default: loaded by the ids in the table.
    scores : precomputed ``pm.scale_scores`` (any respondent columns, with ``model``, ``persona``,
        ``instrument``, ``scale``, ``score``).
    scales : trait -> scale id (all instruments) or trait -> {instrument: scale}; default: the marker list's
        ``scales`` (bfi-44 E/A/C/N/O, ipip-neo-120, ...).
    markers : marker list whose scale table is the default of ``scales``.
    source : ``expected`` (score mode) or ``chosen`` answers, as in :func:`psychometrika.scoring.scale_scores`.
    ci, ci_method : interval level and standard error (``bonett-wright`` or ``fieller``).
    threshold : high/low accuracy cut: ``"median"`` of the extreme personas' scores, ``"midpoint"`` of the
        response scale, or a number.

    Example
    -------
    >>> res = pm.shaping_validity(pm.read_run("runs/shaped"), ["bfi-44"])   # doctest: +SKIP
    >>> res.to_frame(); res.off_target("smollm2", "bfi-44")                 # doctest: +SKIP
    """
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, not {ci}")
    if responses is None or len(responses) == 0:
        raise DataError("the response table is empty")
    targets = _targets(responses, target_prefix)
    traits = list(targets.columns.drop("persona_shaping_design", errors="ignore"))
    insts = _instrument_objects(responses, instruments) if (scores is None or threshold == "midpoint") else {}
    if scores is None:
        from psychometrika.scoring import scale_scores

        admin = responses[responses["instrument"].isin(list(insts))]
        scores = scale_scores(admin, insts, source=source)
    need = {"model", "persona", "instrument", "scale", "score"}
    if not need <= set(scores.columns):
        raise DataError(f"scores lack column(s) {sorted(need - set(scores.columns))}")
    per = scores.groupby(["model", "instrument", "scale", "persona"], sort=False)["score"].mean().reset_index()
    per = per[per["persona"].isin(targets.index)]
    if scales is None:  # measured: every trait of the marker list (shaped or not) the instruments measure
        from psychometrika.design.personas import load_markers

        every = [*traits, *[t for t in load_markers(markers)["traits"] if t not in traits]]
    else:
        every = [*traits, *[t for t in scales if t not in traits]]
    smap = _scale_map(every, sorted(per["instrument"].unique()), scales, markers)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("rho", "matrix", "levels", "mono", "acc")}
    design = (targets["persona_shaping_design"].fillna("shaped") if "persona_shaping_design" in targets
              else pd.Series("shaped", index=targets.index))
    for (mod, ins), block in per.groupby(["model", "instrument"], sort=False):
        wide = block.pivot(index="persona", columns="scale", values="score")
        measured = [(t, smap[t][ins]) for t in every if ins in smap[t] and smap[t][ins] in wide.columns]
        for des in pd.unique(design):
            members = design.index[design.eq(des)].intersection(wide.index)
            _design_block(rows, {"model": mod, "instrument": ins, "design": des}, wide.loc[members],
                          targets.loc[members], traits, measured, ci, ci_method, threshold, insts.get(ins))
    rho_rows, mat_rows = rows["rho"], rows["matrix"]
    if not rho_rows:
        raise DataError("no shaped trait is measured by a scale of the administered instruments",
                        hint=f"traits {traits}; pass scales={{trait: scale}}")
    return ShapingValidity(
        rho=pd.DataFrame(rho_rows), matrix=pd.DataFrame(mat_rows), levels=pd.DataFrame(rows["levels"]),
        monotonicity=pd.DataFrame(rows["mono"]),
        accuracy=pd.DataFrame(rows["acc"], columns=[*KEYS, "trait", "n", "accuracy", "threshold"]),
        ci=ci, ci_method=ci_method, traits=smap)


def _design_block(rows: dict[str, list[dict[str, Any]]], key: dict[str, Any], wide: pd.DataFrame,
                  targets: pd.DataFrame, traits: list[str], measured: list[tuple[str, str]], ci: float,
                  ci_method: CIMethod, threshold: Any, inst: Any) -> None:
    """Append the rows of one model x instrument x shaping design to ``rows``."""
    for t in traits:
        tl = pd.to_numeric(targets[t], errors="coerce")
        has = tl.notna()
        if has.sum() == 0:
            continue
        for mt, sc in measured:
            r = spearman_test(tl[has], wide.loc[has, sc], ci, ci_method)
            rows["matrix"].append({**key, "target_trait": t, "measured_trait": mt, "scale": sc,
                                   **{k: r[k] for k in ("n", "rho", "CI_low", "CI_high", "p")}})
            if mt != t:
                continue
            rows["rho"].append({**key, "trait": t, "scale": sc, **r})
            y = wide.loc[has, sc]
            g = y.groupby(tl[has]).agg(["count", "mean", "std"]).sort_index()
            for lvl, row in g.iterrows():
                rows["levels"].append({**key, "trait": t, "level": int(lvl), "n": int(row["count"]),
                                       "mean": float(row["mean"]), "sd": float(row["std"])})
            steps = np.diff(g["mean"].to_numpy())
            rows["mono"].append({**key, "trait": t, "n_levels": int(len(g)), "n_steps_up": int((steps > 0).sum()),
                                 "monotone": bool(len(steps) > 0 and (steps > 0).all()),
                                 "range": float(g["mean"].max() - g["mean"].min())})
            if key["design"] != "single":
                acc = _accuracy(tl[has], y, threshold, inst)
                if acc is not None:
                    rows["acc"].append({**key, "trait": t, **acc})


def _instrument_objects(responses: pd.DataFrame, instruments: Any) -> dict[str, Any]:
    from psychometrika.instruments import Instrument, load_instrument

    if instruments is None:
        instruments = sorted(responses["instrument"].unique())
    if isinstance(instruments, (str, Instrument)):
        instruments = [instruments]
    if isinstance(instruments, Mapping):
        return dict(instruments)
    out = {}
    for i in instruments:
        obj = load_instrument(i) if isinstance(i, str) else i
        out[obj.id] = obj
    return out


def _accuracy(level: pd.Series, score: pd.Series, how: Any, inst: Any) -> dict[str, float] | None:
    """High/low classification of the personas at the extreme levels (concurrent and unmarked designs)."""
    if level.empty or level.nunique() < 2:
        return None
    lo_l, hi_l = level.min(), level.max()
    ext = level.isin([lo_l, hi_l]) & score.notna()
    if ext.sum() == 0:
        return None
    lo = hi = None
    if inst is not None and how == "midpoint":
        fmt = inst.response_format
        lo, hi = float(min(fmt.values)), float(max(fmt.values))
    cut = _threshold(score[ext].to_numpy(), how, lo, hi)
    pred_high = score[ext] > cut
    correct = pred_high == level[ext].eq(hi_l)
    return {"n": int(ext.sum()), "accuracy": float(correct.mean()), "threshold": cut}


__all__ = ["ShapingValidity", "shaping_validity", "spearman_ci", "spearman_test"]
