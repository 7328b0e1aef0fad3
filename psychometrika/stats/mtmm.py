"""Multitrait–multimethod analysis (Campbell & Fiske, 1959): :func:`mtmm`.

References
----------
Campbell, D. T., & Fiske, D. W. (1959). Convergent and discriminant validation by the
multitrait-multimethod matrix. *Psychological Bulletin, 56*, 81-105. Spearman, C. (1904). The
proof and measurement of association between two things. *American Journal of Psychology, 15*,
72-101 (correction for attenuation).
"""

from __future__ import annotations

from dataclasses import dataclass

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats.common import (
    small_blas,
    StatsResult,
    fmt_frame,
    pairwise_cor,
    pairwise_count,
    warn,
)

__all__ = ["MTMMResult", "mtmm"]


@dataclass(repr=False, eq=False)
class MTMMResult(StatsResult):
    """Result of :func:`mtmm`.

    Attributes
    ----------
    matrix : correlation matrix of the trait-method units (MultiIndex ``(trait, method)``,
        ordered by method, then trait; pairwise deletion).
    n : pairwise numbers of subjects.
    wide : the subjects x units table that was correlated.
    convergent : the validity diagonal — one row per trait and pair of methods
        (``trait, method1, method2, r, n``).
    discriminant : Campbell–Fiske comparisons — one row per criterion (``criterion,
        comparisons, satisfied, proportion``).
    block_means : mean monotrait-heteromethod (validity), heterotrait-monomethod and
        heterotrait-heteromethod correlations.
    disattenuated : ``matrix`` corrected for attenuation, :math:`r_{ij}/\\sqrt{r_{ii}r_{jj}}`
        (only when reliabilities were given; None otherwise).
    """

    _title = "Multitrait-multimethod matrix (Campbell & Fiske, 1959)"

    matrix: pd.DataFrame
    n: pd.DataFrame
    wide: pd.DataFrame
    convergent: pd.DataFrame
    discriminant: pd.DataFrame
    block_means: pd.Series
    disattenuated: pd.DataFrame | None

    def to_frame(self) -> pd.DataFrame:
        """The multitrait-multimethod correlation ``matrix``."""
        return self.matrix.copy()

    def _summary_lines(self, digits: int) -> list[str]:
        m = self.matrix.copy()
        m.index = [f"{t}/{me}" for t, me in m.index]
        m.columns = [f"{t}/{me}" for t, me in m.columns]
        lines = ["", "Correlations (trait/method):", fmt_frame(m, digits), "",
                 "Convergent validities (monotrait-heteromethod):", fmt_frame(self.convergent, digits), "",
                 "Mean correlations:", fmt_frame(self.block_means.to_frame("mean r").T, digits), "",
                 "Campbell-Fiske criteria:", fmt_frame(self.discriminant.set_index("criterion"), digits)]
        if self.disattenuated is not None:
            d = self.disattenuated.copy()
            d.index, d.columns = m.index, m.columns
            lines += ["", "Disattenuated correlations:", fmt_frame(d, digits)]
        return lines


def _rel_lookup(reliabilities: Any, units: list[tuple[str, str]]) -> np.ndarray:
    out = []
    for t, me in units:
        v = None
        if isinstance(reliabilities, (pd.Series, Mapping)):
            for key in ((t, me), f"{t}:{me}", f"{me}:{t}", f"{t}/{me}"):
                if key in reliabilities:
                    v = reliabilities[key]
                    break
        elif isinstance(reliabilities, pd.DataFrame):
            cols = {c.lower(): c for c in reliabilities.columns}
            if {"trait", "method"} <= set(cols) and ("reliability" in cols or "value" in cols):
                rc = cols.get("reliability", cols.get("value"))
                hit = reliabilities[(reliabilities[cols["trait"]] == t) & (reliabilities[cols["method"]] == me)]
                if len(hit):
                    v = hit[rc].iloc[0]
            elif t in reliabilities.index and me in reliabilities.columns:
                v = reliabilities.loc[t, me]
        else:
            raise DataError("reliabilities must be a dict {(trait, method): r}, a Series, or a DataFrame with "
                            "trait, method, reliability columns (or traits x methods)")
        if v is None or not np.isfinite(float(v)):
            raise DataError(f"no reliability given for trait {t!r} measured by {me!r}")
        if not 0 < float(v) <= 1:
            raise DataError(f"reliability of {t!r}/{me!r} must be in (0, 1], got {v}")
        out.append(float(v))
    return np.array(out)


