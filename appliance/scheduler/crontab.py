"""Five-field crontab expressions, read the way cron reads them, in UTC.

APScheduler 3 parses such an expression almost as cron does, with two
differences that would move a backup to another day:

- its weekday numbers start with Monday = 0, where cron's start with
  Sunday = 0 (and cron takes 7 for Sunday too);
- when both the day of the month and the weekday are restricted, cron runs
  on days matching either, APScheduler only on days matching both.

So the weekday field is rewritten as day names before APScheduler sees it,
and an expression restricting both day fields becomes two triggers, either
of which fires. Times are UTC, like the log rotation boundaries: the same
expression means the same instant in a container and on the host.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
FIELD_NAMES = "minute hour day month weekday"


class CrontabError(ValueError):
    """The expression is not a five-field crontab line we can schedule."""


def crontab_trigger(expression: str) -> BaseTrigger:
    """The trigger firing at the times `expression` names, in UTC."""
    fields = expression.split()
    if len(fields) != 5:
        raise CrontabError(f"a cron expression has five fields: {FIELD_NAMES}")
    minute, hour, day, month, weekday = fields
    weekdays = cron_weekdays(weekday)
    try:
        if is_restricted(day) and is_restricted(weekday):
            trigger: BaseTrigger = OrTrigger(
                [
                    utc_cron(minute, hour, day, month, "*"),
                    utc_cron(minute, hour, "*", month, weekdays),
                ]
            )
        else:
            trigger = utc_cron(minute, hour, day, month, weekdays)
    except ValueError as exc:
        raise CrontabError(str(exc)) from None
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise CrontabError("it names no time that ever comes, such as 30 February")
    return trigger


def utc_cron(minute: str, hour: str, day: str, month: str, weekday: str) -> CronTrigger:
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday,
        timezone=UTC,
    )


def is_restricted(field: str) -> bool:
    # cron's own rule: a day field starting with "*" (even "*/2") counts as
    # unrestricted, and then the other day field alone decides.
    return not field.startswith("*")


def cron_weekdays(field: str) -> str:
    """cron's weekday field as day names, which APScheduler reads alike."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        days |= weekday_numbers(part)
    return ",".join(WEEKDAY_NAMES[day] for day in sorted(days))


def weekday_numbers(part: str) -> set[int]:
    """The days (0 = Sunday) one comma-separated part of the field names."""
    span, has_step, step_text = part.partition("/")
    step = parse_step(step_text) if has_step else 1
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        start, end = span.split("-", 1)
        first, last = weekday_number(start), weekday_number(end)
        if last == 0 and first > 0:
            last = 7  # "fri-sun": Sunday closes the week
    else:
        first = weekday_number(span)
        last = 6 if has_step else first
    if first > last:
        raise CrontabError(f"the weekday range {span!r} runs backwards")
    return {day % 7 for day in range(first, last + 1, step)}


def weekday_number(text: str) -> int:
    word = text.lower()
    if word in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(word)
    if word.isascii() and word.isdigit() and int(word) <= 7:
        return int(word)
    raise CrontabError(f"the weekday {text!r} is not 0-7 or sun-sat")


def parse_step(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    raise CrontabError(f"the step {text!r} must be a whole number above 0")
