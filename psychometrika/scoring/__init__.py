"""Stage 6 — scoring: keyed item scores, scale scores, SJT trait scores, wide tables for statistics."""

from .core import (RESPONDENT_COLUMNS, expected_value, item_scores, reverse_key, scale_scores, sjt_trait_scores,
                   to_wide)

__all__ = ["RESPONDENT_COLUMNS", "expected_value", "item_scores", "reverse_key", "scale_scores", "sjt_trait_scores",
           "to_wide"]