@small_blas
def mtmm(scores: pd.DataFrame, *, trait: str = "trait", method: str = "method",
         subject: str | Sequence[str] | None = None, value: str = "score",
         reliabilities: Any = None) -> MTMMResult:
    """Multitrait–multimethod matrix with Campbell–Fiske convergent/discriminant summaries.

    ``scores`` is long: one row per subject x trait x method with the score in ``value``.
    ``subject`` names the column(s) identifying the measured unit (e.g. ``("model", "persona",
    "seed")``); None means every column except ``trait``, ``method`` and ``value``. Scores of the
    same subject and unit are averaged, then units (trait, method) are correlated pairwise.

    * convergent validity: r(T_i M_j, T_i M_k) for every trait and method pair;
    * criterion 2 (Campbell & Fiske): a validity exceeds the heterotrait-heteromethod
      correlations in its row and column, r(T_i M_j, T_l M_k) and r(T_l M_j, T_i M_k), l ≠ i;
    * criterion 3: a validity exceeds the heterotrait-monomethod correlations of the same traits,
      r(T_i M_j, T_l M_j) and r(T_i M_k, T_l M_k);
    * criterion 4: the pattern of trait intercorrelations is the same in every monomethod and
      heteromethod block (reported as the mean correlation between the blocks' patterns).

    ``reliabilities`` (dict ``{(trait, method): r}``, Series, or DataFrame) adds the disattenuated
    matrix :math:`r_{ij}/\\sqrt{r_{ii} r_{jj}}` (Spearman, 1904); values may exceed 1.

    >>> res = pm.mtmm(long, trait="trait", method="method", value="score"); res.summary()  # doctest: +SKIP
    """
    if not isinstance(scores, pd.DataFrame):
        raise DataError("mtmm needs a long DataFrame (subject, trait, method, value)")
    for c in (trait, method, value):
        if c not in scores.columns:
            raise DataError(f"column {c!r} is not in the data", hint=f"columns: {list(scores.columns)}")
    if subject is None:
        subj = [c for c in scores.columns if c not in (trait, method, value)]
    else:
        subj = [subject] if isinstance(subject, str) else list(subject)
    missing = [c for c in subj if c not in scores.columns]
    if missing:
        raise DataError(f"subject column(s) {missing} are not in the data")
    if not subj:
        raise DataError("no subject column: name the columns that identify the measured units (subject=)")
    data = scores[[*subj, trait, method, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    data[trait] = data[trait].astype(str)
    data[method] = data[method].astype(str)
    wide = data.pivot_table(index=subj, columns=[trait, method], values=value, aggfunc="mean", dropna=False)
    wide = wide.dropna(axis=1, how="all")
    methods = sorted(wide.columns.get_level_values(1).unique())
    traits = sorted(wide.columns.get_level_values(0).unique())
    if len(methods) < 2 or len(traits) < 2:
        raise DataError(f"an MTMM matrix needs at least 2 traits and 2 methods, got traits {traits} and methods "
                        f"{methods}")
    units = [(t, me) for me in methods for t in traits if (t, me) in wide.columns]
    wide = wide[units]
    if len(wide) < 3:
        raise DataError(f"only {len(wide)} subject(s): at least 3 are needed for correlations")
    flat = wide.copy()
    flat.columns = [f"{t}\x1f{me}" for t, me in units]
    r = pairwise_cor(flat).to_numpy()
    cnt = pairwise_count(flat)
    mi = pd.MultiIndex.from_tuples(units, names=[trait, method])
    matrix = pd.DataFrame(r, index=mi, columns=mi)
    n = pd.DataFrame(cnt, index=mi, columns=mi)
    if np.isnan(r).any():
        warn("some unit correlations are undefined (constant scores or too few common subjects)")
    pos = {u: i for i, u in enumerate(units)}
    conv_rows, c2, c3 = [], [0, 0], [0, 0]
    validity = []
    for t in traits:
        for m1, m2 in itertools.combinations(methods, 2):
            if (t, m1) not in pos or (t, m2) not in pos:
                continue
            v = r[pos[(t, m1)], pos[(t, m2)]]
            conv_rows.append({"trait": t, "method1": m1, "method2": m2, "r": v,
                              "n": int(cnt[pos[(t, m1)], pos[(t, m2)]])})
            validity.append(v)
            for o in traits:
                if o == t:
                    continue
                for a, b in (((t, m1), (o, m2)), ((o, m1), (t, m2))):
                    if a in pos and b in pos and np.isfinite(v) and np.isfinite(r[pos[a], pos[b]]):
                        c2[0] += 1
                        c2[1] += int(v > r[pos[a], pos[b]])
                for me in (m1, m2):
                    a, b = (t, me), (o, me)
                    if a in pos and b in pos and np.isfinite(v) and np.isfinite(r[pos[a], pos[b]]):
                        c3[0] += 1
                        c3[1] += int(v > r[pos[a], pos[b]])
    convergent = pd.DataFrame(conv_rows, columns=["trait", "method1", "method2", "r", "n"])
    hm, hh = [], []
    for (a, b) in itertools.combinations(units, 2):
        val = r[pos[a], pos[b]]
        if a[0] != b[0] and a[1] == b[1]:
            hm.append(val)
        elif a[0] != b[0] and a[1] != b[1]:
            hh.append(val)
    # criterion 4: similarity of the trait-intercorrelation patterns across blocks
    patterns = []
    pairs = list(itertools.combinations(traits, 2))
    for m1, m2 in itertools.combinations_with_replacement(methods, 2):
        vec = []
        for t1, t2 in pairs:
            a, b = (t1, m1), (t2, m2)
            vec.append(r[pos[a], pos[b]] if a in pos and b in pos else np.nan)
        patterns.append(np.array(vec))
    sims = []
    if len(pairs) >= 3:
        for p1, p2 in itertools.combinations(patterns, 2):
            ok = np.isfinite(p1) & np.isfinite(p2)
            if ok.sum() >= 3 and np.std(p1[ok]) > 0 and np.std(p2[ok]) > 0:
                sims.append(float(np.corrcoef(p1[ok], p2[ok])[0, 1]))
    mean = lambda v: float(np.nanmean(v)) if len(v) and np.isfinite(v).any() else np.nan
    block_means = pd.Series({"validity (monotrait-heteromethod)": mean(np.array(validity)),
                             "heterotrait-monomethod": mean(np.array(hm)),
                             "heterotrait-heteromethod": mean(np.array(hh))})
    discriminant = pd.DataFrame([
        {"criterion": "1: validities > 0", "comparisons": int(np.isfinite(validity).sum()),
         "satisfied": int(np.nansum(np.array(validity) > 0))},
        {"criterion": "2: validity > heterotrait-heteromethod", "comparisons": c2[0], "satisfied": c2[1]},
        {"criterion": "3: validity > heterotrait-monomethod", "comparisons": c3[0], "satisfied": c3[1]},
        {"criterion": "4: same trait pattern in all blocks (mean r)", "comparisons": len(sims),
         "satisfied": np.nan}])
    discriminant["proportion"] = discriminant["satisfied"] / discriminant["comparisons"].replace(0, np.nan)
    discriminant.loc[3, "proportion"] = mean(np.array(sims)) if sims else np.nan
    dis = None
    if reliabilities is not None:
        rel = _rel_lookup(reliabilities, units)
        a = r / np.sqrt(np.outer(rel, rel))
        np.fill_diagonal(a, 1.0)
        dis = pd.DataFrame(a, index=mi, columns=mi)
    return MTMMResult(matrix, n, wide, convergent, discriminant, block_means, dis)
