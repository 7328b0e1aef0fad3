"""Persona populations: the ``personas:`` block of a study and every source it can draw respondents from.

All sources are reproducible from the study file and its seeds; :func:`resolve_personas` turns the block into a
list of :class:`Persona` (id, text, attributes) in a fixed order:

1. ``items`` -- inline personas ``{id, text, attributes: {...}}`` (or extra keys in a file, see below);
2. ``file`` -- one file or a list of files (relative to the study file): YAML (a list of mappings), CSV or JSONL
   (one JSON object a line). ``id`` and ``text`` are required; every other column/key is an *attribute*;
3. ``bank`` -- a shipped persona bank (``core``: >= 500 biographical personas written for this project, CC0),
   optionally a random subset ``sample: N`` drawn with ``seed``;
4. ``generate`` -- a text template plus attribute tables, the full factorial or ``sample: N`` with a seed and
   optional marginal ``weights`` per table; duplicates (same text) are dropped;
5. ``shaping`` -- trait shaping in the style of Serapio-García et al. (PsyBORGS): for chosen traits and a number
   of levels (2 to 9), a description built from trait-descriptive adjective markers with intensity qualifiers
   (``extremely``, ``very``, plain, ``a bit``; a neutral middle level when the number is odd). ``design:
   single`` varies one trait at a time (the others unmentioned); ``concurrent`` sets all chosen traits at once
   (the full factorial, e.g. 2 levels x 5 traits = 32 high/low profiles, or ``sample: N``). Each persona
   carries ``target_<trait>`` (its level, 1 = lowest) for every trait it sets, ``shaping_design`` and, for the
   single-trait design, ``shaped_trait``.

Example::

    personas:
      include_none: false
      file: people.csv                      # id,text,age,country,...
      bank: core
      sample: 200                           # from the bank
      seed: 1
      generate:
        template: "You are {name}, {occupation|a} from {country}."
        attributes:
          name: [Ana, Bo, Chidi]
          occupation: [nurse, engineer]
          country: [Chile, Ghana, Japan]
        sample: 10
        seed: 3
        weights: {country: [0.5, 0.25, 0.25]}
      shaping: {traits: [extraversion, agreeableness], levels: 9, design: single}

Templates use ``{attribute}`` placeholders with optional filters ``{name|a}`` (indefinite article),
``|lower``, ``|upper``, ``|capitalize``. An attribute table's entries are plain values (the attribute is
named after the table) or mappings that set several attributes at once (joint levels, e.g.
``{city: Osaka, country: Japan}``).

The marker list (``data/markers/big5.yaml``) and the core bank's tables (``data/banks/core.yaml``) were written
for psychometrika and are dedicated to the public domain (CC0 1.0); see the files' headers.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import StudyError
from ..instruments.schema import Identifier
from ..yamlio import parse_yaml, read_text, validate

DATA_DIR = Path(__file__).parent / "data"
Scalar = Union[str, int, float, bool, None]
_ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([a-z]+))?\}")
#: the most personas a full factorial (generator or concurrent shaping) may expand to before ``sample`` is needed
MAX_FACTORIAL = 1_000_000
#: intensity qualifiers, strongest first, for k levels on each side of the neutral point
QUALIFIERS = {1: ["extremely"], 2: ["extremely", "a bit"], 3: ["extremely", "very", "a bit"],
              4: ["extremely", "very", "", "a bit"]}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_attribute_names(v: dict[str, Any]) -> dict[str, Any]:
    for k in v:
        if not _ATTR_RE.match(k):
            raise ValueError(f"attribute name {k!r} must be letters, digits and '_' (not starting with a digit)")
        if k in {"id", "text"}:
            raise ValueError(f"{k!r} is a persona field, not an attribute")
    return v


class Persona(_Strict):
    """One respondent: an id, the induction text (the system prompt) and its attributes."""

    id: Identifier
    text: str = Field(min_length=1, description="Persona induction text, used as the system prompt.")
    attributes: dict[str, Scalar] = Field(default_factory=dict, description="Attributes (age, country, "
                                          "target levels, ...); they reach the response table as persona_<name>.")

    @field_validator("attributes")
    @classmethod
    def _names(cls, v: dict[str, Scalar]) -> dict[str, Scalar]:
        return _check_attribute_names(v)


class Generator(_Strict):
    """Personas from a text template and attribute tables."""

    template: str = Field(min_length=1, description="Text with {attribute} placeholders (filters: |a |lower "
                                                    "|upper |capitalize).")
    attributes: dict[str, list[Union[Scalar, dict[str, Scalar]]]] = Field(
        min_length=1, description="Table name -> entries (plain values or mappings of several attributes).")
    sample: int | None = Field(default=None, ge=1, description="Draw N distinct personas (default: the full "
                                                              "factorial).")
    seed: int = 0
    weights: dict[str, Union[list[float], dict[str, float]]] = Field(
        default_factory=dict, description="Marginal weights per table (a list aligned with its entries, or "
                                          "value -> weight); only with sample.")
    id_prefix: Identifier = "gen"

    @field_validator("attributes")
    @classmethod
    def _tables(cls, v: dict[str, list]) -> dict[str, list]:
        for name, entries in v.items():
            if not entries:
                raise ValueError(f"attribute table {name!r} is empty")
            _check_attribute_names({name: None})
            for e in entries:
                if isinstance(e, dict):
                    _check_attribute_names(e)
        return v


class Shaping(_Strict):
    """Trait-shaped personas from adjective markers with intensity qualifiers."""

    traits: Union[Literal["all"], list[str]] = Field(description="Trait names or codes of the marker list "
                                                                 "(e.g. extraversion or E), or 'all'.")
    levels: int = Field(default=9, ge=2, le=9, description="Number of target levels (1 = lowest).")
    design: Literal["single", "concurrent"] = "single"
    markers: str = Field(default="big5", description="Shipped marker list name or a YAML file path.")
    template: str = Field(default="For the following task, respond in a way that matches this description: "
                                  "{description}", description="Persona text; {description} is the trait "
                                                               "description.")
    sample: int | None = Field(default=None, ge=1, description="Concurrent design: draw N distinct profiles.")
    seed: int = 0
    id_prefix: Identifier = "shape"


class Personas(_Strict):
    """The ``personas:`` block: respondents from inline lists, files, the bank, a generator and shaping."""

    include_none: bool = Field(default=True, description="Also administer without any persona (id 'none').")
    items: list[Persona] = Field(default_factory=list)
    file: Union[str, list[str], None] = Field(default=None, description="YAML, CSV or JSONL file(s) of personas "
                                              "(id, text, attribute columns), relative to the study file.")
    bank: str | None = Field(default=None, description="A shipped persona bank ('core').")
    sample: int | None = Field(default=None, ge=1, description="Draw N personas from the bank.")
    seed: int = Field(default=0, description="Seed of the bank sample.")
    generate: Union[Generator, list[Generator], None] = None
    shaping: Union[Shaping, list[Shaping], None] = None

    def has_sources(self) -> bool:
        """Whether any persona source besides ``include_none`` is set."""
        return bool(self.items or self.file or self.bank or self.generate or self.shaping)

    def needs_resolving(self) -> bool:
        """Whether sources other than inline items remain to be expanded."""
        return bool(self.file or self.bank or self.generate or self.shaping or self.sample is not None)


# ----------------------------------------------------------------------------------------------- templates
def indefinite(word: str) -> str:
    """``word`` with 'a' or 'an' in front (by its first letter; 'an hour'-style exceptions are not handled).

    >>> indefinite("engineer"), indefinite("nurse")
    ('an engineer', 'a nurse')
    """
    w = str(word)
    return ("an " if w[:1].lower() in "aeiou" and w[:1] else "a ") + w


_FILTERS = {"a": indefinite, "lower": str.lower, "upper": str.upper,
            "capitalize": lambda s: s[:1].upper() + s[1:]}


def render_template(template: str, values: dict[str, Any], where: str = "template") -> str:
    """Fill ``{name}`` / ``{name|filter}`` placeholders from ``values``; an unknown name is a StudyError."""

    def fill(m: re.Match) -> str:
        name, flt = m.group(1), m.group(2)
        if name not in values:
            raise StudyError(f"{where}: placeholder {{{name}}} names no attribute; known: {sorted(values)}")
        text = "" if values[name] is None else str(values[name])
        if flt:
            if flt not in _FILTERS:
                raise StudyError(f"{where}: unknown filter |{flt}", hint=f"use one of {sorted(_FILTERS)}")
            text = _FILTERS[flt](text)
        return text

    return _PLACEHOLDER.sub(fill, template)


# ----------------------------------------------------------------------------------------------- files
def _coerce(text: str) -> Scalar:
    """A CSV cell as int, float or str (empty cells are missing)."""
    t = text.strip()
    if t == "":
        return None
    for kind in (int, float):
        try:
            return kind(t)
        except ValueError:
            pass
    return t


def _persona_from_record(rec: Any, source: str, line: int | None) -> Persona:
    if not isinstance(rec, dict):
        raise StudyError("a persona record must be a mapping with id and text", file=source, line=line)
    rec = dict(rec)
    attrs = dict(rec.pop("attributes", None) or {})
    for key in list(rec):
        if key not in {"id", "text"}:
            attrs[key] = rec.pop(key)
    rec["attributes"] = attrs
    if "id" in rec and not isinstance(rec["id"], str):
        rec["id"] = str(rec["id"])
    try:
        return Persona.model_validate(rec)
    except Exception as exc:  # pydantic ValidationError -> one located message
        errors = getattr(exc, "errors", lambda **_: [{"msg": str(exc), "loc": ()}])(include_url=False)
        first = errors[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise StudyError(str(first.get("msg", "invalid persona")).removeprefix("Value error, "), file=source,
                         line=line, field=field) from None


def read_persona_file(path: str | Path, inputs: dict[str, str] | None = None) -> list[Persona]:
    """Personas from a YAML, CSV or JSONL file; every key besides ``id`` and ``text`` is an attribute.

    ``inputs`` collects ``{path: sha256}`` of the file read (the run names a persona file changed on resume)."""
    p = Path(path)
    text, digest = read_text(p, StudyError)
    if inputs is not None:
        inputs[str(p)] = digest
    suffix = p.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        data = parse_yaml(text, str(p), StudyError)
        if not isinstance(data, list):
            raise StudyError("a persona file holds a YAML list of {id, text, ...}", file=str(p))
        out = []
        for rec in data:
            line = getattr(getattr(rec, "mark", None), "line", None)
            out.append(_persona_from_record(rec, str(p), line))
        return out
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or "id" not in reader.fieldnames or "text" not in reader.fieldnames:
            raise StudyError("a persona CSV needs the columns id and text", file=str(p), line=1,
                             hint=f"found columns {reader.fieldnames}")
        out = []
        for row in reader:
            rec: dict[str, Any] = {"id": row["id"], "text": row["text"]}
            rec.update({k: _coerce(v or "") for k, v in row.items() if k not in {"id", "text"} and k is not None})
            out.append(_persona_from_record(rec, str(p), reader.line_num))
        return out
    if suffix in {".jsonl", ".ndjson"}:
        out = []
        for n, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise StudyError(f"invalid JSON: {exc.msg}", file=str(p), line=n, column=exc.colno) from None
            out.append(_persona_from_record(rec, str(p), n))
        return out
    raise StudyError(f"unknown persona file type {suffix!r}", file=str(p), hint="use .yaml, .csv or .jsonl")


# ----------------------------------------------------------------------------------------------- generator
def _entry_values(table: str, entry: Any) -> dict[str, Scalar]:
    return dict(entry) if isinstance(entry, dict) else {table: entry}


def _weights(gen: Generator, table: str, entries: list) -> list[float] | None:
    w = gen.weights.get(table)
    if w is None:
        return None
    if isinstance(w, dict):
        keyed = [_entry_values(table, e).get(table) for e in entries]
        unknown = sorted(set(w) - {str(k) for k in keyed})
        if unknown:
            raise StudyError(f"generate.weights.{table}: no entry {unknown[0]!r} in the table")
        out = [float(w.get(str(k), 0.0)) for k in keyed]
    else:
        if len(w) != len(entries):
            raise StudyError(f"generate.weights.{table}: {len(w)} weights for {len(entries)} entries")
        out = [float(x) for x in w]
    if any(x < 0 for x in out) or sum(out) <= 0:
        raise StudyError(f"generate.weights.{table}: weights must be >= 0 and not all 0")
    return out


def factorial_size(sizes: list[int]) -> int:
    n = 1
    for s in sizes:
        n *= s
    return n


def _combinations(sizes: list[int], sample: int | None, seed: int, weights: list[list[float] | None],
                  what: str) -> Iterator[tuple[int, ...]]:
    """Index tuples: the full factorial in order, or distinct random draws (independent marginals, seeded)
    until the consumer stops or draws keep repeating (the caller checks it got the number it wanted)."""
    total = factorial_size(sizes)
    if sample is None:
        if total > MAX_FACTORIAL:
            raise StudyError(f"{what}: the full factorial has {total:,} personas (limit {MAX_FACTORIAL:,})",
                             hint="draw a subset with sample: N")
        yield from itertools.product(*[range(s) for s in sizes])
        return
    if sample > total:
        raise StudyError(f"{what}: cannot draw {sample} distinct personas from a factorial of {total}")
    rng = random.Random(seed)
    seen: set[tuple[int, ...]] = set()
    misses, limit = 0, 50 * sample + 1000
    while len(seen) < total and misses <= limit:
        combo = tuple(rng.choices(range(s), weights=w)[0] if w else rng.randrange(s)
                      for s, w in zip(sizes, weights))
        if combo in seen:
            misses += 1
            continue
        seen.add(combo)
        yield combo


def _too_few(what: str, got: int, wanted: int) -> StudyError:
    return StudyError(f"{what}: found only {got} distinct personas of {wanted}",
                      hint="the weights concentrate on few combinations, or the template ignores some tables; "
                           "lower sample or flatten the weights")


def generate_personas(gen: Generator, *, where: str = "personas.generate") -> list[Persona]:
    """Expand a generator: the full factorial or ``sample`` draws, duplicates (same text) dropped."""
    tables = list(gen.attributes.items())
    unknown = sorted(set(gen.weights) - set(gen.attributes))
    if unknown:
        raise StudyError(f"{where}.weights: no attribute table {unknown[0]!r}")
    if gen.weights and gen.sample is None:
        raise StudyError(f"{where}.weights: marginal weights need sample: N (the full factorial has no weights)")
    weights = [_weights(gen, name, entries) for name, entries in tables]
    sizes = [len(entries) for _, entries in tables]
    out: list[Persona] = []
    seen_text: set[str] = set()
    width = len(str(gen.sample or factorial_size(sizes)))
    for combo in _combinations(sizes, gen.sample, gen.seed, weights, where):
        values: dict[str, Scalar] = {}
        for (name, entries), i in zip(tables, combo):
            values.update(_entry_values(name, entries[i]))
        text = render_template(gen.template, values, f"{where}.template")
        if text in seen_text:
            continue
        seen_text.add(text)
        out.append(Persona(id=f"{gen.id_prefix}-{len(out) + 1:0{width}d}", text=text, attributes=values))
        if gen.sample is not None and len(out) == gen.sample:
            break
    if gen.sample is not None and len(out) < gen.sample:
        raise _too_few(where, len(out), gen.sample)
    return out


# ----------------------------------------------------------------------------------------------- shaping
@lru_cache(maxsize=8)
def load_markers(name: str = "big5") -> dict[str, Any]:
    """A marker list: ``{traits: {name: {code, scales, markers: [[low, high], ...]}}, source, licence}``."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else DATA_DIR / "markers" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (DATA_DIR / "markers").glob("*.yaml"))
        raise StudyError(f"no marker list {name!r}", field="personas.shaping.markers", hint=f"shipped: {known}")
    text, _ = read_text(path, StudyError)
    data = parse_yaml(text, str(path), StudyError)
    traits = data.get("traits") if isinstance(data, dict) else None
    if not isinstance(traits, dict) or not traits:
        raise StudyError("a marker list maps traits: {name: {code, markers: [[low, high], ...]}}", file=str(path))
    for trait, spec in traits.items():
        pairs = spec.get("markers") if isinstance(spec, dict) else None
        if not pairs or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise StudyError(f"trait {trait!r}: markers must be a list of [low, high] adjective pairs",
                             file=str(path))
    return {"traits": {str(k): dict(v) for k, v in traits.items()}, "source": data.get("source"),
            "licence": data.get("licence")}


