"""Response-validity screening before any trait statistic: :func:`screen` and :func:`exclude_invalid`.

Psychologists screen careless human responders before they compute reliabilities or correlations
(Meade & Craig, 2012; Curran, 2016). A language model answering a questionnaire can fail in the same ways
and in some of its own: it can pick the first *displayed* option whatever it says, give one option to every
item, agree with everything, spread its probability evenly over the labels, or not answer with a label at
all. :func:`screen` measures each of these per ``model × instrument × persona`` cell (and per
``model × instrument`` over all personas, ``persona == "(all)"``) and classifies every cell ``valid``,
``suspect`` or ``invalid`` with named thresholds; :func:`exclude_invalid` removes the invalid cells from a
response table before trait statistics (a note in ``attrs`` says what was removed and why).

Unit of analysis. Inside a cell a *respondent* is one administration (instruction paraphrase, stem
paraphrase, option order, label scheme, seed, repetition; :data:`RESPONDENT_COLUMNS`). All respondents of
one cell are conditions of ONE model: they are not independent people.

Measures (columns of the screening table)
-----------------------------------------
``position_only``
    Over (item, condition) groups that were administered in at least two different option orders (same
    persona, instruction, stem, labels, seed, repetition; only the order differs), over every pair of answers
    given under two different orders: the share of pairs in which the chosen *display position* is the same
    while the chosen *original option* (its meaning) differs. 1 = the answer is explained by where an option
    is shown, not by what it says. NaN when option orders were not varied (position and content cannot then
    be separated). ``n_order_groups`` counts the groups.
``content_consistency``
    Share of those pairs whose chosen original option is the same (answers follow meaning).
``modal_position_share``
    Share of answers at the cell's most frequent display position (chance: ``1 / n_options``).
``one_option_share``
    Mean over respondents of the share of answers that are the respondent's most frequent original option
    (straight-lining / one-option responding).
``longstring``
    Mean over respondents of the longest run of identical original options over items (items in natural
    id order), as a share of the respondent's answered items (Johnson, 2005; Curran, 2016).
``irv``
    Mean intra-individual response variability: the standard deviation of a respondent's raw answers over
    items, on POMP (0..1) scale (Dunn, Heggestad, Shanock & Theis, 2018). 0 = the same answer throughout.
``acquiescence``
    Likert scales with items of both keying directions: per respondent, the average of (mean centred raw
    answer on forward-keyed items) and (mean centred raw answer on reverse-keyed items), each averaged over
    those scales only (a scale keyed one way says nothing about acquiescence), answers centred at the scale
    midpoint and divided by the half range (−1..1); the column is the mean over respondents. A trait-following respondent agrees with one
    keying direction and disagrees with the other (≈ 0); +1 = agrees strongly with everything, −1 =
    disagrees with everything (Baumgartner & Steenkamp, 2001).
``acquiescence_extreme``
    The signed acquiescence index of the cell's most extreme respondent (the rule uses this one: a cell whose
    respondents agree with everything in one option order and disagree with everything in the other averages
    to 0).
``agree_both_share``
    Share of respondents whose mean raw answer is above the midpoint on forward AND on reverse-keyed items.
``label_mass``
    Score mode: mean probability that the model's next tokens are one of the option labels at all
    (``exp(logsumexp(logprobs))``). Low mass: the model mostly wanted to say something else.
``entropy``
    Score mode: mean normalised entropy of the option probabilities (``H / log K``, 0..1; 1 = uniform).
``refusal_rate``, ``unparseable_rate``, ``error_rate``, ``nonok_rate``
    Shares of answers whose ``status`` is ``refused``, ``unparseable``, ``error``, or any of them.

Classification (:class:`ScreeningRules`, every threshold a keyword of :func:`screen`)
-------------------------------------------------------------------------------------
A cell is **invalid** when any of: ``position_only ≥ position_only_invalid`` (default 0.5),
``one_option_share ≥ one_option_invalid`` (0.95), ``nonok_rate ≥ nonok_invalid`` (0.5),
``label_mass < label_mass_invalid`` (0.05). It is **suspect** (when not invalid) when any of:
``position_only ≥ position_only_suspect`` (0.2), ``modal_position_share ≥ modal_position_suspect`` (0.8) while
orders were NOT varied, ``longstring ≥ longstring_suspect`` (0.5: Curran's (2016) rule of thumb of a string of
identical answers of half the scale length), ``|acquiescence_extreme| ≥ acquiescence_suspect`` (0.25),
``nonok_rate ≥ nonok_suspect`` (0.1), ``label_mass < label_mass_suspect`` (0.5), ``entropy ≥ entropy_suspect``
(0.9). The careless-responding literature recommends longstring and IRV but gives no universal cut-offs
(Meade & Craig, 2012; Curran, 2016); apart from Curran's half-scale longstring rule the defaults are this
project's own choices, stated here so that a reader can disagree and change them.

References: Baumgartner, H. & Steenkamp, J.-B. E. M. (2001). *J. Marketing Research* 38, 143–156.
Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey data. *J.
Experimental Social Psychology* 66, 4–19. Dunn, A. M., Heggestad, E. D., Shanock, L. R. & Theis, N. (2018).
Intra-individual response variability as an indicator of insufficient effort responding. *J. Business and
Psychology* 33, 105–121. Johnson, J. A. (2005). Ascertaining the validity of individual protocols from
web-based personality inventories. *J. Research in Personality* 39, 103–129. Meade, A. W. & Craig, S. B.
(2012). Identifying careless responses in survey data. *Psychological Methods* 17, 437–455.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from psychometrika.answers.columns import RESPONDENT_COLUMNS
from psychometrika.errors import DataError

__all__ = ["SCREENING_LEVELS", "Screened", "ScreeningRules", "exclude_invalid", "screen", "screen_and_exclude",
           "screening_banner"]

#: The classification levels, from best to worst.
SCREENING_LEVELS: tuple[str, ...] = ("valid", "suspect", "invalid")

#: Cell columns of the screening table (``persona == "(all)"`` marks the per model × instrument rows).
CELL_COLUMNS: tuple[str, ...] = ("model", "instrument", "persona")
ALL = "(all)"


@dataclass(frozen=True)
class ScreeningRules:
    """Thresholds of the valid / suspect / invalid rule (see the module docstring for their sources)."""

    position_only_invalid: float = 0.5
    position_only_suspect: float = 0.2
    one_option_invalid: float = 0.95
    nonok_invalid: float = 0.5
    nonok_suspect: float = 0.1
    label_mass_invalid: float = 0.05
    label_mass_suspect: float = 0.5
    modal_position_suspect: float = 0.8
    longstring_suspect: float = 0.5
    acquiescence_suspect: float = 0.25
    entropy_suspect: float = 0.9

    @classmethod
    def with_overrides(cls, **overrides: float) -> "ScreeningRules":
        """The default rules with some thresholds changed; an unknown name raises :class:`DataError`."""
        known = {f.name for f in fields(cls)}
        bad = sorted(set(overrides) - known)
        if bad:
            raise DataError(f"unknown screening threshold(s) {bad}; known: {sorted(known)}")
        return replace(cls(), **{k: float(v) for k, v in overrides.items()})


# ----------------------------------------------------------------------------- per-row helpers
def _natural_key(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(s))]


def _raw_answer(df: pd.DataFrame, source: str) -> pd.Series:
    col = "expected_value" if source == "expected" else "chosen_value"
    raw = pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, index=df.index)
    if "parsed_value" in df:
        raw = raw.fillna(pd.to_numeric(df["parsed_value"], errors="coerce"))
    return raw


def _scale_ends(values: Any) -> tuple[float, float]:
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return (math.nan, math.nan)
    v = v[np.isfinite(v)] if v.ndim == 1 else np.array([])
    return (float(v.min()), float(v.max())) if v.size >= 2 and v.max() > v.min() else (math.nan, math.nan)


def _label_mass(lp: Any) -> float:
    try:
        v = np.asarray(lp, dtype=float)
    except (TypeError, ValueError):
        return math.nan
    if v.ndim != 1 or v.size == 0 or not np.isfinite(v).any():
        return math.nan
    m = np.max(v[np.isfinite(v)])
    return float(min(1.0, math.exp(m) * np.exp(v[np.isfinite(v)] - m).sum()))


def _entropy(p: Any) -> float:
    try:
        v = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        return math.nan
    if v.ndim != 1 or v.size < 2 or not np.isfinite(v).all() or v.sum() <= 0:
        return math.nan
    v = v / v.sum()
    nz = v[v > 0]
    return float(-(nz * np.log(nz)).sum() / math.log(v.size))


def _per_row(series: pd.Series, matrix_fn: Any, scalar_fn: Any, width: int = 1) -> np.ndarray:
    """``scalar_fn`` of every row's vector, computed as ``matrix_fn`` of the stacked rows of each vector length
    (rows that are no sequence, or will not stack as numbers, go through ``scalar_fn`` one by one)."""
    vals = series.to_numpy(dtype=object)
    out = np.full((len(vals), width), math.nan)
    lengths = np.fromiter((len(v) if isinstance(v, (list, tuple, np.ndarray)) else -1 for v in vals), np.int64,
                          len(vals))
    for k in np.unique(lengths):
        idx = np.flatnonzero(lengths == k)
        try:
            if k <= 0:
                raise ValueError
            m = np.array([vals[i] for i in idx], dtype=float)
            if m.shape != (len(idx), k):
                raise ValueError
        except (TypeError, ValueError):
            out[idx] = np.array([scalar_fn(vals[i]) for i in idx], dtype=float).reshape(len(idx), width)
            continue
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            out[idx] = np.asarray(matrix_fn(m), dtype=float).reshape(len(idx), width)
    return out[:, 0] if width == 1 else out


def _scale_ends_rows(m: np.ndarray) -> np.ndarray:
    fin = np.isfinite(m)
    lo = np.where(fin, m, np.inf).min(axis=1)
    hi = np.where(fin, m, -np.inf).max(axis=1)
    ok = (fin.sum(axis=1) >= 2) & (hi > lo)
    return np.column_stack([np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)])


def _label_mass_rows(m: np.ndarray) -> np.ndarray:
    fin = np.isfinite(m)
    top = np.where(fin, m, -np.inf).max(axis=1, keepdims=True)
    mass = np.exp(top[:, 0]) * np.where(fin, np.exp(m - top), 0.0).sum(axis=1)
    return np.where(fin.any(axis=1), np.minimum(1.0, mass), np.nan)


def _entropy_rows(m: np.ndarray) -> np.ndarray:
    if m.shape[1] < 2:
        return np.full(len(m), np.nan)
    total = m.sum(axis=1, keepdims=True)
    v = m / total
    h = -np.where(v > 0, v * np.log(np.where(v > 0, v, 1.0)), 0.0).sum(axis=1) / math.log(m.shape[1])
    return np.where(np.isfinite(m).all(axis=1) & (total[:, 0] > 0), h, np.nan)


# ----------------------------------------------------------------------------- measures of one cell
# The measures are computed with group-wise array operations (one pass per measure over the cell), not a Python
# loop per respondent or per answer pair: a 100k-answer report screens in about a second instead of minutes.
def _pairs(*codes: np.ndarray) -> np.ndarray:
    """Per group (``codes[0]``), the number of unordered pairs of rows that agree on every code array."""
    keys = pd.DataFrame({f"k{i}": c for i, c in enumerate(codes)})
    sizes = keys.groupby(list(keys.columns), sort=False).size()
    per = (sizes * (sizes - 1) // 2).groupby(level=0, sort=False).sum()
    out = np.zeros(int(codes[0].max()) + 1 if len(codes[0]) else 0, dtype=np.int64)
    out[per.index.to_numpy()] = per.to_numpy()
    return out


def _perm_codes(perms: pd.Series) -> np.ndarray:
    """Integer codes of the displayed permutations (``None`` = no permutation)."""
    keys = perms.map(lambda p: tuple(int(x) for x in p) if p is not None else ())
    return pd.factorize(keys)[0]


def _position_measures(cell: pd.DataFrame, resp_cols: list[str]) -> tuple[float, float, int]:
    """(position_only, content_consistency, n_groups) over (item, condition-but-order) groups.

    Pairs are counted, not enumerated: in a group, the pairs under two different orders are all pairs less those
    under the same order, and likewise for the pairs that agree on the chosen position and/or option.
    """
    if "order_id" not in cell or "permutation" not in cell or "chosen_position" not in cell:
        return (math.nan, math.nan, 0)
    answered = cell[(cell["chosen_position"] >= 0) & (cell["chosen_option"] >= 0)]
    if answered.empty:
        return (math.nan, math.nan, 0)
    ctx = [c for c in resp_cols if c != "order_id" and c in answered] + ["item"]
    gid = answered.groupby(ctx, sort=False, dropna=False).ngroup().to_numpy()
    perm = _perm_codes(answered["permutation"])
    pos = answered["chosen_position"].to_numpy()
    opt = answered["chosen_option"].to_numpy()
    n_perms = pd.Series(perm).groupby(gid, sort=False).nunique()
    groups = int((n_perms >= 2).sum())
    everything = _pairs(gid)
    pairs = int((everything - _pairs(gid, perm)).sum())
    if pairs == 0:
        return (math.nan, math.nan, 0)
    same_opt = int((_pairs(gid, opt) - _pairs(gid, opt, perm)).sum())
    same_pos = int((_pairs(gid, pos) - _pairs(gid, pos, perm)).sum())
    same_both = int((_pairs(gid, pos, opt) - _pairs(gid, pos, opt, perm)).sum())
    return ((same_pos - same_both) / pairs, same_opt / pairs, groups)


def _respondent_measures(cell: pd.DataFrame, resp_cols: list[str], source: str) -> dict[str, float]:
    """Straight-lining, IRV and acquiescence averaged over the respondents of one cell (respondents with fewer
    than two answers are left out)."""
    ok = cell[cell["status"].eq("ok")] if "status" in cell else cell
    nan = math.nan
    empty = {"one_option_share": nan, "longstring": nan, "irv": nan, "acquiescence": nan,
             "acquiescence_extreme": nan, "agree_both_share": nan}
    if ok.empty:
        return empty
    raw = _raw_answer(ok, source).to_numpy(dtype=float)
    if "option_values" in ok:
        ends = _per_row(ok["option_values"], _scale_ends_rows, _scale_ends, width=2)
        lo, hi = ends[:, 0], ends[:, 1]
    else:
        lo = hi = np.full(len(ok), nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        pomp = (raw - lo) / (hi - lo)
    centred = 2 * pomp - 1
    gid = (ok.groupby(resp_cols, sort=False, dropna=False).ngroup().to_numpy() if resp_cols
           else np.zeros(len(ok), dtype=np.int64))
    n_resp = int(gid.max()) + 1
    size = np.bincount(gid, minlength=n_resp)
    keep = size >= 2  # respondents with at least two answers

    def mean_over(values: np.ndarray, has: np.ndarray) -> float:
        sel = has & keep
        return float(values[sel].mean()) if sel.any() else nan

    out = dict(empty)
    if "chosen_option" in ok:
        items = ok["item"].astype(str).to_numpy()
        uniq = sorted(set(items), key=_natural_key)
        rank = pd.Series(np.arange(len(uniq)), index=uniq).reindex(items).to_numpy()
        opts = ok["chosen_option"].to_numpy()
        order = np.lexsort((np.arange(len(ok)), rank, gid))  # by respondent, items in natural id order, stable
        g, o = gid[order], opts[order]
        answered = o >= 0
        g, o = g[answered], o[answered]
        n_ans = np.bincount(g, minlength=n_resp)
        has = n_ans >= 2
        if has.any():
            modal = pd.DataFrame({"g": g, "o": o}).groupby(["g", "o"], sort=False).size().groupby(level=0).max()
            modal_n = np.zeros(n_resp)
            modal_n[modal.index.to_numpy()] = modal.to_numpy()
            new_run = np.r_[True, (g[1:] != g[:-1]) | (o[1:] != o[:-1])]
            run_len = pd.Series(new_run.astype(int)).cumsum()
            lengths = pd.Series(1, index=run_len).groupby(level=0).size()
            run_g = g[new_run]
            longest = pd.Series(lengths.to_numpy()).groupby(run_g).max()
            long_n = np.zeros(n_resp)
            long_n[longest.index.to_numpy()] = longest.to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                out["one_option_share"] = mean_over(modal_n / n_ans, has)
                out["longstring"] = mean_over(long_n / n_ans, has)
    fin = np.isfinite(pomp)
    if fin.any():
        frame = pd.DataFrame({"g": gid[fin], "p": pomp[fin]})
        grouped = frame.groupby("g")["p"]
        sd = pd.DataFrame({"n": grouped.size(), "sd": grouped.std(ddof=0)})
        irv = np.full(n_resp, nan)
        irv[sd.index.to_numpy()] = sd["sd"].to_numpy()
        has = np.zeros(n_resp, bool)
        has[sd.index.to_numpy()] = sd["n"].to_numpy() >= 2
        out["irv"] = mean_over(irv, has)
    if "keyed" in ok:
        keyed = pd.to_numeric(ok["keyed"], errors="coerce").to_numpy(dtype=float)
        scale = ok["scale"] if "scale" in ok else pd.Series("", index=ok.index)
        sc = pd.factorize(scale)[0]  # NaN scale -> -1: left out, as a groupby would
        use = np.isfinite(centred) & (sc >= 0) & keep[gid]
        frame = pd.DataFrame({"g": gid[use], "s": sc[use], "c": centred[use], "k": keyed[use]})
        fwd = frame[frame["k"] > 0].groupby(["g", "s"], sort=False)["c"].mean()
        rev = frame[frame["k"] < 0].groupby(["g", "s"], sort=False)["c"].mean()
        both_dir = pd.concat({"f": fwd, "r": rev}, axis=1, join="inner")
        if not both_dir.empty:
            per = both_dir.groupby(level="g", sort=True).mean()
            f, r = per["f"].to_numpy(), per["r"].to_numpy()
            acq = (f + r) / 2
            out["acquiescence"] = float(acq.mean())
            out["acquiescence_extreme"] = float(acq[int(np.argmax(np.abs(acq)))])
            out["agree_both_share"] = float(((f > 0) & (r > 0)).mean())
    return out


def _measure_cell(cell: pd.DataFrame, resp_cols: list[str], source: str) -> dict[str, Any]:
    status = cell["status"] if "status" in cell else pd.Series("ok", index=cell.index)
    n = len(cell)
    out: dict[str, Any] = {
        "n_answers": n,
        "n_respondents": int(cell.groupby(resp_cols, dropna=False).ngroups) if resp_cols else 1,
        "n_items": int(cell["item"].nunique()),
        "n_orders": int(cell["order_id"].nunique()) if "order_id" in cell else 1,
        "refusal_rate": float(status.eq("refused").mean()),
        "unparseable_rate": float(status.eq("unparseable").mean()),
        "error_rate": float(status.eq("error").mean()),
        "nonok_rate": float(status.ne("ok").mean()),
    }
    pos_only, content, n_groups = _position_measures(cell[status.eq("ok")], resp_cols)
    out.update(position_only=pos_only, content_consistency=content, n_order_groups=n_groups)
    pos = cell.loc[status.eq("ok"), "chosen_position"] if "chosen_position" in cell else pd.Series(dtype=float)
    pos = pos[pos >= 0]
    out["modal_position_share"] = float(pos.value_counts().iloc[0] / len(pos)) if len(pos) else math.nan
    out.update(_respondent_measures(cell, resp_cols, source))
    scored = cell[status.eq("ok") & cell.get("mode", pd.Series("score", index=cell.index)).eq("score")]
    lm = _per_row(scored["logprobs"], _label_mass_rows, _label_mass) if "logprobs" in scored else np.array([])
    en = _per_row(scored["probs"], _entropy_rows, _entropy) if "probs" in scored else np.array([])
    out["label_mass"] = float(np.nanmean(lm)) if np.isfinite(lm).any() else math.nan
    out["entropy"] = float(np.nanmean(en)) if np.isfinite(en).any() else math.nan
    return out


# ----------------------------------------------------------------------------- the rule
def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def classify(m: dict[str, Any], rules: ScreeningRules) -> tuple[str, str, str]:
    """(``valid``/``suspect``/``invalid``, the reasons in words, short flags) for the measures ``m`` of one cell."""
    def num(key: str) -> float | None:
        v = m.get(key, math.nan)
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    def ge(key: str, thr: float) -> bool:
        v = num(key)
        return v is not None and v >= thr

    def lt(key: str, thr: float) -> bool:
        v = num(key)
        return v is not None and v < thr

    invalid: list[tuple[str, str]] = []  # (flag, reason in words)
    suspect: list[tuple[str, str]] = []
    if ge("position_only", rules.position_only_invalid):
        invalid.append(("position-driven", f"position-driven: in {_pct(m['position_only'])} of answer pairs given "
                        f"under two option orders the same displayed position was chosen while its meaning changed "
                        f"(limit {_pct(rules.position_only_invalid)})"))
    elif ge("position_only", rules.position_only_suspect):
        suspect.append(("partly position-driven", f"partly position-driven ({_pct(m['position_only'])} of answer "
                        f"pairs, limit {_pct(rules.position_only_suspect)})"))
    if ge("one_option_share", rules.one_option_invalid):
        invalid.append(("one-option responding", f"one-option responding: {_pct(m['one_option_share'])} of answers "
                        f"are the same option (limit {_pct(rules.one_option_invalid)})"))
    if ge("nonok_rate", rules.nonok_invalid):
        invalid.append(("refusals/unparseable", f"{_pct(m['nonok_rate'])} of answers are refusals, unparseable or "
                        f"errors (limit {_pct(rules.nonok_invalid)})"))
    elif ge("nonok_rate", rules.nonok_suspect):
        suspect.append(("refusals/unparseable", f"{_pct(m['nonok_rate'])} refusals/unparseable/errors "
                        f"(limit {_pct(rules.nonok_suspect)})"))
    if lt("label_mass", rules.label_mass_invalid):
        invalid.append(("low label probability", f"only {_pct(m['label_mass'])} probability on the option labels "
                        f"(limit {_pct(rules.label_mass_invalid)})"))
    elif lt("label_mass", rules.label_mass_suspect):
        suspect.append(("low label probability", f"only {_pct(m['label_mass'])} probability on the option labels "
                        f"(limit {_pct(rules.label_mass_suspect)})"))
    if (m.get("n_orders", 1) < 2 or m.get("n_order_groups", 0) == 0) and ge("modal_position_share",
                                                                             rules.modal_position_suspect):
        suspect.append(("one displayed position", f"{_pct(m['modal_position_share'])} of answers at one displayed "
                        "position and option orders not varied, so position and content cannot be told apart"))
    if ge("longstring", rules.longstring_suspect) and not ge("one_option_share", rules.one_option_invalid):
        suspect.append(("long strings", f"long strings of identical answers ({_pct(m['longstring'])} of items, "
                        f"Curran 2016 limit {_pct(rules.longstring_suspect)})"))
    acq = num("acquiescence_extreme")
    if acq is not None and abs(acq) >= rules.acquiescence_suspect:
        word = "acquiescence" if acq > 0 else "disacquiescence"
        what = "agrees" if acq > 0 else "disagrees"
        suspect.append((word, f"{word} ({what} with forward- and reverse-keyed items alike): index {acq:+.2f} "
                        f"(limit ±{rules.acquiescence_suspect:.2f})"))
    if ge("entropy", rules.entropy_suspect):
        suspect.append(("near-uniform probabilities", f"near-uniform option probabilities (normalised entropy "
                        f"{m['entropy']:.2f}, limit {rules.entropy_suspect:.2f})"))
    if all(num(k) is None for k in ("position_only", "modal_position_share", "one_option_share",
                                    "acquiescence_extreme", "label_mass")):
        note = "only refusals and unparseable answers screened (open answers: no option positions or keyed items)"
        if not invalid and not suspect:
            return "valid", note, ""
        suspect.append(("open answers", note))
    found = invalid + suspect
    reason, flags = "; ".join(t for _, t in found), ", ".join(dict.fromkeys(k for k, _ in found))
    return ("invalid" if invalid else "suspect" if suspect else "valid"), reason, flags


# ----------------------------------------------------------------------------- public API
def screen(responses: pd.DataFrame, *, by: Sequence[str] = CELL_COLUMNS, respondent: Sequence[str] | None = None,
           source: str = "chosen", overall: bool = True, rules: ScreeningRules | None = None,
           **thresholds: float) -> pd.DataFrame:
    """Screen the answers of each ``model × instrument × persona`` cell for invalid responding.

    Parameters
    ----------
    responses : the tidy response table (``pm.read_run``).
    by : cell columns (default ``model``, ``instrument``, ``persona``).
    respondent : columns that identify a respondent inside a cell (default: :data:`RESPONDENT_COLUMNS`
        present, less ``by``).
    source : ``"chosen"`` (the answer given; default) or ``"expected"`` (probability-weighted) as the raw
        answer for IRV and acquiescence.
    overall : also add one row per cell over all personas (``persona == "(all)"``).
    rules, **thresholds : the classification thresholds (:class:`ScreeningRules`; e.g.
        ``position_only_invalid=0.3``).

    Returns
    -------
    DataFrame, one row per cell: the cell columns, ``level`` (``cell`` / ``overall``), the measures of the module
    docstring, ``n_answers``, ``n_respondents``, ``n_items``, ``n_orders``, ``n_order_groups``, ``status``
    (``valid`` / ``suspect`` / ``invalid``), ``reason`` (in words) and ``flags`` (short names). ``attrs["rules"]`` holds the thresholds.
    """
    if not isinstance(responses, pd.DataFrame):
        raise DataError(f"screen() takes the tidy response table (pm.read_run), got {type(responses).__name__}")
    by = list(by)
    missing = [c for c in [*by, "item"] if c not in responses]
    if missing:
        raise DataError(f"the response table lacks column(s) {missing} (see docs/response-table.md)")
    if responses.empty:
        raise DataError("the response table is empty: nothing to screen")
    ScreeningRules.with_overrides(**thresholds)  # names checked
    rules = replace(rules or ScreeningRules(), **{k: float(v) for k, v in thresholds.items()})
    resp_cols = [c for c in (respondent or RESPONDENT_COLUMNS) if c in responses and c not in by]
    rows = []
    for key, cell in responses.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "level": "cell", **_measure_cell(cell, resp_cols, source)})
    if overall and "persona" in by and responses["persona"].nunique() > 1:
        outer = [c for c in by if c != "persona"]
        inner = resp_cols + ["persona"]
        for key, cell in responses.groupby(outer, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(outer, key)), "persona": ALL, "level": "overall",
                         **_measure_cell(cell, inner, source)})
    table = pd.DataFrame(rows)
    verdicts = [classify(r, rules) for r in table.to_dict("records")]
    table["status"] = [v[0] for v in verdicts]
    table["reason"] = [v[1] for v in verdicts]
    table["flags"] = [v[2] for v in verdicts]
    table.attrs["rules"] = asdict(rules)
    return table


def exclude_invalid(responses: pd.DataFrame, screening: pd.DataFrame | None = None, *, keep: bool = False,
                    exclude: Sequence[str] = ("invalid",), **screen_kw: Any) -> pd.DataFrame:
    """The response table without the answers of screened-out cells (default: ``invalid`` ones).

    ``screening`` is the table of :func:`screen` (computed here with ``screen_kw`` when omitted). With
    ``keep=True`` nothing is removed (but the note is still attached). ``exclude=("invalid", "suspect")`` also
    removes suspect cells. The returned table's ``attrs["screening"]`` says what was excluded and why:
    ``{"excluded": [{model, instrument, persona, status, reason, n_answers}], "n_excluded": int, "kept": bool}``.
    Only the per-persona rows (``level == "cell"``) decide; the ``(all)`` rows are a summary.
    """
    if screening is None:
        screening = screen(responses, **screen_kw)
    bad_levels = set(exclude)
    unknown = bad_levels - set(SCREENING_LEVELS)
    if unknown:
        raise DataError(f"exclude= takes levels among {SCREENING_LEVELS}, got {sorted(unknown)}")
    cells = screening[(screening.get("level", "cell") == "cell") & screening["status"].isin(bad_levels)]
    by = [c for c in CELL_COLUMNS if c in cells and c in responses]
    if cells.empty or not by:
        mask = pd.Series(False, index=responses.index)
    else:
        idx = pd.MultiIndex.from_frame(responses[by].astype(str))
        bad = pd.MultiIndex.from_frame(cells[by].astype(str))
        mask = pd.Series(idx.isin(bad), index=responses.index)
    out = responses.copy() if keep else responses.loc[~mask].copy()
    out.attrs["screening"] = {
        "excluded": [{**{c: r[c] for c in by}, "status": r["status"], "reason": r["reason"],
                      "n_answers": int(r["n_answers"])} for r in cells.to_dict("records")],
        "n_excluded": 0 if keep else int(mask.sum()),
        "kept": bool(keep),
    }
    return out


def screening_banner(screening: pd.DataFrame, *, kept: bool = False) -> str:
    """What was screened out and why, in words (the first lines of a report or script).

    One sentence per instrument and model whose cells are not all valid, e.g. ``"bfi-44 (smollm2-135m): 3 of 3
    persona cells invalid -- position-driven: ...; their answers are left out of trait statistics."`` and a
    last line on the unit of analysis. Empty cells list: "All screened cells are valid."
    """
    cells = screening[screening.get("level", "cell") == "cell"]
    lines = []
    for (model, inst), g in cells.groupby(["model", "instrument"], sort=True):
        bad = g[g["status"] != "valid"]
        if bad.empty:
            continue
        parts = []
        for level in ("invalid", "suspect"):
            sub = bad[bad["status"] == level]
            if sub.empty:
                continue
            reasons = list(dict.fromkeys(f for r in sub["flags"] for f in r.split(", ") if f))
            parts.append(f"{len(sub)} of {len(g)} persona cells {level} ({', '.join(map(str, sub['persona']))}: "
                         + ", ".join(reasons) + ")")
        action = ("invalid answers kept on request" if kept else "invalid answers left out of trait statistics") \
            if (bad["status"] == "invalid").any() else "suspect answers kept, flagged"
        lines.append(f"{inst} ({model}): " + "; ".join(parts) + f"; {action}.")
    if not lines:
        return "Screening: all screened cells are valid."
    return "Screening: " + "\n".join(lines)


#: The banner's last line when screening leaves no answer to analyse.
NOTHING_LEFT = "Every answer was screened out: nothing is left to analyse (keep=True / --keep-invalid keeps them)."


class Screened(NamedTuple):
    """The result of :func:`screen_and_exclude`."""

    responses: pd.DataFrame  #: the answers trait statistics use (invalid cells left out unless ``keep``)
    screening: pd.DataFrame  #: the table of :func:`screen`
    banner: str              #: :func:`screening_banner`, plus :data:`NOTHING_LEFT` when no answer is left


def screen_and_exclude(responses: pd.DataFrame, *, keep: bool = False, **screen_kw: Any) -> Screened:
    """Screen the answers, then leave the invalid cells out: the first step of every analysis script.

    Equal to ``screening = screen(responses, **screen_kw)``, ``exclude_invalid(responses, screening, keep=keep)``
    and ``screening_banner(screening, kept=keep)``; when nothing is left the banner says so in its last line,
    so a script can print the banner and stop on ``result.responses.empty``.
    """
    screening = screen(responses, **screen_kw)
    kept = exclude_invalid(responses, screening, keep=keep)
    banner = screening_banner(screening, kept=keep)
    if kept.empty:
        banner = f"{banner}\n{NOTHING_LEFT}"
    return Screened(kept, screening, banner)
