"""Recognise secrets that were never changed from an example or a default."""

from __future__ import annotations

from collections.abc import Iterator

from appliance.settings.model import Settings

MIN_SIGNING_KEY_LENGTH = 32
PLACEHOLDER_MARKERS = (
    "your-",
    "your_",
    "change-me",
    "changeme",
    "change_me",
    "placeholder",
    "example",
    "secret-key",
    "replace-me",
)
WELL_KNOWN_VALUES = frozenset(
    {"secret", "password", "postgres", "admin", "redis", "123456", "default"}
)


def looks_like_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in WELL_KNOWN_VALUES:
        return True
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def secrets_in_use(settings: Settings) -> Iterator[tuple[str, object]]:
    """Yield (variable, secret) for every secret this configuration relies on."""
    yield "SECRET_KEY", settings.secret_key
    yield "JWT_SECRET_KEY", settings.jwt_secret_key
    if settings.database_type == "postgresql":
        yield "POSTGRES_PASSWORD", settings.postgres_password
    if settings.cache_type == "redis" or settings.redis_password is not None:
        yield "REDIS_PASSWORD", settings.redis_password
    if settings.grafana_password is not None:
        yield "GRAFANA_PASSWORD", settings.grafana_password
    if settings.admin_password is not None:
        yield "ADMIN_PASSWORD", settings.admin_password
    # Unset ones are reported by the loader's offsite check, not twice here.
    if settings.oss_provider is not None:
        for name, key in (
            ("OSS_ACCESS_KEY", settings.oss_access_key),
            ("OSS_SECRET_KEY", settings.oss_secret_key),
        ):
            if key is not None:
                yield name, key


def find_placeholder_secrets(settings: Settings) -> Iterator[tuple[str, str]]:
    for name, secret in secrets_in_use(settings):
        if secret is None or not secret.get_secret_value().strip():
            yield name, "is not set"
            continue
        value = secret.get_secret_value()
        if looks_like_placeholder(value):
            yield name, "still holds a placeholder or well-known value"
        elif name in ("SECRET_KEY", "JWT_SECRET_KEY") and (
            len(value) < MIN_SIGNING_KEY_LENGTH
        ):
            yield name, f"is shorter than {MIN_SIGNING_KEY_LENGTH} characters"
