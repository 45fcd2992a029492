"""Keep secrets out of every log line, whatever logger or formatter wrote it.

Redaction works on the finished line rather than on the record: a secret can
hide in the message, its arguments, an `extra` field or a traceback, and only
the rendered text shows all of them at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from pydantic import SecretStr

from appliance.settings import Settings

MASK = "[REDACTED]"

# Replacing every occurrence of a two-letter "secret" would garble the whole
# log and protect nothing; such values are too short to be worth hiding.
MIN_SECRET_LENGTH = 4

# Each pattern runs only when one of its words is in the line: scanning every
# line with every pattern cost more than formatting it.
CREDENTIAL_PATTERNS = (
    (("bearer",), re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+")),
    (("basic",), re.compile(r"(?i)(\bbasic\s+)[A-Za-z0-9+/=]{8,}")),
    (
        ("token=", "key=", "password="),
        re.compile(
            r"(?i)(\b(?:access_|refresh_|api_|id_)?token=|\bapi_?key=|\bpassword=)"
            r"[^&\s\"'<>]+"
        ),
    ),
)


class SecretRedactor:
    """Replaces known secret values and credential-shaped text with a mask."""

    def __init__(self, secrets: Iterable[str] = ()):
        variants = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                variants.add(secret)
                # In JSON lines the value appears escaped ("a\"b", "\u00e9").
                variants.add(json.dumps(secret)[1:-1])
                variants.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(variants, key=len, reverse=True)
        self.secret_pattern = (
            re.compile("|".join(re.escape(value) for value in ordered))
            if ordered
            else None
        )

    def redact(self, text: str) -> str:
        if self.secret_pattern is not None:
            text = self.secret_pattern.sub(MASK, text)
        lowered = text.lower()
        for words, pattern in CREDENTIAL_PATTERNS:
            if any(word in lowered for word in words):
                text = pattern.sub(rf"\g<1>{MASK}", text)
        return text


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold: each SecretStr field that is set."""
    values = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    return values


def redactor_for(settings: Settings) -> SecretRedactor:
    return SecretRedactor(secret_values(settings))