def _trait_names(spec: Shaping, markers: dict[str, Any]) -> list[str]:
    traits = markers["traits"]
    if spec.traits == "all":
        return list(traits)
    by_code = {str(v.get("code", k)).lower(): k for k, v in traits.items()}
    out = []
    for t in spec.traits:
        name = t if t in traits else by_code.get(t.lower())
        if name is None:
            raise StudyError(f"no trait {t!r} in the marker list", field="personas.shaping.traits",
                             hint=f"known: {sorted(traits)} (codes {sorted(by_code)})")
        if name in out:
            raise StudyError(f"trait {t!r} is listed twice", field="personas.shaping.traits")
        out.append(name)
    return out


def level_words(level: int, levels: int) -> tuple[str, str]:
    """(side, qualifier) of a target level: side is ``low``, ``neutral`` or ``high``.

    >>> [level_words(i, 9) for i in (1, 4, 5, 6, 9)]
    [('low', 'extremely'), ('low', 'a bit'), ('neutral', ''), ('high', 'a bit'), ('high', 'extremely')]
    """
    if not 1 <= level <= levels:
        raise ValueError(f"level {level} outside 1..{levels}")
    k = levels // 2
    ladder = QUALIFIERS[k]
    if level <= k:
        return "low", ladder[level - 1]
    if levels % 2 and level == k + 1:
        return "neutral", ""
    return "high", ladder[levels - level]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_trait(pairs: list[list[str]], level: int, levels: int) -> str:
    """One sentence describing a trait at a level, e.g. ``I am very quiet, very reserved and very timid.``"""
    side, q = level_words(level, levels)
    if side == "neutral":
        words = [f"neither {lo} nor {hi}" for lo, hi in pairs]
    else:
        words = [f"{q} {pair[0] if side == 'low' else pair[1]}".strip() for pair in pairs]
    return f"I am {_join(words)}."


