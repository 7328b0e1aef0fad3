"""Statistics stage: psych-grade statistics validated against R (psych, lavaan, effectsize).

This package never imports inference code. Every public function or class of its submodules is
listed in the submodule's ``__all__`` and re-exported here (and at the top level of
``psychometrika``), so ``import psychometrika as pm; pm.alpha(df)`` works like ``library(psych)``.
"""

from __future__ import annotations

import importlib as _importlib
import pkgutil as _pkgutil

__all__: list[str] = []


def _collect() -> None:
    for info in _pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = _importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(mod, "__all__", ()):
            globals()[name] = getattr(mod, name)
            __all__.append(name)


_collect()
