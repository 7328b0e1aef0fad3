"""lavaan model syntax for :func:`~psychometrika.stats.cfa`: :func:`parse_lavaan` and :class:`ModelTerm`.

Supported: ``=~`` (measurement), ``~~`` (variances/covariances), modifiers ``1*x`` (fixed value),
``NA*x`` (free), ``a*x`` / ``label("a")*x`` / ``equal("a")*x`` (labels), ``start(.5)*x`` (ignored),
``+`` continuation across lines, ``#``/``!`` comments and ``;`` separators. Other lavaan operators
(``~``, ``~1``, ``:=``, ``==``, ``<``, ``>``, ...) raise :class:`~psychometrika.errors.DataError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psychometrika.errors import DataError

__all__ = ["ModelTerm", "parse_lavaan"]

_OPS = ("=~", "~~")
_UNSUPPORTED = (":=", "==", "<", ">", "~*~", "<~", "|", "~")


@dataclass
class ModelTerm:
    """One parsed ``lhs op rhs`` statement of a lavaan model (after splitting ``+`` terms)."""

    lhs: str
    op: str
    rhs: str
    fixed: float | None = None     # value when fixed (``1*x``)
    free: bool | None = None       # True for ``NA*x``
    label: str = ""


def _strip_comments(text: str) -> str:
    return "\n".join(re.split(r"[#!]", line, maxsplit=1)[0] for line in text.splitlines())


def _statements(text: str) -> list[str]:
    """Split into statements; a line ending in an operator or ``+`` (or a next line starting with
    ``+``/``*``) continues the statement, as in lavaan."""
    lines = [ln.strip() for ln in _strip_comments(text).replace(";", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    out: list[str] = []
    for ln in lines:
        if out and (re.search(r"(=~|~~|\+|\*)$", out[-1]) or re.match(r"^[+*]", ln)):
            out[-1] = out[-1] + " " + ln
        else:
            out.append(ln)
    return out


def _parse_modifier(mod: str, stmt: str) -> dict[str, Any]:
    mod = mod.strip()
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", mod):
        return {"fixed": float(mod)}
    if mod in ("NA", "na"):
        return {"free": True}
    m = re.fullmatch(r"start\(\s*([^)]*)\)", mod)
    if m:
        return {}
    m = re.fullmatch(r"(?:label|equal)\(\s*['\"]([^'\"]+)['\"]\s*\)", mod)
    if m:
        return {"label": m.group(1)}
    if re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", mod):
        return {"label": mod}
    raise DataError(f"cannot read the modifier {mod!r} in model statement {stmt!r}",
                    hint="modifiers are numbers (fixed values), NA (free), labels or start(value)")


def parse_lavaan(model: str) -> list[ModelTerm]:
    """Parse lavaan model syntax into :class:`ModelTerm` rows (``=~`` and ``~~`` only).

    >>> [(t.lhs, t.op, t.rhs, t.fixed) for t in parse_lavaan("f =~ 1*a + b")]
    [('f', '=~', 'a', 1.0), ('f', '=~', 'b', None)]
    """
    if not isinstance(model, str) or not model.strip():
        raise DataError("the model must be a non-empty string in lavaan syntax, e.g. 'f =~ x1 + x2 + x3'")
    terms: list[ModelTerm] = []
    for stmt in _statements(model):
        op = next((o for o in _OPS if o in stmt), None)
        if op is None:
            bad = next((o for o in _UNSUPPORTED if o in stmt), None)
            if bad is not None:
                raise DataError(f"operator {bad!r} in {stmt!r} is not supported by pm.cfa",
                                hint="pm.cfa fits measurement models (=~ and ~~); use R's lavaan for full SEM")
            raise DataError(f"cannot parse model statement {stmt!r}",
                            hint="write e.g. 'visual =~ x1 + x2 + x3' or 'x1 ~~ x2'")
        lhs, rhs = (s.strip() for s in stmt.split(op, 1))
        if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", lhs):
            raise DataError(f"left-hand side {lhs!r} of {stmt!r} is not a variable name")
        if not rhs:
            raise DataError(f"model statement {stmt!r} has no right-hand side")
        for part in rhs.split("+"):
            part = part.strip()
            if not part:
                raise DataError(f"empty term in model statement {stmt!r}")
            pieces = part.split("*")
            var = pieces[-1].strip()
            if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", var):
                raise DataError(f"{var!r} in {stmt!r} is not a variable name")
            term = ModelTerm(lhs, op, var)
            for mod in pieces[:-1]:
                for k, v in _parse_modifier(mod, stmt).items():
                    setattr(term, k, v)
            terms.append(term)
    if not any(t.op == "=~" for t in terms):
        raise DataError("the model defines no latent variable (no '=~' statement)",
                        hint="write e.g. 'visual =~ x1 + x2 + x3'")
    return terms


