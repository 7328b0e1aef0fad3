"""psychometrika — measure large language models the way psychologists measure people.

``import psychometrika as pm`` gives the R-like API:

* instruments: ``pm.load_instrument("bfi-44")``, ``pm.list_instruments()``;
* scoring: ``pm.scale_scores(responses, instruments)``, ``pm.to_wide(...)``;
* statistics (validated against R's psych, lavaan and effectsize): ``pm.alpha``, ``pm.omega``, ``pm.fa``,
  ``pm.cfa``, ``pm.cohen_d``, ... (see ``docs/statistics.md``);
* runs: ``pm.read_run(folder)``.

Heavy modules (statistics, inference) are imported on first use, so ``import psychometrika`` stays fast and
never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import BackendError, DataError, InstrumentError, PsychometrikaError, StoreError, StudyError

__version__ = "0.1.0"

# name -> module that defines it (imported lazily)
_LAZY_MODULES = {
    "psychometrika.instruments": ("Instrument", "list_instruments", "load_instrument"),
    "psychometrika.scoring": ("CONDITION_COLUMNS", "RESPONDENT_COLUMNS", "expected_value", "item_scores", "reverse_key", "scale_scores",
                              "sjt_trait_scores", "to_wide", "behaviour_scores", "belief_behaviour", "belief_behaviour_pairs",
                              "lexicon_scores", "mtmm_long", "rate_texts", "text_trait_scores"),
}
_LAZY_OPTIONAL = ("psychometrika.store", "psychometrika.design", "psychometrika.engine", "psychometrika.report")


def _lazy_names() -> dict[str, str]:
    names = {n: m for m, ns in _LAZY_MODULES.items() for n in ns}
    return names


def __getattr__(name: str) -> Any:
    names = _lazy_names()
    if name in names:
        return getattr(importlib.import_module(names[name]), name)
    stats = importlib.import_module("psychometrika.stats")
    if name in getattr(stats, "__all__", ()):
        return getattr(stats, name)
    for mod in _LAZY_OPTIONAL:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError:
            continue
        if name in getattr(m, "__all__", ()):
            return getattr(m, name)
    raise AttributeError(f"module 'psychometrika' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_lazy_names()))


__all__ = ["BackendError", "DataError", "Instrument", "InstrumentError", "PsychometrikaError", "StoreError",
           "StudyError", "__version__", "list_instruments", "load_instrument"]
