"""Secrets: the one place that decides what is a credential and keeps it out of every file and message.

Rules (used by the study validation, the backends, the manifest, the stored study copy, error texts and
the report):

* a setting is *secret-like* when one word of its name is ``key``, ``token``, ``secret``, ``password``,
  ``pass``, ``credential``, ``authorization`` ... (see :data:`SECRET_WORDS`; ``hf_token``, ``apiKey``,
  ``MY_LLM_PASS``, but not ``max_tokens``), unless it only *names* an environment variable (ends in
  ``_env``, such as ``api_key_env``). Its value is never written: it becomes ``***``;
* the value of ``api_key_env`` must be the *name* of an environment variable (``MY_LLM_PASS``); a key
  pasted there (``sk-...``) is refused with a located error;
* redaction is by *value* too: the values of the variables named by ``api_key_env`` (whatever their
  names), of variables whose names are secret-like, and of every registered secret are replaced by
  ``***`` in any text (server error bodies, logs, manifests, study copies, report files).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any, Iterable

#: what a redacted value is replaced by
MASK = "***"
#: name parts (words of a snake_case, kebab-case or camelCase name) that make a setting or environment
#: variable secret-like: ``api_key``, ``hf_token``, ``apiKey``, ``MY_LLM_PASS``; not ``max_tokens``
SECRET_WORDS = ("key", "apikey", "token", "secret", "password", "passwd", "pass", "credential",
                "credentials", "authorization")
#: names that contain a secret word but hold identifiers, never credentials
NOT_SECRET = frozenset({"cell_key", "request_key", "sort_key", "cache_key", "prefix_key"})
#: the default environment variable of the openai backend
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
#: secrets shorter than this are not searched for in texts (too many false hits; a real key is longer)
MIN_SECRET_LEN = 6

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_registered: set[str] = set()
_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    """True when a setting (or environment variable) called ``name`` holds a credential."""
    text = str(name)
    low = text.lower()
    if low.endswith("_env") or low in NOT_SECRET:
        return False
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).lower()
    return any(w in SECRET_WORDS for w in re.split(r"[^a-z0-9]+", words) if w)


def env_name_problem(value: Any) -> str | None:
    """Why ``value`` cannot be the value of ``api_key_env`` (None when it is a plausible variable name)."""
    if not isinstance(value, str):
        return f"api_key_env names an environment variable; got {type(value).__name__}"
    if not _ENV_NAME.fullmatch(value):
        return ("api_key_env must be the NAME of an environment variable (letters, digits and '_', such as "
                "MY_LLM_KEY), not the key itself; the value was not stored")
    lower, upper, digits = (any(c.islower() for c in value), any(c.isupper() for c in value),
                            any(c.isdigit() for c in value))
    if len(value) >= 20 and lower and digits and "_" not in value or len(value) >= 32 and lower and upper and digits:
        return ("api_key_env looks like a key, not the name of an environment variable; put the key in a "
                "variable (export MY_LLM_KEY=...) and write api_key_env: MY_LLM_KEY; the value was not stored")
    return None


def register(value: str | None) -> None:
    """Remember a secret value for this process, so that :func:`redact_text` removes it everywhere."""
    if value and len(value) >= MIN_SECRET_LEN:
        with _lock:
            _registered.add(value)


def env_names(settings: Any) -> list[str]:
    """Every ``*_env`` value found in (nested) settings: the variables that hold credentials."""
    out: list[str] = []
    for k, v in _items(settings):
        if str(k).lower().endswith("_env") and isinstance(v, str) and _ENV_NAME.fullmatch(v):
            out.append(v)
    return out


def secret_values(settings: Any = None, environ: dict[str, str] | None = None) -> set[str]:
    """The secret values to look for: registered ones, the variables named by ``*_env`` settings (and the
    openai default), variables with secret-like names, and literal values of secret-like settings."""
    env = os.environ if environ is None else environ
    names = set(env_names(settings)) | {DEFAULT_KEY_ENV}
    vals = {env.get(n, "") for n in names}
    vals |= {v for n, v in env.items() if is_secret_name(n)}
    vals |= {str(v) for k, v in _items(settings) if is_secret_name(str(k)) and isinstance(v, (str, int))}
    with _lock:
        vals |= _registered
    return {v for v in vals if v and len(v) >= MIN_SECRET_LEN and v != MASK}


def redact_text(text: str, settings: Any = None, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret value (see :func:`secret_values`) and bearer tokens masked."""
    if not text:
        return text
    for v in sorted(secret_values(settings) | {e for e in extra if e and len(e) >= MIN_SECRET_LEN},
                    key=len, reverse=True):
        if v in text:
            text = text.replace(v, MASK)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


def redact_settings(obj: Any) -> Any:
    """A deep copy of settings (or any JSON-like data) with the values of secret-like names masked."""
    if isinstance(obj, dict):
        return {k: (MASK if is_secret_name(str(k)) and v not in (None, "") and not isinstance(v, (dict, list))
                    else redact_settings(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_settings(v) for v in obj]
    return obj


def redact_data(obj: Any, secrets: set[str] | None = None) -> Any:
    """JSON-like data with secret-like settings masked and every known secret value masked in its strings
    (for manifests: every section, the study copy included)."""
    values = secret_values(obj) if secrets is None else secrets
    obj = redact_settings(obj)
    return _mask_strings(obj, sorted(values, key=len, reverse=True))


def _mask_strings(obj: Any, values: list[str]) -> Any:
    if isinstance(obj, str):
        for v in values:
            if v in obj:
                obj = obj.replace(v, MASK)
        return obj
    if isinstance(obj, dict):
        return {_mask_strings(k, values) if isinstance(k, str) else k: _mask_strings(v, values)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask_strings(v, values) for v in obj]
    return obj


def redact_yaml_text(text: str) -> str:
    """A study file's text with the values of secret-like settings and known secret values masked (the copy
    stored in the run folder). The text is parsed only to learn the values; its layout is kept."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except Exception:  # noqa: BLE001 - unparsable text: mask what the environment tells us only
        data = None
    literal = {str(v) for k, v in _items(data) if is_secret_name(str(k)) and isinstance(v, (str, int))
               and str(v) != MASK}
    out = redact_text(text, data, extra=literal)
    for v in sorted(literal, key=len, reverse=True):  # short literal values too, where they stand as values
        out = re.sub(r"(:\s*['\"]?)" + re.escape(v) + r"(?=['\"]?\s*(?:[,}\]#\n]|$))", r"\g<1>" + MASK, out)
    return out


def _items(obj: Any) -> Iterable[tuple[Any, Any]]:
    """Every (key, value) pair in nested dicts and lists."""
    stack = [obj]
    seen = 0
    while stack and seen < 1_000_000:
        o = stack.pop()
        seen += 1
        if isinstance(o, dict):
            for k, v in o.items():
                yield k, v
                if isinstance(v, (dict, list, tuple)):
                    stack.append(v)
        elif isinstance(o, (list, tuple)):
            stack.extend(v for v in o if isinstance(v, (dict, list, tuple)))


__all__ = ["MASK", "SECRET_WORDS", "env_name_problem", "env_names", "is_secret_name", "redact_data",
           "redact_settings", "redact_text", "redact_yaml_text", "register", "secret_values"]
