"""Stage 6 — scoring: keyed item scores, scale scores, SJT trait scores, wide tables for statistics."""

from .core import (RESPONDENT_COLUMNS, expected_value, item_scores, reverse_key, scale_scores, sjt_trait_scores,
                   to_wide)
from .behaviour import (CONDITION_COLUMNS, behaviour_scores, belief_behaviour, belief_behaviour_pairs, lexicon_scores, mtmm_long,
                        rate_texts, text_trait_scores)

__all__ = ["CONDITION_COLUMNS", "RESPONDENT_COLUMNS", "expected_value", "item_scores", "reverse_key", "scale_scores", "sjt_trait_scores",
           "to_wide", "behaviour_scores", "belief_behaviour", "belief_behaviour_pairs", "lexicon_scores", "mtmm_long",
           "rate_texts", "text_trait_scores"]
