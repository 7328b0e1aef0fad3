"""Behavioural measures: economic games, risk tasks, probes and free text, scored as trait scores.

Every function takes the tidy response table (``docs/response-table.md``) and returns tidy DataFrames whose
score tables have the same columns as :func:`psychometrika.scoring.scale_scores` (respondent columns,
``instrument``, ``scale``, ``score``, ``n_items``, ``n_missing``, ``n_refused``, ``n_unparseable``,
``n_error``) plus ``method``, so that questionnaire and behaviour scores stack into one table for
``pm.mtmm``, ``pm.cor_ci`` and the effect-size functions.

Scoring rules
-------------
* **Numeric items** (game amounts, cards turned over): the answer ``x`` on the item's range ``[lo, hi]`` is
  rescaled to ``s = (x − lo) / (hi − lo)`` and contributes ``w_t · s`` to each trait ``t`` the item weights
  (``weights: {A: 1, MACH: -1}``); an item with a ``scale`` and no weights has weight 1 on that scale. This is
  the continuous analogue of an SJT option weight: ``w_t · s`` equals the weight of the option "all of it"
  times the share chosen.
* **Multiple-choice items** (SJTs, lotteries, probes): ``Σ_k p_k w_tk`` (option probabilities, score mode)
  or ``w_t,chosen`` (the chosen option, generate mode) -- as :func:`~psychometrika.scoring.sjt_trait_scores`.
  ``source="auto"`` uses probabilities where the row was scored and the chosen option where it was generated.
* **Likert items** are scored by :func:`~psychometrika.scoring.scale_scores` unchanged.
* A trait score is the mean of the item scores of the answered items; refused, unparseable and failed
  answers are excluded and counted; fewer than ``min_items`` × the scale's items answered gives NaN. For
  behavioural instruments a scale's items are those of its items present in the table (a study may
  administer a subset of games or probes); Likert scales keep ``scale_scores``' rule (all the scale's items).

Free text (:func:`text_trait_scores`) is scored by a shipped word list (``method="lexicon"``) or by a rater
model answering an observer form about the text (``method="rater"``); both keep the text next to the score.
Belief-behaviour consistency (:func:`belief_behaviour`) compares a self-prediction item with the game item
it names in ``pair:``.

References
----------
Berg, Dickhaut & McCabe (1995), Forsythe et al. (1994), Güth et al. (1982) (games); Holt & Laury (2002)
(lottery list); Figner et al. (2009) (Columbia Card Task); Goldberg (1992) (Big-Five adjective markers);
Yarkoni (2010) (word use and personality); Campbell & Fiske (1959) (multitrait-multimethod matrix).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..answers.parsing import tokenize
from ..answers.status import NOT_SCORED, free_text_status
from ..errors import DataError
from ..instruments.schema import Instrument
from .core import index_instruments, respondent_columns, scale_scores

Source = Literal["auto", "expected", "chosen"]
#: slack of the raw-unit comparison in :func:`belief_behaviour` (floating-point noise of parsed amounts)
_AGREEMENT_EPS = 1e-12
#: lexicon scores are hits per this many words
PER_WORDS = 100.0
TEXT_METHODS = ("lexicon", "rater")

#: Respondent columns that identify one administration condition across instruments (used to pair
#: questionnaire and behaviour scores; option orders and label schemes differ between item types and are
#: averaged over).
CONDITION_COLUMNS: tuple[str, ...] = ("model", "persona", "seed", "repetition")

#: Respondent columns that only describe how an item's options were shown. Behavioural instruments mix open
#: items (shown once, ``order_id`` ``original``, ``label_scheme`` ``none``) with option items (shown in every
#: order); :func:`behaviour_scores` averages an item over these unless ``by`` is given.
PRESENTATION_COLUMNS: tuple[str, ...] = ("order_id", "label_scheme")
#: Value of a presentation column in a score that averages over its levels.
POOLED = "pooled"


# ---------------------------------------------------------------------------------------------- helpers
def _instruments(instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None,
                 responses: pd.DataFrame) -> dict[str, Instrument]:
    if instruments is None:
        from ..instruments import load_instrument

        return {str(i): load_instrument(str(i)) for i in responses["instrument"].unique()}
    return index_instruments(instruments)


def _item_weights(ins: Instrument, item_id: str) -> dict[str, float]:
    """Trait weights of a numeric/text item: its ``weights``, else weight 1 on its ``scale``."""
    it = ins.item(item_id)
    if it.weights:
        return {k: float(v) for k, v in it.weights.items() if v != 0}
    if it.scale:
        return {it.scale: 1.0}
    return {}


def _status(df: pd.DataFrame) -> pd.Series:
    return df["status"].astype(str) if "status" in df else pd.Series("ok", index=df.index)


def _row_source(row: dict[str, Any], source: Source) -> str:
    if source != "auto":
        return source
    return "expected" if row.get("mode") == "score" else "chosen"


# ------------------------------------------------------------------------------------------- item level
def behaviour_item_scores(responses: pd.DataFrame,
                          instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
                          source: Source = "auto", by: Sequence[str] | None = None) -> pd.DataFrame:
    """Trait score of each numeric or multiple-choice answer: one row per (answer, trait).

    Returns the respondent columns, ``instrument``, ``item``, ``scale``, ``weight``, ``value`` (the raw
    answer: parsed number, or expected/chosen option weight), ``score`` and ``status``. Text and Likert
    rows are skipped (see :func:`text_trait_scores` and :func:`~psychometrika.scoring.item_scores`).

    Formula: numeric ``score = w · (x − lo)/(hi − lo)``; multiple choice ``score = Σ_k p_k w_k`` (expected)
    or ``w_chosen`` (chosen). Not-ok rows get NaN.

    >>> # an amount of 4 sent of 10, keyed {TRUST: 1}: score 0.4; returned 3 of 15 keyed {MACH: -1}: -0.2
    """
    inst = _instruments(instruments, responses)
    keys = respondent_columns(responses, by)
    rows: list[dict[str, Any]] = []
    for rec in responses.to_dict("records"):
        ins = inst.get(str(rec["instrument"]))
        if ins is None:
            raise DataError(f"no instrument definition for {rec['instrument']!r}")
        item = ins.item(str(rec["item"]))
        fmt = ins.format_of(item)
        status = str(rec.get("status", "ok"))
        ok = status == "ok"
        base = {**{k: rec[k] for k in keys}, "instrument": ins.id, "item": item.id, "status": status}
        kind = ins.item_kind(item)
        if kind == "numeric":
            x = rec.get("parsed_value")
            if x is None or (isinstance(x, float) and math.isnan(x)):
                x = rec.get("chosen_value")
            x = float(x) if x is not None else math.nan
            if ok and not (fmt.min <= x <= fmt.max):
                raise DataError(f"item {item.id!r}: answer {x} outside its range [{fmt.min:g}, {fmt.max:g}]")
            s = (x - fmt.min) / (fmt.max - fmt.min) if ok else math.nan
            for t, w in _item_weights(ins, item.id).items():
                rows.append({**base, "scale": t, "weight": w, "value": x if ok else math.nan, "score": w * s})
        elif kind == "choice":
            options = item.options or []
            traits = sorted({t for o in options for t, w in o.weights.items() if w != 0})
            src = _row_source(rec, source)
            probs = rec.get("probs")
            for t in traits:
                w = np.array([o.weights.get(t, 0.0) for o in options], dtype=float)
                val = math.nan
                if ok and src == "expected":
                    p = np.asarray(probs if probs is not None else [], dtype=float)
                    if p.size != len(options) or not np.isfinite(p).all() or p.sum() <= 0:
                        raise DataError(f"item {item.id!r}: no usable option probabilities for expected scoring",
                                        hint="generated answers have no probabilities; use source='chosen' "
                                             "or 'auto'")
                    val = float(p / p.sum() @ w)
                elif ok:
                    c = rec.get("chosen_option")
                    if c is not None and not (isinstance(c, float) and math.isnan(c)) and 0 <= int(c) < len(w):
                        val = float(w[int(c)])
                rows.append({**base, "scale": t, "weight": float(np.max(np.abs(w))), "value": val,
                             "score": val})
    cols = [*keys, "instrument", "item", "scale", "weight", "value", "score", "status"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------------------------ trait level
def behaviour_scores(responses: pd.DataFrame,
                     instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
                     source: Source = "auto", by: Sequence[str] | None = None, min_items: float = 0.5,
                     text: pd.DataFrame | None = None) -> pd.DataFrame:
    """Trait scores per respondent for any mix of instruments, in the tidy form of ``scale_scores``.

    Parameters
    ----------
    responses : the tidy response table (may mix questionnaires, SJTs, games, probes, writing tasks).
    instruments : the instruments administered (default: loaded by id from the table).
    source : ``"auto"`` (probabilities for scored rows, the chosen/parsed answer for generated rows),
        ``"expected"`` or ``"chosen"``.
    by : respondent columns (default: :data:`~psychometrika.scoring.RESPONDENT_COLUMNS` present; for
        behavioural instruments without :data:`PRESENTATION_COLUMNS`, whose variants are averaged per item).
    min_items : share of a scale's items that must be answered for a score (as ``scale_scores``).
    text : output of :func:`text_trait_scores` to include text-based trait scores (one ``method`` each);
        without it, text items are skipped.

    Returns
    -------
    DataFrame: respondent columns (``order_id``/``label_scheme`` are ``"pooled"`` for behavioural
    instruments scored with the default ``by``), ``instrument``, ``scale``, ``score``, ``n_items``, ``n_missing``,
    ``n_refused``, ``n_unparseable``, ``n_error``, ``method`` (``self-report`` for Likert instruments,
    ``behaviour`` for numeric/choice items, ``lexicon``/``rater`` for text).

    Formula: ``score_t = mean_i score_it`` over answered items ``i`` keyed on trait ``t`` (see module doc).

    >>> scores = pm.behaviour_scores(pm.read_run("runs/quickstart"))  # doctest: +SKIP
    """
    if responses.empty:
        raise DataError("the response table is empty")
    inst = _instruments(instruments, responses)
    keys = respondent_columns(responses, by)
    parts = []
    for iid, df in responses.groupby("instrument", sort=True):
        ins = inst.get(str(iid))
        if ins is None:
            raise DataError(f"no instrument definition for {iid!r}")
        types = {ins.item_kind(i) for i in df["item"].unique()}
        if types == {"likert"}:
            src = source
            if src == "auto":
                src = "expected" if (df.get("mode", pd.Series("score", index=df.index)) == "score").all() \
                    else "chosen"
            parts.append(scale_scores(df, ins, source=src, by=keys, min_items=min_items)
                         .assign(method="self-report"))
            continue
        if "likert" in types:
            raise DataError(f"instrument {ins.id!r} mixes Likert and behavioural items; score them separately")
        bkeys = keys if by is not None else [k for k in keys if k not in PRESENTATION_COLUMNS]
        scored = _collapse_presentations(behaviour_item_scores(df, ins, source=source, by=bkeys), bkeys)
        if not scored.empty:
            agg = _aggregate_present(scored, ins, bkeys, min_items, set(df["item"]))
            agg = agg.assign(method="behaviour")
            for c in keys:
                if c not in agg:
                    agg[c] = POOLED  # presentation variants were averaged
            parts.append(agg[[*keys, *[c for c in agg.columns if c not in keys]]])
    if text is not None and not text.empty:
        parts.append(text_scale_scores(text, inst, by=keys, min_items=min_items))
    parts = [p for p in parts if not p.empty]
    if not parts:
        raise DataError("no behaviour or questionnaire items could be scored")
    return pd.concat(parts, ignore_index=True)


def _aggregate_present(scored: pd.DataFrame, ins: Instrument, keys: list[str], min_items: float,
                       administered: set[str]) -> pd.DataFrame:
    """Mean item score per (respondent, scale), as ``scale_scores`` aggregates, except that a scale's size is
    the number of its items *administered in this table* (studies often give a subset of games or probes)."""
    sizes = {s: len([i for i in items if i in administered]) for s, items in ins.scale_items().items()}
    g = scored.groupby([*keys, "scale"], dropna=False)["score"]
    res = g.agg(n_items="count", score="mean").reset_index()
    res["n_missing"] = res["scale"].map(sizes) - res["n_items"]
    need = np.ceil(min_items * res["scale"].map(sizes))
    res["score"] = res["score"].where(res["n_items"] >= need)
    status = scored["status"].astype(str)
    for s in NOT_SCORED:
        res = res.merge(scored.assign(_x=status.eq(s).astype(int)).groupby([*keys, "scale"], dropna=False)["_x"]
                        .sum().rename(f"n_{s}").reset_index(), on=[*keys, "scale"], how="left")
        res[f"n_{s}"] = res[f"n_{s}"].fillna(0).astype(int)
    res.insert(len(keys), "instrument", ins.id)
    return res[[*keys, "instrument", "scale", "score", "n_items", "n_missing", "n_refused", "n_unparseable",
                "n_error"]]


def _collapse_presentations(scored: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Average an item's scores over its presentation variants (option orders, label schemes).

    A lottery shown in two option orders is one answer to one item, not two items; the item counts as
    answered when at least one variant is ``ok`` (then its status is ``ok``).
    """
    if scored.empty:
        return scored
    g = scored.groupby([*keys, "instrument", "item", "scale"], dropna=False, sort=False)
    out = g.agg(score=("score", "mean"), value=("value", "mean"), weight=("weight", "first")).reset_index()
    ok = g["status"].agg(lambda s: "ok" if (s == "ok").any() else s.iloc[0]).reset_index(drop=True)
    out["status"] = ok.to_numpy()
    return out


