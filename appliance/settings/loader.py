"""Read settings from the environment, a `.env` file and `NAME_FILE` secrets.

Precedence, highest first: the process environment, then the `.env` file
(`ENV_FILE` names another one). A secret may come from a file named by
`NAME_FILE`; within one source, giving both `NAME` and `NAME_FILE` is an error
because we could not tell which one the operator meant.

Every problem is collected and reported at once, one line per variable, so an
operator fixes a broken file in one pass instead of one restart per typo.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import get_args

from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError

from appliance.settings.fields import INLINE_COMMENT
from appliance.settings.model import Settings, env_name
from appliance.settings.secrets import find_placeholder_secrets

SECRET_FILE_LIMIT = 64 * 1024


class SettingsError(Exception):
    """The configuration is invalid; `problems` holds one line per variable."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    environ = os.environ if environ is None else environ
    if env_file is None:
        env_file = Path(environ.get("ENV_FILE", ".env"))

    problems: list[str] = []
    layers = [read_env_file(env_file, problems), dict(environ)]
    values = merge_layers(layers, problems)
    settings = validate(values, problems)
    if settings is not None:
        problems.extend(offsite_problems(settings))
        problems.extend(production_problems(settings))
    if problems:
        raise SettingsError(problems)
    return settings


def read_env_file(path: Path, problems: list[str]) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        raw = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"ENV_FILE: cannot read {path}: {exc}")
        return {}
    return {key: value for key, value in raw.items() if value is not None}


def merge_layers(
    layers: list[dict[str, str]], problems: list[str]
) -> dict[str, object]:
    values: dict[str, object] = {}
    for layer in layers:
        for name in secret_names():
            file_key = f"{name}_FILE"
            if name in layer and file_key in layer:
                problems.append(
                    f"{name}: set {name} or {file_key}, not both in the same source"
                )
            elif file_key in layer:
                secret = read_secret_file(name, Path(layer[file_key]), problems)
                if secret is not None:
                    values[name] = secret
            elif name in layer:
                values[name] = layer[name]
        for name, value in layer.items():
            if name in field_names() and name not in secret_names():
                values[name] = value
    return {
        name: strip_comment(name, value)
        for name, value in values.items()
        if not (value == "" and name in optional_names())
    }


def read_secret_file(name: str, path: Path, problems: list[str]) -> str | None:
    try:
        with path.open("rb") as handle:
            content = handle.read(SECRET_FILE_LIMIT + 1)
    except OSError as exc:
        problems.append(f"{name}_FILE: cannot read {path}: {exc.strerror}")
        return None
    if len(content) > SECRET_FILE_LIMIT:
        problems.append(f"{name}_FILE: {path} is larger than 64 KiB")
        return None
    try:
        return content.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        problems.append(f"{name}_FILE: {path} is not UTF-8 text")
        return None


def validate(values: dict[str, object], problems: list[str]) -> Settings | None:
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(describe_error(error))
        return None


def describe_error(error: Mapping) -> str:
    name = env_name(str(error["loc"][0])) if error["loc"] else "SETTINGS"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"expected one of {expected}"
    return f"{name}: {message}"


def offsite_problems(settings: Settings) -> list[str]:
    return [
        f"{name}: required for the offsite backup copy OSS_PROVIDER asks for; "
        "set it, or unset OSS_PROVIDER"
        for name in settings.missing_offsite_settings
    ]


def production_problems(settings: Settings) -> list[str]:
    if not settings.is_production:
        return []
    problems = [
        f"{name}: {reason}; set a real secret before running in production"
        for name, reason in find_placeholder_secrets(settings)
    ]
    if settings.debug:
        problems.append("DEBUG: must be false when ENVIRONMENT=production")
    return problems


@cache
def field_names() -> frozenset[str]:
    return frozenset(env_name(name) for name in Settings.model_fields)


@cache
def secret_names() -> frozenset[str]:
    return frozenset(
        env_name(name)
        for name, field in Settings.model_fields.items()
        if SecretStr in get_args(field.annotation)
    )


@cache
def optional_names() -> frozenset[str]:
    """Settings whose default is unset: an empty value means unset too."""
    return frozenset(
        env_name(name)
        for name, field in Settings.model_fields.items()
        if field.default is None
    )


@cache
def commentless_names() -> frozenset[str]:
    text_types = (str, SecretStr, Path)
    names = set()
    for name, field in Settings.model_fields.items():
        kinds = get_args(field.annotation) or (field.annotation,)
        base_kinds = {getattr(kind, "__origin__", kind) for kind in kinds}
        if not any(kind in text_types for kind in base_kinds):
            names.add(env_name(name))
    return frozenset(names)


def strip_comment(name: str, value: object) -> object:
    if isinstance(value, str) and name in commentless_names():
        return INLINE_COMMENT.sub("", value)
    return value
