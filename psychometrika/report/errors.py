"""Errors of the report stage."""

from __future__ import annotations

from ..errors import PsychometrikaError


class ReportError(PsychometrikaError):
    """A report cannot be built or a run cannot be reproduced as asked."""


__all__ = ["ReportError"]
