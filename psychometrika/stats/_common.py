"""Deprecated alias of :mod:`psychometrika.stats.common` (the shared helpers are public there)."""

from psychometrika.stats.common import (  # noqa: F401
    CorrInput, PsychometrikaWarning, StatsResult, Summary, as_corr_input, as_item_frame, check_correlation_matrix,
    constant_columns, cor_smooth, cov2cor, fmt_frame, is_correlation_matrix, pairwise_cor, pairwise_count,
    pairwise_cov, pinv, r_quantile, smc, sym_eigen, warn,
)

__all__: list[str] = []
