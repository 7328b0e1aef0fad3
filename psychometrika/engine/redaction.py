"""Secret redaction of backend settings before they are written to a run's manifest (the rule lives in
:mod:`psychometrika.secrets`; this name is kept for older imports)."""

from __future__ import annotations

from typing import Any

from ..secrets import SECRET_WORDS, redact_settings


def redact(settings: dict[str, Any]) -> dict[str, Any]:
    """Backend settings for the manifest, with any credential-looking value replaced by ``***``
    (names such as ``api_key_env`` that only *name* a variable are kept); see
    :func:`psychometrika.secrets.redact_settings`."""
    return redact_settings(settings)


__all__ = ["SECRET_WORDS", "redact"]
