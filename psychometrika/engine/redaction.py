"""Secret redaction of backend settings before they are written to a run's manifest."""

from __future__ import annotations

from typing import Any

#: words that make a setting's name look like a credential (``api_key``, ``auth_token``, ...)
SECRET_WORDS = ("key", "token", "secret", "password", "authorization")


def redact(settings: dict[str, Any]) -> dict[str, Any]:
    """Backend settings for the manifest, with any credential-looking value replaced by ``***``
    (names such as ``api_key_env`` that only *name* a variable are kept)."""
    out: dict[str, Any] = {}
    for k, v in settings.items():
        secret = any(w in k.lower() for w in SECRET_WORDS) and not k.lower().endswith("_env")
        out[k] = "***" if secret else (redact(v) if isinstance(v, dict) else v)
    return out


__all__ = ["SECRET_WORDS", "redact"]
