"""Crontab expressions fire when cron would fire them, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.scheduler.crontab import CrontabError, crontab_trigger

# A Thursday.
THURSDAY = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def fire_times(expression: str, count: int, since: datetime = THURSDAY) -> list:
    trigger = crontab_trigger(expression)
    times, previous, now = [], None, since
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        times.append(previous)
        now = previous + timedelta(microseconds=1)
    return times


def weekdays(expression: str, count: int = 7) -> list[str]:
    return [moment.strftime("%a") for moment in fire_times(expression, count)]


def test_times_are_utc_to_the_minute():
    assert fire_times("30 3 * * *", 2) == [
        datetime(2026, 12, 4, 3, 30, tzinfo=UTC),
        datetime(2026, 12, 5, 3, 30, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("1-5", ["Fri", "Mon", "Tue", "Wed", "Thu"]),
        ("sat,sun", ["Sat", "Sun"]),
        ("fri-sun", ["Fri", "Sat", "Sun"]),
        ("*/2", ["Sat", "Sun", "Tue", "Thu"]),
        ("0-2", ["Sun", "Mon", "Tue"]),
    ],
)
def test_weekday_numbers_count_from_sunday_as_in_cron(field, days):
    assert weekdays(f"0 3 * * {field}", len(days)) == days


def test_both_day_fields_restricted_fires_on_either_as_in_cron():
    # The 1st of the month, and every Monday.
    assert [moment.day for moment in fire_times("0 3 1 * mon", 3)] == [7, 14, 21]
    january = datetime(2026, 12, 29, tzinfo=UTC)
    first_of_month = fire_times("0 3 1 * mon", 2, since=january)
    assert [moment.date().isoformat() for moment in first_of_month] == [
        "2027-01-01",
        "2027-01-04",
    ]


def test_a_starred_day_field_leaves_the_other_to_decide():
    assert weekdays("0 3 */1 * 6", 2) == ["Sat", "Sat"]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 3 * *", "five fields"),
        ("61 * * * *", "maximum value (59)"),
        ("0 3 * * 8", "not 0-7 or sun-sat"),
        ("0 3 * * 5-1", "runs backwards"),
        ("0 3 * * */0", "above 0"),
        ("0 0 30 2 *", "no time that ever comes"),
    ],
)
def test_an_unusable_expression_is_refused_naming_the_problem(expression, problem):
    with pytest.raises(CrontabError) as refused:
        crontab_trigger(expression)
    assert problem in str(refused.value)
