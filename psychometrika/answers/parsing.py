"""Parsing generated answers: option labels, option texts, numbers (digits or words) and refusals.

``parse_answer(text, options=..., labels=...)`` returns ``(status, position)`` for closed questions and
``parse_answer(text, options=[], labels=[], numeric_range=(lo, hi))`` returns ``(status, value)`` for open
numeric ones. ``status`` is ``ok``, ``refused`` or ``unparseable``; the raw text is always kept by the caller.

Rules (in this order; the first rule that gives exactly one answer wins):

1. The answer *starts* with a label (``3``, ``3.``, ``(B)``, ``B)``, ``**4**``) or an explicit answer phrase
   names one (``Answer: 4``, ``my answer is B``, ``I choose option 2``, ``I'd say 4``).
2. Exactly one option text appears (whole words, case-insensitive; a longer option containing a shorter
   one wins, so "Disagree strongly" is not read as "Agree strongly").
3. Exactly one distinct label appears as a standalone token anywhere (digits; letters only in upper case),
   or exactly one number word (``four``) names a numeric label.
4. Otherwise, a refusal phrase (``As an AI, I don't have personal opinions``) makes it ``refused``;
   anything else -- no answer, or two different answers (``3 or 4``) -- is ``unparseable``.

Numeric answers take digits or number words (``five``, ``twenty-five``, ``a half``), strip scale
descriptions (``out of 10``, ``0-10``, ``/10``), read a range (``between 3 and 5``, ``3-5``) as its
midpoint, prefer a number after a decision verb (``I would send 4``), and must fall in the item's range.
"""

from __future__ import annotations

import re
from typing import Sequence