def shaping_personas(spec: Shaping, *, where: str = "personas.shaping") -> list[Persona]:
    """Trait-shaped personas (single-trait or concurrent design), each with ``target_<trait>`` attributes."""
    markers = load_markers(spec.markers)
    names = _trait_names(spec, markers)
    traits = markers["traits"]
    code = {t: str(traits[t].get("code", t)) for t in names}
    out: list[Persona] = []
    if spec.design == "single":
        if spec.sample is not None:
            raise StudyError("sample applies to the concurrent design only", field=f"{where}.sample")
        for t in names:
            for lvl in range(1, spec.levels + 1):
                desc = describe_trait(traits[t]["markers"], lvl, spec.levels)
                out.append(Persona(id=f"{spec.id_prefix}-{code[t]}{lvl}",
                                   text=render_template(spec.template, {"description": desc}, f"{where}.template"),
                                   attributes={"shaping_design": "single", "shaped_trait": t,
                                               f"target_{t}": lvl}))
        return out
    for combo in _combinations([spec.levels] * len(names), spec.sample, spec.seed, [None] * len(names), where):
        if spec.sample is not None and len(out) == spec.sample:
            break
        lv = [c + 1 for c in combo]
        desc = " ".join(describe_trait(traits[t]["markers"], lvl, spec.levels) for t, lvl in zip(names, lv))
        attrs: dict[str, Scalar] = {"shaping_design": "concurrent"}
        attrs.update({f"target_{t}": lvl for t, lvl in zip(names, lv)})
        out.append(Persona(id=f"{spec.id_prefix}-" + "".join(f"{code[t]}{lvl}" for t, lvl in zip(names, lv)),
                           text=render_template(spec.template, {"description": desc}, f"{where}.template"),
                           attributes=attrs))
    return out


