"""Safe YAML reading that remembers where every value came from.

Used for instrument and study files: the loader only builds plain Python types (no tags, no code:
``!!python/object`` is rejected), refuses duplicate keys, non-UTF-8 bytes and huge files, and maps
a pydantic validation error back to the file, line and column of the offending field.

Reading is bounded: only regular files are read (a device such as ``/dev/zero``, a FIFO or a folder is
refused before any byte is read), at most ``MAX_BYTES + 1`` bytes are read whatever size the file reports,
integers longer than ``MAX_INT_DIGITS`` digits are refused, and the node graph is measured after
composition and before construction: YAML aliases that would expand the document by more than
``MAX_ALIAS_NODES`` nodes or ``MAX_ALIAS_CHARS`` characters (an "alias bomb") are refused with the line of
the value that explodes.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import PsychometrikaError

MAX_BYTES = 5 * 1024 * 1024
#: nodes that YAML aliases may add to a document when it is expanded (a study uses a handful)
MAX_ALIAS_NODES = 100_000
#: scalar characters that YAML aliases may add when the document is expanded
MAX_ALIAS_CHARS = 10 * 1024 * 1024
#: longest integer literal accepted (a seed needs 19 digits)
MAX_INT_DIGITS = 100

E = TypeVar("E", bound=PsychometrikaError)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


class _MarkedDict(dict):
    """A dict that knows the position of each key's value (``marks``) and of itself (``mark``)."""

    marks: dict[Any, Mark]
    mark: Mark


class _MarkedList(list):
    marks: list[Mark]
    mark: Mark


_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when available (fast), same rules


class _Loader(_SafeBase):  # type: ignore[misc, valid-type]
    """Safe loader (no tags, no code) that records positions and rejects duplicate keys."""


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> _MarkedDict:
    loader.flatten_mapping(node)
    out = _MarkedDict()
    out.marks = {}
    out.raw = {}
    out.key_marks = {}
    out.mark = _mark(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value",
                                                    key_node.start_mark) from exc
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {out.marks[key].line})", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.marks[key] = _mark(value_node)
        out.key_marks[key] = _mark(key_node)
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG:
            out.raw[key] = value_node.value  # what was written, for YAML 1.1 coercions (no -> False, 012 -> 10)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode, deep: bool = False) -> _MarkedList:
    out = _MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    out.marks = [_mark(child) for child in node.value]
    out.mark = _mark(node)
    return out


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    digits = sum(ch.isdigit() for ch in str(node.value))
    if digits > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {digits} digits is too long (the limit is {MAX_INT_DIGITS})", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _check_expansion(root: yaml.Node, source: str, error: type[E]) -> None:
    """Refuse a node graph whose aliases expand it beyond the limits, before anything is constructed.

    The expanded size of each node is computed once (memoised by identity), so measuring costs time in
    proportion to the distinct nodes, however large the expansion would be."""
    sizes: dict[int, tuple[int, int]] = {}
    distinct_nodes = distinct_chars = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = (1, len(node.value))
            distinct_nodes += 1
            distinct_chars += len(node.value)
            continue
        kids = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if not children_done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
            continue
        n = 1 + sum(sizes[id(k)][0] for k in kids)
        c = sum(sizes[id(k)][1] for k in kids)
        sizes[id(node)] = (n, c)
        distinct_nodes += 1
        if n - distinct_nodes > MAX_ALIAS_NODES or c - distinct_chars > MAX_ALIAS_CHARS:
            raise error(f"YAML aliases expand this value to {n:,} nodes and {c:,} characters (the limit is "
                        f"{MAX_ALIAS_NODES:,} nodes added by aliases)", file=source,
                        line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                        hint="an 'alias bomb': write the values out instead of nesting &anchors and *aliases")


def _locate(data: Any, loc: tuple[Any, ...], at_key: bool = False) -> tuple[Mark | None, str]:
    """Follow a pydantic error location through the marked data; return the deepest mark and a field path.

    ``at_key``: point at the last key itself (an unknown field) rather than at its value."""
    mark: Mark | None = getattr(data, "mark", None)
    parts: list[str] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            marks = getattr(node, "key_marks", {}) if at_key and i == len(loc) - 1 else getattr(node, "marks", {})
            mark = marks.get(part, mark)
            node = node[part]
            parts.append(str(part))
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            mark = node.marks[part] if hasattr(node, "marks") else mark
            node = node[part]
            parts.append(f"[{part}]")
        elif isinstance(part, str) and isinstance(node, dict) and not _is_tag(part, node):
            parts.append(part)  # a missing key: name it, keep the mark of its parent
    path = ""
    for p in parts:
        path += p if p.startswith("[") else (("." if path else "") + p)
    return mark, path


def _walk(node: Any, path: str):
    if isinstance(node, dict):
        yield node, path
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def _find_named(data: Any, msg: str, mark: Mark | None, path: str) -> tuple[Mark | None, str]:
    """For messages such as "item 'x' refers to ...", find the mapping whose id is 'x'."""
    m = re.search(r"(?:item|scale|option|persona|model)(?:\(s\))?(?: ids?)? \[?'([^']+)'", msg)
    if not m:
        return mark, path
    hits = [(getattr(d, "mark", None), p) for d, p in _walk(data, "") if d.get("id") == m.group(1)]
    if not hits:
        return mark, path
    found_mark, found_path = hits[-1] if "duplicate" in msg else hits[0]
    return found_mark or mark, found_path


