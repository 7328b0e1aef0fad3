"""psychometrika — measure large language models the way psychologists measure people.

``import psychometrika as pm`` gives the R-like API:

* instruments: ``pm.load_instrument("bfi-44")``, ``pm.list_instruments()``;
* scoring: ``pm.scale_scores(responses, instruments)``, ``pm.to_wide(...)``;
* statistics (validated against R's psych, lavaan and effectsize): ``pm.alpha``, ``pm.omega``, ``pm.fa``,
  ``pm.cfa``, ``pm.cohen_d``, ``pm.cohen_kappa``, ``pm.mardia``, ... (see ``docs/statistics.md``);
* studies and runs: ``pm.load_study(path)``, ``pm.run_study(...)``, ``pm.read_run(folder)``;
* reports: ``pm.build_report(...)``, ``pm.compute_statistics(...)``.

Every public name is listed in ``__all__`` and ``dir(pm)`` (tab completion), but the modules behind them are
imported on first use, so ``import psychometrika`` stays fast and never imports torch. A name whose module needs
an optional third-party package that is not installed raises :class:`MissingDependencyError` naming the package
and the ``pip install`` command (not "no attribute").
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from pathlib import Path
from typing import Any

from .errors import (BackendError, DataError, InstrumentError, MissingDependencyError,  # noqa: F401
                     PsychometrikaError, StoreError, StudyError)

__version__ = "0.1.0"

#: module -> the public names it defines, imported lazily (``tests/stats/test_public_api.py`` keeps this in step
#: with each module's ``__all__``). Names are also read from the packages' literal ``__all__`` without importing
#: them (:func:`_module_names`), so a name added to a stage's ``__all__`` (or a new statistics module) appears
#: in ``dir(pm)`` without an edit here; this table is what is known where ``__all__`` is computed.
_LAZY_MODULES: dict[str, tuple[str, ...]] = {
    "psychometrika.instruments": (
        "Instrument", "list_instruments", "load_instrument",
    ),
    "psychometrika.scoring": (
        "CONDITION_COLUMNS", "RESPONDENT_COLUMNS", "behaviour_scores", "belief_behaviour",
        "belief_behaviour_pairs", "expected_value", "item_scores", "lexicon_scores", "mtmm_long",
        "rate_texts", "reverse_key", "scale_scores", "sjt_trait_scores", "text_trait_scores", "to_wide",
    ),
    "psychometrika.store": (
        "RunStore", "atomic_write_bytes", "export_run", "read_manifest", "read_run",
    ),
    "psychometrika.design": (
        "Study", "display_to_original", "expand_factors", "expand_orders", "inverse", "load_study",
        "orders_for", "study_hash", "to_original",
    ),
    "psychometrika.engine": (
        "RunReport", "request_key", "run_study",
    ),
    "psychometrika.report": (
        "ReportStatistics", "ReproduceResult", "build_report", "compute_statistics", "diff_statistics",
        "flatten_statistics", "load_run", "read_statistics", "reproduce", "write_statistics",
    ),
}

#: Optional third-party packages: import name -> (what it is for, pip command).
_OPTIONAL_DEPENDENCIES: dict[str, tuple[str, str]] = {
    "torch": ("local model inference", "pip install 'psychometrika[llm]'"),
    "transformers": ("local model inference", "pip install 'psychometrika[llm]'"),
    "accelerate": ("local model inference", "pip install 'psychometrika[llm]'"),
    "gguf": ("GGUF model files", "pip install 'psychometrika[llm]'"),
    "vllm": ("the vLLM backend", "pip install 'psychometrika[vllm]'"),
    "ray": ("distributed runs", "pip install 'psychometrika[ray]'"),
    "jupyter_book": ("building reports", "pip install 'psychometrika[report]'"),
    "jupytext": ("building reports", "pip install 'psychometrika[report]'"),
    "ipykernel": ("building reports", "pip install 'psychometrika[report]'"),
    "pyreadstat": ("SPSS/Stata export", "pip install 'psychometrika[report]'"),
    "playwright": ("browser checks of reports", "pip install 'psychometrika[report]'"),
}


def _literal_all(path: Path) -> tuple[str, ...] | None:
    """The literal ``__all__`` of a module file (``None`` when it is computed), read without importing it:
    only the ``__all__ = [...]`` statement is parsed."""
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^__all__\s*(?::[^=\n]*)?=\s*([\[(])", text, re.M)
    if match is None:
        return None
    depth, end = 0, None
    for k in range(match.start(1), len(text)):
        if text[k] in "[(":
            depth += 1
        elif text[k] in "])":
            depth -= 1
        if depth == 0:
            end = k + 1
            break
    try:
        value = ast.literal_eval(text[match.start(1):end]) if end else None
    except (ValueError, SyntaxError):
        return None
    return tuple(n for n in value if isinstance(n, str)) if value is not None else None


@functools.lru_cache(maxsize=None)
def _module_names(module: str) -> tuple[str, ...]:
    """Public names of a stage package, known without importing it: for ``psychometrika.stats`` the literal
    ``__all__`` of each public ``stats/*.py`` (what the package re-exports), otherwise the package's literal
    ``__all__``; the table above is used where ``__all__`` is computed (and for the instruments' selection)."""
    here = Path(__file__).parent
    static = _LAZY_MODULES.get(module, ())
    if module == "psychometrika.stats":
        names: list[str] = []
        for path in sorted((here / "stats").glob("*.py")):
            if not path.name.startswith("_"):
                names += _literal_all(path) or ()
        return tuple(dict.fromkeys(names))
    if module == "psychometrika.instruments":
        return static
    init = here.joinpath(*module.split(".")[1:], "__init__.py")
    found = _literal_all(init) if init.exists() else None
    return tuple(dict.fromkeys([*static, *(found or ())]))


#: Stage packages in the order their names are looked up (the first one that exports a name provides it).
_STAGES = ("psychometrika.instruments", "psychometrika.scoring", "psychometrika.stats", "psychometrika.store",
           "psychometrika.design", "psychometrika.engine", "psychometrika.report")


def _lazy_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for module in dict.fromkeys([*_STAGES, *_LAZY_MODULES]):
        for n in _module_names(module) if module in _STAGES else _LAZY_MODULES[module]:
            names.setdefault(n, module)
    return names


def _import(module: str, name: str) -> Any:
    """Import ``module`` for ``pm.<name>``; a missing third-party package becomes a
    :class:`MissingDependencyError` that names it and the pip command."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing == "psychometrika":
            raise
        purpose, command = _OPTIONAL_DEPENDENCIES.get(missing, ("it", f"pip install {missing}"))
        raise MissingDependencyError(
            f"pm.{name} needs the optional package {missing!r} (for {purpose}), which is not installed; "
            f"install it with: {command}", name=missing) from exc


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return _public_names()
    module = _lazy_names().get(name)
    if module is None:
        raise AttributeError(f"module 'psychometrika' has no attribute {name!r}")
    value = getattr(_import(module, name), name)
    globals()[name] = value          # cache: the next access does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(_public_names()) | {n for n in globals() if n.startswith("__")})


def _public_names() -> list[str]:
    return sorted({"BackendError", "DataError", "InstrumentError", "MissingDependencyError", "PsychometrikaError",
                   "StoreError", "StudyError", "__version__", *_lazy_names()})


# ``__all__`` is computed on first access (module ``__getattr__``), so that importing stays cheap.