def text_scale_scores(text: pd.DataFrame, instruments: Mapping[str, Instrument] | Iterable[Instrument],
                      by: Sequence[str] | None = None, min_items: float = 0.5) -> pd.DataFrame:
    """Aggregate :func:`text_trait_scores` output to respondents × traits, one set per text method.

    Returns the ``scale_scores`` columns plus ``method``; ``n_items`` counts the texts scored.
    """
    inst = index_instruments(instruments)
    keys = respondent_columns(text, by)
    parts = []
    for (iid, method), df in text.groupby(["instrument", "method"], sort=True):
        ins = inst.get(str(iid))
        if ins is None:
            raise DataError(f"no instrument definition for {iid!r}")
        agg = _aggregate_present(df, ins, keys, min_items, set(df["item"]))
        parts.append(agg.assign(method=str(method)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# ------------------------------------------------------------------------------- belief vs behaviour
def belief_behaviour_pairs(responses: pd.DataFrame,
                           instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
                           by: Sequence[str] | None = None) -> pd.DataFrame:
    """Match each self-prediction with the action it predicts: one row per (respondent, pair).

    The item that names another in ``pair:`` is the prediction; the named item is the action. Rows are
    matched on the respondent columns (``by``) except ``stem_id``. Numeric answers are also given rescaled
    to ``[0, 1]`` by each item's range (``prediction_s``, ``action_s``). Only pairs where both answers are
    ``ok`` are returned; ``n_missing`` pairs are counted by :func:`belief_behaviour`.

    Returns the match columns, ``instrument``, ``prediction_item``, ``item`` (the action), ``kind``
    (``numeric`` or ``choice``), ``prediction``, ``action``, ``prediction_s``, ``action_s``.
    """
    inst = _instruments(instruments, responses)
    keys = [c for c in respondent_columns(responses, by) if c != "stem_id"]
    out = []
    for iid, df in responses.groupby("instrument", sort=True):
        ins = inst.get(str(iid))
        if ins is None:
            raise DataError(f"no instrument definition for {iid!r}")
        for it in ins.items:
            if it.pair is None:
                continue
            partner = ins.item(it.pair)
            if partner.pair == it.id and ins.items.index(partner) < ins.items.index(it):
                continue  # mutual pair: the first item is the prediction
            fp, fa = ins.format_of(it), ins.format_of(partner)
            kind = ins.item_kind(it)
            if kind != ins.item_kind(partner) or kind not in ("numeric", "choice"):
                raise DataError(f"item {it.id!r} ({fp.type}) predicts {partner.id!r} ({fa.type}); a pair needs "
                                "two numeric or two multiple-choice items")
            pred = df[df["item"] == it.id]
            act = df[df["item"] == partner.id]
            if pred.empty or act.empty:
                continue
            col = "parsed_value" if kind == "numeric" else "chosen_option"
            p = pred[_status(pred) == "ok"][keys + [col]].rename(columns={col: "prediction"})
            a = act[_status(act) == "ok"][keys + [col]].rename(columns={col: "action"})
            if p.duplicated(keys).any() or a.duplicated(keys).any():
                raise DataError(f"pair {it.id!r}/{partner.id!r}: several answers per respondent",
                                hint="add the distinguishing column (e.g. order_id) to `by`")
            m = p.merge(a, on=keys, how="inner")
            m.insert(len(keys), "instrument", ins.id)
            m.insert(len(keys) + 1, "prediction_item", it.id)
            m.insert(len(keys) + 2, "item", partner.id)
            m.insert(len(keys) + 3, "kind", kind)
            if kind == "numeric":
                m["prediction_s"] = (m["prediction"].astype(float) - fp.min) / (fp.max - fp.min)
                m["action_s"] = (m["action"].astype(float) - fa.min) / (fa.max - fa.min)
            else:
                m["prediction_s"] = np.nan
                m["action_s"] = np.nan
            out.append(m)
    cols = [*keys, "instrument", "prediction_item", "item", "kind", "prediction", "action", "prediction_s",
            "action_s"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out, ignore_index=True)[cols]


def belief_behaviour(responses: pd.DataFrame,
                     instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
                     by: Sequence[str] = ("model", "persona"), tolerance: float = 0.0) -> pd.DataFrame:
    """Belief–behaviour consistency: does a model do what it predicts it will do?

    For every group in ``by`` (default: per model and persona) over the matched pairs of
    :func:`belief_behaviour_pairs`:

    * ``agreement``: share of pairs with ``|prediction − action| ≤ tolerance`` (raw units; for choice
      items: the same option);
    * ``mad``: mean absolute difference of the rescaled answers, ``mean |p_s − a_s|`` (0 = always exact,
      1 = always opposite ends of the range);
    * ``bias``: ``mean(p_s − a_s)`` (positive: the model predicts more than it does);
    * ``r``: Pearson correlation of ``p_s`` and ``a_s`` across the pairs of the group (NaN with fewer than
      3 pairs or no variance);
    * ``mean_prediction``, ``mean_action`` (rescaled), ``n_pairs``.

    Add ``"item"`` to ``by`` for one row per game. Returns a DataFrame.

    >>> pm.belief_behaviour(df, by=["model", "persona", "item"])  # doctest: +SKIP
    """
    pairs = belief_behaviour_pairs(responses, instruments)
    by = list(by)
    missing = [c for c in by if c not in pairs.columns]
    if missing:
        raise DataError(f"cannot group by {missing}: not columns of the pair table",
                        hint=f"columns: {list(pairs.columns)}")
    cols = [*by, "n_pairs", "agreement", "mad", "bias", "r", "mean_prediction", "mean_action"]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for key, g in pairs.groupby(by, sort=True, dropna=False) if by else [((), pairs)]:
        key = key if isinstance(key, tuple) else (key,)
        num = g[g["kind"] == "numeric"]
        same = np.where(g["kind"] == "numeric",
                        (g["prediction"].astype(float) - g["action"].astype(float)).abs() <= tolerance + _AGREEMENT_EPS,
                        g["prediction"].astype(float) == g["action"].astype(float))
        d = num["prediction_s"] - num["action_s"]
        r = math.nan
        if len(num) >= 3 and num["prediction_s"].std() > 0 and num["action_s"].std() > 0:
            r = float(np.corrcoef(num["prediction_s"], num["action_s"])[0, 1])
        rows.append({**dict(zip(by, key)), "n_pairs": len(g), "agreement": float(np.mean(same)),
                     "mad": float(d.abs().mean()) if len(num) else math.nan,
                     "bias": float(d.mean()) if len(num) else math.nan, "r": r,
                     "mean_prediction": float(num["prediction_s"].mean()) if len(num) else math.nan,
                     "mean_action": float(num["action_s"].mean()) if len(num) else math.nan})
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------------------------- text
#: Big-Five word list for ``text_trait_scores(method="lexicon")``. Written for psychometrika (licence:
#: CC0-1.0, like the IPIP it draws on): trait-descriptive adjectives in the tradition of Goldberg's (1992)
#: Big-Five adjective markers and the public-domain IPIP item pool, plus close word forms and a few nouns/verbs
#: that Yarkoni (2010) found to go with each trait in bloggers' texts (e.g. social words with Extraversion,
#: anxiety/negative-emotion words with Neuroticism, arts and ideas with Openness). It is a transparent,
#: small dictionary, not a validated instrument: treat its scores as a second, noisy method.
BIG_FIVE_LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "E": {
        "+": ("talkative", "outgoing", "sociable", "social", "energetic", "enthusiastic", "extraverted", "extroverted",
              "lively", "bold", "assertive", "active", "adventurous", "party", "parties", "chatty", "gregarious",
              "fun", "excited", "exciting", "laugh", "laughing", "laughter", "loud", "confident", "vibrant",
              "friends", "together", "celebrate", "meet", "meeting"),
        "-": ("quiet", "shy", "reserved", "introverted", "withdrawn", "timid", "silent", "bashful", "solitary",
              "alone", "passive", "unsociable", "inhibited", "private", "introvert", "quietly"),
    },
    "A": {
        "+": ("kind", "warm", "friendly", "helpful", "generous", "caring", "considerate", "cooperative",
              "sympathetic", "trusting", "gentle", "polite", "agreeable", "compassionate", "pleasant", "forgiving",
              "patient", "supportive", "thoughtful", "welcoming", "share", "sharing", "help", "helping", "care",
              "kindness", "thank", "thanks", "grateful", "love", "fair"),
        "-": ("rude", "harsh", "selfish", "cold", "unkind", "critical", "hostile", "unfriendly", "cruel",
              "stubborn", "arrogant", "demanding", "suspicious", "callous", "uncooperative", "quarrelsome",
              "aggressive", "annoyed", "irritated", "hate", "blame", "insult", "stupid", "idiot", "damn"),
    },
    "C": {
        "+": ("organized", "organised", "careful", "thorough", "reliable", "responsible", "efficient",
              "disciplined", "punctual", "hardworking", "hard-working", "systematic", "neat", "tidy", "planned",
              "plan", "plans", "planning", "prepared", "precise", "diligent", "dependable", "conscientious",
              "schedule", "focused", "goal", "goals", "achieve", "work", "finish", "finished", "complete"),
        "-": ("careless", "disorganized", "disorganised", "messy", "lazy", "sloppy", "forgetful", "late",
              "impulsive", "procrastinate", "procrastinating", "unreliable", "chaotic", "distracted",
              "irresponsible", "forgot", "forget", "mess"),
    },
    "N": {
        "+": ("anxious", "nervous", "worried", "worry", "worrying", "stressed", "stress", "tense", "moody",
              "upset", "sad", "afraid", "scared", "fear", "insecure", "depressed", "frustrated", "irritable",
              "panic", "panicked", "overwhelmed", "emotional", "lonely", "unhappy", "angry", "jealous", "guilty",
              "embarrassed", "terrible", "awful", "cry", "cried"),
        "-": ("calm", "relaxed", "stable", "secure", "content", "peaceful", "composed", "steady", "unworried",
              "resilient", "easygoing", "easy-going", "serene"),
    },
    "O": {
        "+": ("creative", "imaginative", "curious", "artistic", "original", "intellectual", "innovative",
              "inventive", "philosophical", "ideas", "idea", "art", "music", "poetry", "books", "reading",
              "explore", "exploring", "learn", "learning", "complex", "reflective", "travel", "culture",
              "wonder", "unconventional", "open-minded", "imagination", "beauty", "science"),
        "-": ("conventional", "traditional", "routine", "ordinary", "unimaginative", "uncreative", "predictable",
              "familiar", "usual", "uncurious", "boring"),
    },
}

_NEGATIONS = {"not", "no", "never", "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't",
              "can't", "cannot", "won't", "hardly", "nor", "without", "n't"}


def lexicon_scores(text: str, lexicon: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
                   negation_window: int = 3) -> pd.DataFrame:
    """Word-list Big-Five scores of one text: per trait, hits per 100 words.

    A word (or multi-word phrase) of the trait's ``+`` list counts +1, of its ``-`` list −1; a hit with a
    negation (``not``, ``never``, ``don't``, ...) among the ``negation_window`` preceding words counts with the
    opposite sign ("not shy" is an Extraversion +1). ``score = 100 · (n_pos − n_neg) / n_words``.

    Returns one row per trait: ``scale``, ``score``, ``n_words``, ``n_pos``, ``n_neg``.

    >>> lexicon_scores("I am kind, not shy.").set_index("scale").loc[["A", "E"], "score"].tolist()
    [20.0, 20.0]
    """
    lex = lexicon or BIG_FIVE_LEXICON
    toks = tokenize(text)
    n = len(toks)
    rows = []
    for trait, poles in lex.items():
        pos = neg = 0
        for sign, words in (("+", poles.get("+", ())), ("-", poles.get("-", ()))):
            for w in words:
                wt = tokenize(w)
                k = len(wt)
                if not k:
                    continue
                for i in range(n - k + 1):
                    if toks[i:i + k] != wt:
                        continue
                    window = toks[max(0, i - negation_window):i]
                    negated = any(t in _NEGATIONS or t.endswith("n't") for t in window)
                    positive = (sign == "+") != negated
                    if positive:
                        pos += 1
                    else:
                        neg += 1
        rows.append({"scale": trait, "score": PER_WORDS * (pos - neg) / n if n else math.nan, "n_words": n,
                     "n_pos": pos, "n_neg": neg})
    return pd.DataFrame(rows, columns=["scale", "score", "n_words", "n_pos", "n_neg"])


def _text_rows(responses: pd.DataFrame, inst: dict[str, Instrument]) -> pd.DataFrame:
    keep = []
    for idx, rec in responses[["instrument", "item"]].iterrows():
        ins = inst.get(str(rec["instrument"]))
        if ins is not None and ins.item_kind(str(rec["item"])) == "text":
            keep.append(idx)
    return responses.loc[keep]


def _text_records(responses: pd.DataFrame, inst: dict[str, Instrument], keys: list[str]) -> list[dict[str, Any]]:
    base = []
    for rec in _text_rows(responses, inst).to_dict("records"):
        ins = inst[str(rec["instrument"])]
        raw = str(rec.get("raw_text") or "")
        base.append({"keys": {k: rec[k] for k in keys}, "instrument": ins.id, "item": str(rec["item"]),
                     "raw_text": raw, "status": free_text_status(raw),
                     "traits": list(_item_weights(ins, str(rec["item"])))})
    return base


def _texts_to_rate(base: list[dict[str, Any]]) -> list[str]:
    return [b["raw_text"] if b["status"] == "ok" else "" for b in base]


def rater_texts(responses: pd.DataFrame,
                instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
                by: Sequence[str] | None = None) -> list[str]:
    """The texts of the table's free-text answers to give a rater model, in the order
    :func:`text_trait_scores` scores them (``""`` for answers that are not ``ok``: they are not rated).

    >>> rows = run_rater(rater_texts(df), rater=backend)        # the engine runs the rating study
    >>> text_trait_scores(df, method="rater", ratings=rows)   # doctest: +SKIP
    """
    inst = _instruments(instruments, responses)
    return _texts_to_rate(_text_records(responses, inst, respondent_columns(responses, by)))


def text_trait_scores(responses: pd.DataFrame,
                      instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
                      method: str | Sequence[str] = "lexicon", *, by: Sequence[str] | None = None,
                      lexicon: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
                      rater: Any = None, rater_instrument: str | Instrument = "bfi-44",
                      rater_items: Sequence[str] | None = None, rater_answer_prefix: str | None = "Answer:",
                      batch_size: int = 32, ratings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Big-Five scores of free-text answers, one row per (text, trait, method), the text kept alongside.

    Parameters
    ----------
    responses : the tidy table; rows of items with a ``text`` response format are scored.
    instruments : the instruments (default: loaded by id).
    method : ``"lexicon"``, ``"rater"`` or both (``["lexicon", "rater"]``).
    lexicon : ``{trait: {"+": words, "-": words}}`` (default :data:`BIG_FIVE_LEXICON`).
    rater : the rater model: a Backend (anything with ``score(requests)``), or a dict
        ``{"backend": "transformers", "model": "embedded", ...settings}`` passed to ``make_backend``.
    rater_instrument : Likert instrument whose items form the observer form (default ``bfi-44``; its items
        complete :data:`psychometrika.engine.rating.RATER_STEM`, "The author of this text is someone who ...").
    rater_items : item ids of the rater instrument to use (default: all).
    rater_answer_prefix : prefill of the rater's answer (the option numbers are scored after it).
    ratings : instead of ``rater``, the response rows of the rating study already run by the engine:
        ``psychometrika.engine.rating.run_rater(rater_texts(responses), rater=...)`` (then scoring only reads
        rows; ``rater_instrument`` must be the form they answered). With ``rater``, that study is run here.

    Returns
    -------
    DataFrame: respondent columns, ``instrument``, ``item``, ``raw_text``, ``method``, ``scale``, ``score``,
    ``n_words``, ``n_hits`` (lexicon: words counted; rater: items rated), ``status`` (``ok``; ``refused`` for
    short refusals; ``unparseable`` for empty texts -- these get NaN scores). Only traits the text item
    weights (its ``weights``/``scale``) are returned.

    Scores: lexicon ``100 · (n_pos − n_neg) / n_words`` (see :func:`lexicon_scores`); rater: the mean keyed
    expected rating ``Σ_k p_k v_k`` (reverse-keyed items ``min + max − x``) of the rater form's items of the
    trait, as :func:`~psychometrika.scoring.scale_scores` scores a questionnaire.
    """
    inst = _instruments(instruments, responses)
    keys = respondent_columns(responses, by)
    methods = [method] if isinstance(method, str) else list(method)
    bad = [m for m in methods if m not in TEXT_METHODS]
    if bad:
        raise DataError(f"unknown text scoring method(s) {bad}", hint=f"use one of {list(TEXT_METHODS)}")
    if "rater" in methods and rater is None and ratings is None:
        raise DataError("text scoring with method='rater' needs a rater model or its ratings",
                        hint="pass rater=make_backend('transformers', model='embedded') or "
                             "rater={'backend': 'transformers', 'model': 'embedded'}, or ratings=run_rater(...)")
    cols = [*keys, "instrument", "item", "raw_text", "method", "scale", "score", "n_words", "n_hits", "status"]
    base = _text_records(responses, inst, keys)
    if not base:
        return pd.DataFrame(columns=cols)
    out: list[dict[str, Any]] = []
    if "lexicon" in methods:
        for b in base:
            lx = lexicon_scores(b["raw_text"], lexicon).set_index("scale")
            for t in b["traits"]:
                ok = b["status"] == "ok" and t in lx.index
                out.append({**b["keys"], "instrument": b["instrument"], "item": b["item"], "raw_text": b["raw_text"],
                            "method": "lexicon", "scale": t,
                            "score": float(lx.loc[t, "score"]) if ok else math.nan,
                            "n_words": len(tokenize(b["raw_text"])),
                            "n_hits": int(lx.loc[t, "n_pos"] + lx.loc[t, "n_neg"]) if t in lx.index else 0,
                            "status": b["status"]})
    if "rater" in methods:
        if ratings is None:
            scores = rate_texts(_texts_to_rate(base), rater=rater, rater_instrument=rater_instrument,
                                rater_items=rater_items, answer_prefix=rater_answer_prefix, batch_size=batch_size)
        else:
            scores = rater_scores(ratings, rater_instrument)
        for j, b in enumerate(base):
            r = scores[scores["text"] == j].set_index("scale")
            for t in b["traits"]:
                ok = b["status"] == "ok" and t in r.index
                out.append({**b["keys"], "instrument": b["instrument"], "item": b["item"], "raw_text": b["raw_text"],
                            "method": "rater", "scale": t, "score": float(r.loc[t, "score"]) if ok else math.nan,
                            "n_words": len(tokenize(b["raw_text"])),
                            "n_hits": int(r.loc[t, "n_items"]) if ok else 0, "status": b["status"]})
    return pd.DataFrame(out, columns=cols)


def rater_scores(ratings: pd.DataFrame, rater_instrument: str | Instrument = "bfi-44") -> pd.DataFrame:
    """Trait scores of rated texts from the rater study's response rows
    (:func:`psychometrika.engine.rating.run_rater`): one row per (text index, trait).

    A rating is the expected option value ``Σ_k p_k v_k`` (``expected_value``), reverse keyed
    (``min + max − x``) for ``keyed == −1`` items; a trait's score is the mean over the rated form items that
    belong to it, as :func:`~psychometrika.scoring.scale_scores` scores a questionnaire.

    Returns ``text``, ``scale``, ``score``, ``n_items``.
    """
    cols = ["text", "scale", "score", "n_items"]
    if ratings.empty:
        return pd.DataFrame(columns=cols)
    form = rater_instrument if isinstance(rater_instrument, Instrument) else None
    if form is None:
        from ..instruments import load_instrument

        form = load_instrument(rater_instrument)
    values = form.options_of(form.items[0]).values
    lo, hi = min(values), max(values)
    members = form.scale_items()
    rows = []
    for rec in ratings[ratings["status"] == "ok"].to_dict("records"):
        x = float(rec["expected_value"])
        x = lo + hi - x if int(rec["keyed"]) == -1 else x
        for sc, ids in members.items():
            if rec["item"] in ids:
                rows.append({"text": rec["text"], "scale": sc, "value": x})
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    res = df.groupby(["text", "scale"])["value"].agg(score="mean", n_items="count").reset_index()
    return res[cols]


def rate_texts(texts: Sequence[str], *, rater: Any, rater_instrument: str | Instrument = "bfi-44",
               rater_items: Sequence[str] | None = None, answer_prefix: str | None = "Answer:",
               batch_size: int = 32) -> pd.DataFrame:
    """Rate each text with a rater model and score the ratings: a convenience for
    ``rater_scores(run_rater(texts, ...))``.

    The rating is a derived study the engine administers (:func:`psychometrika.engine.rating.run_rater`:
    each (text, form item) is one prompt -- :data:`~psychometrika.engine.rating.RATER_INSTRUCTIONS` with the
    text, the rater instrument's options, the item in :data:`~psychometrika.engine.rating.RATER_STEM` -- whose
    option labels the rater scores); :func:`rater_scores` turns its rows into trait scores. Empty texts are not
    rated.

    Returns one row per (text index, trait): ``text``, ``scale``, ``score`` (mean keyed expected rating),
    ``n_items``.
    """
    from ..engine.rating import run_rater

    ratings = run_rater(texts, rater=rater, rater_instrument=rater_instrument, rater_items=rater_items,
                        answer_prefix=answer_prefix, batch_size=batch_size)
    return rater_scores(ratings, rater_instrument)


# -------------------------------------------------------------------------------------- MTMM glue
def mtmm_long(scores: pd.DataFrame,
              instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument | None = None,
              by: Sequence[str] = CONDITION_COLUMNS, traits: Mapping[Any, str] | None = None,
              shared_only: bool = True) -> pd.DataFrame:
    """Long (subject, trait, method, score) table for ``pm.mtmm`` from stacked score tables.

    ``scores`` is the output of :func:`behaviour_scores` (or ``scale_scores`` tables concatenated). A
    subject is one combination of ``by`` (default :data:`CONDITION_COLUMNS`: model, persona, seed,
    repetition); scores of the other conditions (instruction paraphrases, option orders) are averaged. The
    trait of a scale is ``traits[(instrument, scale)]`` or ``traits[scale]`` if given, else the scale's name
    in lower case (so BFI "Agreeableness" and a game's "Agreeableness" are one trait). The method is the
    ``method`` column for text scores (``writing-task:lexicon``), else the instrument id. With
    ``shared_only`` only traits measured by at least two methods are kept.

    >>> res = pm.mtmm(mtmm_long(scores), subject=["model", "persona", "seed", "repetition"])  # doctest: +SKIP
    """
    by = [c for c in by if c in scores.columns]
    if not by:
        raise DataError("mtmm_long needs at least one subject column present in the scores")
    names: dict[tuple[str, str], str] = {}
    if traits is None:
        idx = _instruments(instruments, scores)
        names = {(i.id, s.id): s.name.lower() for i in idx.values() for s in i.scales}
    df = scores.copy()

    def trait_of(iid: str, sc: str) -> str:
        if traits is not None:
            return str(traits.get((iid, sc), traits.get(sc, sc)))
        return names.get((iid, sc), sc)

    df["trait"] = [trait_of(str(i), str(s)) for i, s in zip(df["instrument"], df["scale"])]
    if "method" in df:
        df["method"] = [f"{i}:{m}" if m in TEXT_METHODS else str(i) for i, m in zip(df["instrument"], df["method"])]
    else:
        df["method"] = df["instrument"].astype(str)
    out = df.groupby([*by, "trait", "method"], dropna=False)["score"].mean().reset_index()
    if shared_only:
        n_methods = out.groupby("trait")["method"].nunique()
        out = out[out["trait"].isin(n_methods[n_methods >= 2].index)]
    return out.reset_index(drop=True)



def __getattr__(name: str) -> Any:
    if name in ("RATER_INSTRUCTIONS", "RATER_STEM"):  # the rating prompt moved to the engine's rating study
        from ..engine import rating

        return getattr(rating, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BIG_FIVE_LEXICON", "CONDITION_COLUMNS", "POOLED", "PRESENTATION_COLUMNS", "RATER_INSTRUCTIONS",
           "RATER_STEM", "behaviour_item_scores", "rater_scores", "rater_texts",
           "behaviour_scores", "belief_behaviour", "belief_behaviour_pairs", "lexicon_scores", "mtmm_long",
           "rate_texts", "text_scale_scores", "text_trait_scores", "tokenize"]
