"""Documentation that cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from appliance.settings.model import Settings, env_name

REPO = Path(__file__).resolve().parents[1]


def setting_names() -> set[str]:
    return {env_name(name) for name in Settings.model_fields}


def env_example_names() -> set[str]:
    text = (REPO / "configs" / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def readme_setting_names() -> set[str]:
    return set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme_section("Settings"), re.M)
    )


def test_every_setting_is_in_env_example_and_nothing_else():
    assert env_example_names() == setting_names()


def test_every_setting_is_in_the_readme_table_and_nothing_else():
    assert readme_setting_names() == setting_names()


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_second():
    block = readme_section("Quick start").split("```sh\n", 1)[1].split("```", 1)[0]
    commands = block.strip().splitlines()
    assert len(commands) == 2
    ci_script = (REPO / ".ci" / "run").read_text()
    assert (
        ci_script.strip().splitlines()[-1] == f"exec {commands[1].removeprefix('./')}"
    )


def exposed_metric_names() -> set[str]:
    import appliance.metrics.definitions  # noqa: F401 - registers the metrics
    from appliance.metrics.exposition import render_metrics

    page = render_metrics(REPO, REPO / "no-backups-here")
    page = page[0] if isinstance(page, tuple) else page
    return set(re.findall(r"^# TYPE (\S+)", page.decode(), re.M))


def test_every_metric_is_documented_and_nothing_else():
    documented = set(
        re.findall(r"^\| `(customer_service_\w+)` \|", readme_section("Metrics"), re.M)
    )
    assert documented == exposed_metric_names()
