"""The stages of psychometrika import only from earlier stages, and no module imports another's private names.

The import graph is read from the source (the AST of every module, imports inside functions included), not
by importing anything, so an optional dependency or a lazy import cannot hide an edge.

Stage order (a module may import from its own stage and from earlier ones)::

    errors, yamlio, secrets → instruments → design → plan → answers, models → backends → store → engine → scoring → stats
    → report (and the package facade ``psychometrika``, which serves every stage's public names)
    → tools, serve (the test server) → cli

``answers`` (turning a backend result into a response row) sits after ``plan`` and before ``backends``: the
engine and scoring both use it and it needs nothing from backends. ``models`` (locating and converting model
files) ranks just below ``backends``, which load what it prepares. The pipeline runs the engine before the
store, but the store is the library the engine writes with (it imports no stage), so it ranks below the engine.
Further rules: ``stats`` imports nothing from backends or the engine (nor from the report, a later stage);
``backends`` nothing from instruments or design; ``scoring`` nothing from backends (a rater model's ratings
are a derived study the engine runs, :mod:`psychometrika.engine.rating`).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "psychometrika"

#: rank of each stage (the first component after ``psychometrika``; "" is the package facade ``__init__``)
RANK = {"errors": 0, "yamlio": 0, "secrets": 0, "instruments": 1, "design": 2, "plan": 3, "answers": 4, "models": 4,
        "backends": 5,
        "store": 6, "engine": 7, "scoring": 8, "stats": 9, "report": 10, "": 10, "tools": 11, "serve": 11,
        "cli": 12, "__main__": 12}
#: stages a stage must not import even though they rank below it
FORBIDDEN = {"stats": {"backends", "engine"}, "backends": {"instruments", "design"},
             "scoring": {"backends"}}  # scoring reads response rows; a rater model is run by the engine

#: Deprecated alias modules that re-export a moved module from its new home: they point forward by design, may
#: re-export its private names for old callers, and go away with the alias.
DEPRECATED_ALIASES = {
    "psychometrika.backends.serve",     # -> psychometrika.serve (issue 19, integrity)
    "psychometrika.plan.parsing",       # -> psychometrika.answers.parsing (issue 21, arch-engine)
    "psychometrika.backends.bench",     # -> psychometrika.tools.bench (issue 21, arch-report)
    "psychometrika.backends.convert",   # -> psychometrika.models.convert (issue 21)
    "psychometrika.tools.convert",      # -> psychometrika.models.convert (issue 21)
    "psychometrika.backends.embedded",  # -> psychometrika.models.embedded (issue 21)
}

#: Known violations still to be removed, each (importing module, imported module): owner. The coordinator
#: shrinks this list as the owners' fixes land; a fixed entry makes the test fail until it is removed here.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        parts = f.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def _imports(name: str, path: Path) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) of every psychometrika import in a module."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "psychometrika"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "psychometrika":
                out += [(target, a.name, node.lineno) for a in node.names]
    return out


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _edges() -> list[tuple[str, str, str, int]]:
    """(module, imported module, imported name, line); ``from pkg import mod`` resolves to ``pkg.mod``."""
    mods = _modules()
    out = []
    for name, path in mods.items():
        for target, what, line in _imports(name, path):
            full = f"{target}.{what}" if what and f"{target}.{what}" in mods else target
            out.append((name, full, what if full == target else "", line))
    return out


def _stage_violations() -> set[tuple[str, str]]:
    bad = set()
    for src, dst, _, _ in _edges():
        if src in DEPRECATED_ALIASES:
            continue
        a, b = _stage(src), _stage(dst)
        if a == b or b == "__future__":
            continue
        if RANK[b] > RANK[a] or b in FORBIDDEN.get(a, set()):
            bad.add((src, dst))
    return bad


def test_every_stage_of_the_package_has_a_rank():
    assert {_stage(m) for m in _modules()} <= set(RANK)


def test_stages_import_only_earlier_stages():
    found = _stage_violations()
    new = sorted(found - set(KNOWN_VIOLATIONS))
    assert not new, "imports against the stage order (see the module docstring):\n" + "\n".join(
        f"  {s} imports {d}" for s, d in new)


def test_known_violations_are_still_real():
    """A fixed violation must leave the allow-list, so that the list only shrinks."""
    fixed = sorted(set(KNOWN_VIOLATIONS) - _stage_violations())
    assert not fixed, f"no longer violations, remove them from KNOWN_VIOLATIONS: {fixed}"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_another_modules_private_names():
    bad = []
    for src, dst, what, line in _edges():
        if dst == src or src in DEPRECATED_ALIASES:
            continue
        if _private(what) or any(_private(p) for p in dst.split(".")[1:]):
            bad.append(f"  {src}:{line} imports {dst}{'.' + what if what else ''}")
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def test_no_module_reads_a_private_attribute_of_an_imported_module():
    """``from . import run as _run; _run._batches(...)`` is a private import in disguise."""
    mods = _modules()
    bad = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for target, what, _ in _imports(name, path):
            if what and f"{target}.{what}" in mods:
                aliases[what] = f"{target}.{what}"
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    if a.asname and a.name in aliases:
                        aliases[a.asname] = aliases[a.name]
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and _private(node.attr) and aliases[node.value.id] != name):
                bad.append(f"  {name}:{node.lineno} reads {aliases[node.value.id]}.{node.attr}")
    assert not bad, "private attributes of other modules read:\n" + "\n".join(bad)


def test_the_graph_walker_sees_function_level_and_relative_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from ..engine.run import run_study\n    from . import core\n")
    found = _imports("psychometrika.scoring.m", src)
    assert ("psychometrika.engine.run", "run_study", 2) in found and ("psychometrika.scoring", "core", 3) in found
