"""Property-based fuzzing: mutated instrument files never crash the loader — only InstrumentError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psychometrika.errors import InstrumentError
from psychometrika.instruments import builtin_dir, load_instrument_file

FILES = sorted(builtin_dir().glob("*.yaml")) + [Path(__file__).resolve().parent.parent / "data" / "mini.yaml"]
TEXTS = [f.read_bytes() for f in FILES]
_TMP = Path(tempfile.mkdtemp(prefix="psy-fuzz-"))
_SNIPPETS = [b":", b"- ", b"  ", b"\t", b"{", b"}", b"[", b"]", b"'", b'"', b"!!python/object:os.system ", b"&a ",
             b"*a", b"\xff\xfe", b"\x00", b"null", b"-1", b"1e999", b"~", b"keyed: 2", b"id: ../../x", b"<script>",
             b"{{ }}", b"\n", b"#", b"? ", b"%YAML 1.1\n", b"---\n", b"...\n"]


def _load(data: bytes) -> None:
    p = _TMP / "m.yaml"
    p.write_bytes(data)
    try:
        load_instrument_file(p)
    except InstrumentError:
        pass


@st.composite
def byte_mutations(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dupline", "dropline", "truncate", "indent"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "insert":
            text = text[:pos] + draw(st.sampled_from(_SNIPPETS) | st.binary(max_size=6)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)):]
        elif op == "replace":
            text = text[:pos] + draw(st.binary(min_size=1, max_size=3)) + text[pos + 1:]
        else:
            lines = text.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "dupline":
                lines.insert(i, lines[i])
            elif op == "dropline":
                del lines[i]
            elif op == "truncate":
                lines = lines[:i]
            else:
                lines[i] = b" " * draw(st.integers(1, 3)) + lines[i]
            text = b"\n".join(lines)
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(byte_mutations())
def test_byte_level_mutations_never_crash(data):
    _load(data)


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=8),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@st.composite
def structural_mutations(draw):
    data = yaml.safe_load(draw(st.sampled_from(TEXTS)).decode())
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["set", "delete", "duplicate"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(parent[path[-1]])
        else:
            parent[path[-1]] = draw(_VALUES)
    return yaml.safe_dump(data, allow_unicode=True).encode()


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(structural_mutations())
def test_structural_mutations_never_crash(data):
    _load(data)