def trait_scales(markers: str = "big5", instrument: str | None = None) -> dict[str, dict[str, str]]:
    """Trait -> {instrument id: scale id} from a marker list (which scale measures each shaped trait)."""
    traits = load_markers(markers)["traits"]
    out = {t: dict(v.get("scales") or {}) for t, v in traits.items()}
    if instrument is not None:
        return {t: {instrument: s[instrument]} for t, s in out.items() if instrument in s}
    return out


# ----------------------------------------------------------------------------------------------- bank
@lru_cache(maxsize=4)
def _bank(name: str) -> tuple[Persona, ...]:
    path = DATA_DIR / "banks" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (DATA_DIR / "banks").glob("*.yaml"))
        raise StudyError(f"no persona bank {name!r}", field="personas.bank", hint=f"shipped banks: {known}")
    text, _ = read_text(path, StudyError)
    data = parse_yaml(text, str(path), StudyError)
    gen = validate(Generator, data.get("generator"), str(path), StudyError, what="bank generator")
    return tuple(generate_personas(gen, where=f"bank {name}"))


def bank_personas(name: str = "core", sample: int | None = None, seed: int = 0) -> list[Persona]:
    """The personas of a shipped bank, or ``sample`` of them drawn with ``seed`` (kept in bank order)."""
    bank = list(_bank(name))
    if sample is None:
        return bank
    if sample > len(bank):
        raise StudyError(f"cannot sample {sample} personas from bank {name!r} of {len(bank)}",
                         field="personas.sample")
    picked = sorted(random.Random(seed).sample(range(len(bank)), sample))
    return [bank[i] for i in picked]