_UNITS = {"zero": 0, "none": 0, "nothing": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
          "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7}

REFUSAL_PATTERNS = [
    r"\bas an ai\b", r"\bas a language model\b", r"\bi(?: am|'m) an ai\b", r"\bi(?: am|'m) (?:just )?a language model",
    r"\bi (?:do not|don't) have (?:personal |any )?(?:opinions|feelings|preferences|experiences|emotions|a personality"
    r"|personal)", r"\bi (?:cannot|can't|can not|am unable to|'m unable to|won't|will not) (?:answer|provide|"
    r"respond|choose|select|rate|comply|help with|assist with|give)", r"\bi(?: am|'m) not (?:able|comfortable)",
    r"\bi (?:must|have to) decline\b", r"\bi prefer not to\b", r"\bi(?: am|'m) sorry,? but\b",
    r"\bnot appropriate for me\b",
]
_REFUSAL_RE = re.compile("|".join(REFUSAL_PATTERNS), re.IGNORECASE)
_MARKUP_RE = re.compile(r"[*_`#>\"“”‘’]")
_ANSWER_PHRASE = (r"(?:answer(?: is)?|response(?: is)?|choice(?: is)?|option|choose|chose|pick|select|"
                  r"i(?:'d| would)? (?:say|go with|rate (?:myself|it|this)?(?: as)?)|rating(?: is)?|score(?: is)?)")


_TOKEN_RE = re.compile(r"[a-z]+(?:[-'’][a-z]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (hyphenated words and contractions kept whole).

    >>> tokenize("I'm not shy; I'm open-minded!")
    ["i'm", 'not', 'shy', "i'm", 'open-minded']
    """
    return [t.replace("’", "'") for t in _TOKEN_RE.findall((text or "").lower())]


def is_refusal(text: str) -> bool:
    """True when the text contains a refusal / 'as an AI' disclaimer."""
    return bool(_REFUSAL_RE.search(text or ""))


def _clean(text: str) -> str:
    t = _MARKUP_RE.sub("", text or "")
    return re.sub(r"\s+", " ", t).strip()


def words_to_number(text: str) -> float | None:
    """``"twenty-five"`` → 25, ``"seven"`` → 7, ``"a half"`` → 0.5; None when the text is not a number word."""
    t = text.lower().strip().replace("-", " ")
    if t in {"a half", "half", "one half"}:
        return 0.5
    parts = t.split()
    if not parts:
        return None
    total = 0
    for p in parts:
        if p in _UNITS:
            total += _UNITS[p]
        elif p in _TENS:
            total += _TENS[p]
        elif p == "hundred":
            total = max(total, 1) * 100
        elif p == "and":
            continue
        else:
            return None
    return float(total)


_NUMBER_WORD_RE = re.compile(
    r"\b(?:(?:" + "|".join(_TENS) + r")(?:[\s-](?:" + "|".join(k for k in _UNITS if _UNITS[k] < 10 and _UNITS[k] > 0)
    + r"))?|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r"|a half|one hundred|hundred)\b", re.IGNORECASE)


def _label_pattern(label: str, letters: bool) -> str:
    esc = re.escape(label)
    return esc if not letters else f"(?-i:{esc})"


def parse_choice(text: str, labels: Sequence[str], options: Sequence[str] = ()) -> tuple[str, int | None]:
    """Parse a closed answer. ``labels``/``options`` are in *display* order; returns (status, display position)."""
    t = _clean(text)
    if not t:
        return "unparseable", None
    labels = [str(x).strip() for x in labels]
    text_labels = bool(options) and labels == [str(o).strip() for o in options]
    letters = all(len(x) == 1 and x.isalpha() for x in labels)
    low = t.lower()
    # 1. leading label or explicit answer phrase
    if not text_labels:
        for i, lab in enumerate(labels):
            pat = _label_pattern(lab, letters)
            lead = rf"^\(?{pat}(?:\)|\.|:|,|$|\s+(?![a-z]))" if letters else rf"^\(?{pat}(?:\)|\.|:|,|\s|$)"
            if re.match(lead, t, flags=0 if letters else re.IGNORECASE):
                if not re.match(rf"^{pat}\s*(?:-|–|to|or|and)\s*\d", t):  # "3-4" / "3 or 4" is a range
                    return "ok", i
        hits = set()
        for i, lab in enumerate(labels):
            pat = _label_pattern(lab, letters)
            if re.search(rf"\b{_ANSWER_PHRASE}\s*(?:is\s*)?:?\s*(?:option\s*|number\s*)?\(?{re.escape(lab)}\b"
                         r"(?!\s*(?:-|–|or)\s*\w)(?!\s+[a-z]{2,})",
                         t, flags=re.IGNORECASE):
                hits.add(i)
        if len(hits) == 1:
            return "ok", hits.pop()
    # 2. option text
    if options:
        found = []
        for i, opt in enumerate(options):
            o = _clean(opt).lower().rstrip(".")
            if o and re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", low):
                found.append((i, o))
        if found:
            longest = max(found, key=lambda x: len(x[1]))
            if all(o in longest[1] for _, o in found):
                return "ok", longest[0]
            return "unparseable", None
    # 3. a single standalone label / number word ("4 out of 5" and "4/5" name one label)
    t = re.sub(r"\s*(?:out of|/)\s*\d+\b", " ", t).strip()
    if not text_labels:
        hits = set()
        for i, lab in enumerate(labels):
            pat = _label_pattern(lab, letters)
            if letters:
                if re.search(rf"(?<![\w'’]){pat}(?![\w'’])", t) and not (lab in {"A", "I"} and
                                                                        re.search(rf"(?<![\w'’]){lab} [a-z]", t)):
                    hits.add(i)
            elif re.search(rf"(?<![\w.]){pat}(?![\w]|\.\d)", t):
                hits.add(i)
        if not letters and not hits:
            for m in _NUMBER_WORD_RE.finditer(low):
                v = words_to_number(m.group(0))
                if v is not None and str(int(v)) in labels:
                    hits.add(labels.index(str(int(v))))
            for word, v in _ORDINAL.items():
                if re.search(rf"\b(?:the )?{word} (?:option|one|choice)\b", low) and v <= len(labels):
                    hits.add(v - 1)
        if len(hits) == 1 and not is_refusal(t):
            return "ok", hits.pop()
        if len(hits) > 1:
            return ("refused" if is_refusal(t) else "unparseable"), None
    return ("refused" if is_refusal(t) else "unparseable"), None


_NUM_RE = re.compile(r"(?<![\w.])-?\$?\d+(?:[.,]\d+)?%?")
_SCALE_DESC_RE = re.compile(
    r"(?:\bout of\s+\$?\d+(?:\.\d+)?|\bof (?:the |my |your )?\$?\d+(?:\.\d+)?\b(?! (?:dollars|points|coins|tokens)? ?(?:to|for))"
    r"|/\s*\d+|\(\s*\$?-?\d+\s*(?:-|–|to)\s*\$?\d+\s*\)|\bfrom \$?-?\d+ to \$?\d+|\bbetween \$?-?\d+ and \$?\d+ "
    r"(?:dollars|points|coins|tokens)?\s*(?:,|\.)?\s*(?=i\b))", re.IGNORECASE)
_RANGE_RE = re.compile(r"(?:between\s+)?\$?(-?\d+(?:\.\d+)?)\s*(?:-|–|to|and)\s*\$?(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_NOTHING_RE = re.compile(r"\b(?:not|n't|never)\s+(?:send|give|offer|return|transfer|share)\w*\s+(?:anything|any\b)",
                         re.IGNORECASE)
_EITHER_RE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:or|/)\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_GIVE_RE = re.compile(r"\b(?:send|give|offer|return|transfer)\s*:?\s*(?:back\s*)?(?:about\s*|around\s*)?\$?"
                      r"(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_DECISION_RE = re.compile(r"\b(?:send|give|offer|return|keep|accept|transfer|choose|pick|answer(?: is)?|"
                          r"amount(?: is)?|would be|i'd|i would|is)\s*:?\s*(?:back\s*)?(?:about\s*|around\s*)?\$?"
                          r"(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _to_float(s: str) -> float:
    return float(s.replace("$", "").replace("%", "").replace(",", "."))


def parse_number(text: str, numeric_range: tuple[float, float] | None = None) -> tuple[str, float | None]:
    """Parse an open numeric answer; returns (status, value)."""
    t = _clean(text)
    if not t:
        return "unparseable", None
    # number words → digits, so one grammar handles both
    t = _NUMBER_WORD_RE.sub(lambda m: _fmt(words_to_number(m.group(0))), t)
    core = _SCALE_DESC_RE.sub(" ", t)
    if _NOTHING_RE.search(core):  # "I would not send anything"
        return "ok", 0.0 if numeric_range is None or numeric_range[0] <= 0 <= numeric_range[1] else None
    either = _EITHER_RE.search(core)
    if either and float(either.group(1)) != float(either.group(2)):  # "3 or 4": two answers
        return ("refused" if is_refusal(t) else "unparseable"), None
    value: float | None = None
    m = _GIVE_RE.search(core) or _DECISION_RE.search(core)  # what is given beats what is kept
    rng = _RANGE_RE.search(core)
    if rng and (m is None or rng.start() <= m.start(1) <= rng.end()):
        a, b = float(rng.group(1)), float(rng.group(2))
        if a < b:
            value = (a + b) / 2
    if value is None and m is not None:
        value = float(m.group(1))
    if value is None:
        nums = [_to_float(x) for x in _NUM_RE.findall(core)]
        distinct = sorted(set(nums))
        if len(distinct) == 1:
            value = distinct[0]
        elif len(distinct) > 1:
            return ("refused" if is_refusal(t) else "unparseable"), None
    if value is None:
        return ("refused" if is_refusal(t) else "unparseable"), None
    if numeric_range is not None:
        lo, hi = numeric_range
        if not (lo <= value <= hi):
            return "unparseable", None
    return "ok", value


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(v)


def parse_answer(text: str, *, options: Sequence[str], labels: Sequence[str],
                 numeric_range: tuple[float, float] | None = None) -> tuple[str, float | int | None]:
    """Parse a generated answer (see the module docstring for the rules).

    Args:
        text: the generated text.
        options: option texts in display order (empty for open questions).
        labels: the labels shown before the options, in display order (``["1", ..., "5"]``, ``["A", ...]``;
            equal to ``options`` for the text label scheme); empty for open questions.
        numeric_range: ``(min, max)`` of an open numeric answer.

    Returns:
        ``(status, answer)``: the display position (closed) or the number (open), None unless status is ok.
    """
    if labels or options:
        return parse_choice(text, labels or options, options)
    return parse_number(text, numeric_range)