def _is_tag(part: str, node: dict) -> bool:
    """Parts of a pydantic location that are not keys: union tags ('likert'), validator names."""
    return node.get("type") == part or part.startswith(("function-", "union[", "literal[")) or part in {"str", "int"}


def _raw_at(data: Any, loc: tuple[Any, ...]) -> str | None:
    """The text written in the file for the value at ``loc`` when YAML turned it into a non-string."""
    node = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    if loc and isinstance(node, dict):
        return getattr(node, "raw", {}).get(loc[-1])
    return None


def _coercion_hint(err: dict, raw: str | None) -> str | None:
    """Explain YAML 1.1's surprises: ``no`` is false, ``012`` is 10 (octal), ``1e3`` a number, ``~`` null."""
    if raw is None or not err.get("type", "").startswith(("string_", "str")):
        return None
    value = err.get("input")
    shown = {True: "true", False: "false", None: "null"}.get(value, repr(value)) if not isinstance(value, str) \
        else value
    return (f"YAML read `{raw}` as {type(value).__name__} {shown}; "
            f"put it in quotes to keep it as text: \"{raw}\"")


def _hint_for(err: dict) -> str | None:
    typ = err.get("type", "")
    if typ == "extra_forbidden":
        return "unknown field: check its spelling against `psychometrika instruments schema`"
    if typ == "missing":
        return "this field is required"
    if typ in {"string_pattern_mismatch"}:
        return "ids use letters, digits, '_', '.', '-' only (no spaces, no slashes)"
    if typ.endswith("_type") or typ.endswith("_parsing"):
        return "wrong type for this field"
    if typ == "union_tag_invalid":
        return "response_format.type must be one of likert, multiple_choice, numeric, text"
    return None


def read_text(path: str | Path, error: type[E], limit: int | None = None) -> tuple[str, str]:
    """Read a UTF-8 text file; return (text, sha256). Raises ``error`` on any problem.

    Only a regular file is read (devices, FIFOs and folders are refused without reading), and never more than
    ``limit + 1`` bytes (default :data:`MAX_BYTES`), whatever size the file system reports."""
    p = Path(path)
    limit = MAX_BYTES if limit is None else limit
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error("file not found", file=str(p)) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", file=str(p)) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", file=str(p)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error("is a folder, not a file", file=str(p))
        if not stat.S_ISREG(mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
                    else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                    else "not a regular file")
            raise error(f"is {kind}, not a regular file; refusing to read it", file=str(p),
                        hint="name a YAML file saved on disk")
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", file=str(p)) from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > limit:
        size = max(len(raw), _reported_size(p))
        raise error(f"file is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB", file=str(p),
                    hint="an instrument or study file is a few hundred KB at most; is this the right file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", file=str(p), line=line, column=col,
                    hint="save the file as UTF-8") from None
    return text, hashlib.sha256(raw).hexdigest()


def _reported_size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def parse_yaml(text: str, source: str, error: type[E]) -> Any:
    """Parse YAML safely, keeping marks. Raises ``error`` with line/column on syntax problems."""
    if "\x00" in text:
        raise error("file contains NUL characters", file=source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source, error)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or str(exc)
        if "could not determine a constructor" in msg:
            tag = msg.split("tag:yaml.org,2002:")[-1].split("'")[0] if "yaml.org" in msg else "?"
            msg = f"YAML tags are not allowed (found !!{tag}); an instrument or study file holds plain data only"
        raise error(f"YAML error: {msg}", file=source,
                    line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                    hint="check indentation, quotes and colons near this line") from None
    except yaml.YAMLError as exc:
        raise error(f"YAML error: {exc}", file=source) from None
    except RecursionError:
        raise error("YAML nesting is too deep", file=source) from None
    finally:
        loader.dispose()


def validate(model: type[M], data: Any, source: str, error: type[E],
             what: str = "file") -> M:
    """Validate parsed data against a pydantic model; map the first error to file/line/field."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else ("list" if isinstance(data, list) else type(data).__name__)
        raise error(f"the {what} must be a YAML mapping of fields, got {kind}", file=source,
                    line=getattr(getattr(data, "mark", None), "line", 1))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc = tuple(first.get("loc", ()))
        mark, path = _locate(data, loc, at_key=first.get("type") == "extra_forbidden")
        if len(loc) <= 1:  # a whole-model rule: point at the entry the message names, if any
            mark, path = _find_named(data, first.get("msg", ""), mark, path)
        msg = first.get("msg", "invalid value")
        msg = msg.removeprefix("Value error, ")
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        hint = _coercion_hint(first, _raw_at(data, loc)) or _hint_for(first)
        raise error(msg + more, file=source, line=mark.line if mark else None,
                    column=mark.column if mark else None, field=path or None, hint=hint) from None


def load_model(path: str | Path, model: type[M], error: type[E], what: str = "file",
               prepare: Callable[[Any], Any] | None = None) -> tuple[M, str]:
    """Read, parse and validate a YAML file; return (model, sha256)."""
    text, digest = read_text(path, error)
    data = parse_yaml(text, str(path), error)
    if prepare is not None:
        data = prepare(data)
    return validate(model, data, str(path), error, what), digest