# ----------------------------------------------------------------------------------------------- resolve
def _as_list(v: Any) -> list:
    return [] if v is None else (list(v) if isinstance(v, list) else [v])


def resolve_personas(block: Personas, base_dir: str | Path | None = None,
                     inputs: dict[str, str] | None = None) -> list[Persona]:
    """All personas of a ``personas:`` block (without the 'none' persona), in source order; ids are unique.

    Relative file paths are relative to ``base_dir`` (the study file's folder); ``inputs`` collects the files
    read with their sha256."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    out: list[Persona] = list(block.items)
    for f in _as_list(block.file):
        p = Path(f)
        out.extend(read_persona_file(p if p.is_absolute() else base / p, inputs))
    if block.bank:
        out.extend(bank_personas(block.bank, block.sample, block.seed))
    elif block.sample is not None:
        raise StudyError("sample draws from a bank; set bank: core", field="personas.sample",
                         hint="a generator or shaping block takes its own sample")
    gens = _as_list(block.generate)
    for i, g in enumerate(gens):
        out.extend(generate_personas(g, where="personas.generate" + (f"[{i}]" if len(gens) > 1 else "")))
    shapes = _as_list(block.shaping)
    for i, s in enumerate(shapes):
        out.extend(shaping_personas(s, where="personas.shaping" + (f"[{i}]" if len(shapes) > 1 else "")))
    ids = [p.id for p in out]
    if "none" in ids:
        raise StudyError("persona id 'none' is reserved for 'no persona' (include_none)", field="personas")
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise StudyError(f"duplicate persona id(s) {dup[:5]}", field="personas",
                         hint="give each source its own id_prefix")
    return out


def materialise(block: Personas, base_dir: str | Path | None = None,
                inputs: dict[str, str] | None = None) -> Personas:
    """The block with every source expanded into ``items`` (the form a run's study hash covers)."""
    if not block.needs_resolving():
        return block
    return Personas(include_none=block.include_none, items=resolve_personas(block, base_dir, inputs))


def persona_table(personas: list[Persona]) -> list[dict[str, Any]]:
    """Records ``{persona, persona_text, persona_<attribute>...}`` for the run folder's persona table."""
    return [{"persona": p.id, "persona_text": p.text, **{f"persona_{k}": v for k, v in p.attributes.items()}}
            for p in personas]


__all__ = ["Generator", "MAX_FACTORIAL", "Persona", "Personas", "Shaping", "bank_personas", "describe_trait",
           "generate_personas", "indefinite", "level_words", "load_markers", "materialise", "persona_table",
           "read_persona_file", "render_template", "resolve_personas", "shaping_personas", "trait_scales"]
