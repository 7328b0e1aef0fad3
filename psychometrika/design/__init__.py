"""Stage 2 — study design: the study file and its factors (personas, paraphrases, option orders, seeds)."""

from .factors import expand_factors
from .orders import display_to_original, expand_orders, inverse, orders_for, to_original
from .study import Study, load_study, study_hash

__all__ = ["Study", "display_to_original", "expand_factors", "expand_orders", "inverse", "load_study", "orders_for",
           "study_hash", "to_original"]
