"""The report's sections, one module each; each ``compute(ctx)`` adds its tables and notes to ``ctx.stats``.

========================  ==================================================================================
``study``                 :mod:`.study` — manifest, instruments, models, design factors, cell counts, versions
``quality``               :mod:`.quality` — statuses, answer positions, response quality, order/paraphrase
                          sensitivity
``reliability``           :mod:`.reliability` — α (Feldt CI), ω, split-half, item statistics, human norms
``factor``                :mod:`.factor` — parallel analysis, EFA, congruence, CFA
``behaviour``             :mod:`.behaviour` — questionnaire versus behaviour, MTMM
``effects``               :mod:`.effects` — group comparisons between personas, conditions, models
``gstudy``                :mod:`.gstudy` — variance components by facet
``comparability``         :mod:`.comparability` — invariance, DIF, response styles, D-study plan
``personas``              :mod:`.personas` — persona population, shaping validity (target level vs score)
========================  ==================================================================================

The sections call :mod:`psychometrika.stats` and :mod:`psychometrika.scoring` directly; what they share is in
:mod:`.context`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..results import SECTIONS
from . import behaviour, comparability, effects, factor, gstudy, personas, quality, reliability, study
from .context import Context

#: Section name -> its ``compute(ctx)``, in book order (:data:`~psychometrika.report.results.SECTIONS`).
COMPUTE: dict[str, Callable[[Context], None]] = {
    "study": study.compute, "quality": quality.compute, "reliability": reliability.compute,
    "factor": factor.compute, "behaviour": behaviour.compute, "effects": effects.compute,
    "gstudy": gstudy.compute, "comparability": comparability.compute, "personas": personas.compute}

__all__ = ["COMPUTE", "Context", "SECTIONS"]
