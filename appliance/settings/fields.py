"""Value types shared by the settings model.

Environment variables arrive as strings; these annotated types turn them into
the values the rest of the appliance uses and say, in their error messages,
which form is accepted.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator

# `docker run --env-file` keeps `50485760  # 50MB` as the whole value; compose
# and python-dotenv strip the comment. Strip it ourselves, but only for values
# that can never contain " #" legitimately (numbers, flags, choices).
INLINE_COMMENT = re.compile(r"\s+#.*$")
WHOLE_NUMBER = re.compile(r"[0-9]+")
BACKUP_INTERVAL_FORMS = (
    "expected a whole number of hours, or a five-field cron expression "
    "in UTC such as '30 3 * * *'"
)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def parse_bool(value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("expected true or false")
    return value


def split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return value.rstrip("/")


def check_redis_url(value: str) -> str:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("expected a redis://, rediss:// or unix:// URL")
    return value


def parse_backup_interval(value: object) -> int | str:
    """Hours as an int ("24"), or a cron expression as a str ("30 3 * * *")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return check_hours(value)
    if not isinstance(value, str):
        raise ValueError(BACKUP_INTERVAL_FORMS)
    # Read with the comment stripped like a number's: cron has no "#" either.
    text = INLINE_COMMENT.sub("", value).strip()
    if WHOLE_NUMBER.fullmatch(text):
        return check_hours(int(text))
    if len(text.split()) < 2:
        raise ValueError(BACKUP_INTERVAL_FORMS)
    from appliance.scheduler.crontab import CrontabError, crontab_trigger

    try:
        crontab_trigger(text)
    except CrontabError as exc:
        raise ValueError(f"not a cron expression we can use: {exc}") from None
    return " ".join(text.split())


def check_hours(hours: int) -> int:
    if hours < 1:
        raise ValueError(BACKUP_INTERVAL_FORMS)
    return hours


Flag = Annotated[bool, BeforeValidator(parse_bool)]
CommaList = Annotated[list[str], BeforeValidator(split_commas)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]
RedisUrl = Annotated[str, AfterValidator(check_redis_url)]
Port = Annotated[int, Field(ge=1, le=65535)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(gt=0)]
HoursOrCron = Annotated[int | str, PlainValidator(parse_backup_interval)]
