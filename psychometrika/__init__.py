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

import importlib
from typing import Any

from .errors import (BackendError, DataError, InstrumentError, MissingDependencyError, PsychometrikaError,
                     StoreError, StudyError)

__version__ = "0.1.0"

#: module -> the public names it defines, imported lazily (``tests/test_public_api.py`` keeps this in step with
#: each module's ``__all__``). When two modules export a name, the first one listed here provides it.
_LAZY_MODULES: dict[str, tuple[str, ...]] = {
    "psychometrika.instruments": (
        "Instrument", "list_instruments", "load_instrument",
    ),
    "psychometrika.scoring": (
        "CONDITION_COLUMNS", "RESPONDENT_COLUMNS", "behaviour_scores", "belief_behaviour",
        "belief_behaviour_pairs", "expected_value", "item_scores", "lexicon_scores", "mtmm_long",
        "rate_texts", "reverse_key", "scale_scores", "sjt_trait_scores", "text_trait_scores", "to_wide",
    ),
    "psychometrika.stats": (
        "AlphaResult", "BartlettResult", "CFAResult", "CohenKappaResult", "ConfidenceInterval", "DescribeResult",
        "OrdinalLogitResult",
        "FactorResult", "GStudyResult", "GuttmanResult", "IRTResult", "InvarianceResult", "KMOResult",
        "LEVELS", "MTMMResult", "MardiaResult", "ModelTerm", "OmegaResult", "ParallelResult",
        "PolychoricResult", "ScoreItemsResult", "SplitHalfResult", "alpha", "alpha_ci", "bartlett",
        "cfa", "cohen_d", "cohen_h", "cohen_kappa", "compare_groups", "compare_norms", "congruence",
        "cor_ci", "d_study", "d_study_plan", "describe", "dif", "eta_squared",
        "expected_vs_argmax_reliability", "fa", "fa_parallel", "g_study", "glass_delta", "grm",
        "guttman", "hedges_g", "icc", "icc_wide", "invariance", "kmo", "loading_congruence", "mardia",
        "mtmm", "ncp_f_ci", "ncp_t_ci", "omega", "omega_squared", "order_sensitivity", "ordinal_alpha",
        "ordinal_logit", "ordinal_omega", "paraphrase_sensitivity", "parse_lavaan", "polychoric",
        "positional_bias", "response_quality", "response_styles", "reverse_items", "score_items",
        "split_half", "twopl",
        "SCREENING_LEVELS", "ScreeningRules", "exclude_invalid", "screen",
        "GUARD_RULES", "GuardResult", "InsufficientInformationWarning", "PSEUDO_REPLICATION_CAVEAT", "cor_table",
        "guard", "holm",
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


def _lazy_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for module, exported in _LAZY_MODULES.items():
        for n in exported:
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
    module = _lazy_names().get(name)
    if module is None:
        raise AttributeError(f"module 'psychometrika' has no attribute {name!r}")
    value = getattr(_import(module, name), name)
    globals()[name] = value          # cache: the next access does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_lazy_names()))


__all__ = sorted({"BackendError", "DataError", "InstrumentError", "MissingDependencyError", "PsychometrikaError",
                  "StoreError", "StudyError", "__version__", *_lazy_names()})
