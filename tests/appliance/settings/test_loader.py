"""Settings are read from the environment, `.env` and secret files, and checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[3]
SEED = REPO.parent / "shared" / "seed" / "000_6d4dd9899eef8026.txt"
STRONG = "k3Jx9Qz7Lw2Vb8Nt5Rm4Hs6Pd1Fg0Ya-Zc"


@pytest.fixture
def seed_env_file(tmp_path: Path) -> Path:
    """The deployment spec's `.env.example`, byte for byte as the spec prints it."""
    if not SEED.is_file():
        pytest.fail(f"the seed spec is missing at {SEED}; CI places shared/ beside")
    text = SEED.read_text(encoding="utf-8")
    block = re.search(r"# 文件路径: \.env\.example\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "seed.env"
    path.write_text(block, encoding="utf-8")
    return path


def problems_for(environ: dict[str, str], env_file: Path | None = None) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, env_file or Path("/nonexistent/.env"))
    return caught.value.problems


def test_seed_env_example_is_accepted_verbatim(seed_env_file):
    settings = load_settings({}, seed_env_file)
    assert settings.max_file_size == 50485760  # "50485760  # 50MB"
    assert settings.jwt_expiration == 3600  # "3600  # 1小时"
    assert settings.backup_interval == 24
    assert settings.app_name == "智能客服系统"
    assert settings.log_format.startswith("%(asctime)s")
    assert settings.workers == 4


def test_shipped_env_example_is_accepted():
    settings = load_settings({}, REPO / "configs" / ".env.example")
    assert settings.database_type == "sqlite"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "abc", "valid integer"),
        ("PORT", "70000", "less than or equal to 65535"),
        ("WORKERS", "0", "greater than or equal to 1"),
        ("DEBUG", "maybe", "expected true or false"),
        ("DATABASE_TYPE", "mysql", "expected one of 'sqlite' or 'postgresql'"),
        ("OPENAI_BASE_URL", "ftp://models", "expected an http:// or https:// URL"),
        ("REDIS_URL", "http://cache", "expected a redis://, rediss:// or unix://"),
        ("LOG_LEVEL", "LOUD", "expected one of DEBUG, INFO"),
        ("LOG_FORMAT", "%(missing", "logging %-style format"),
        ("LOG_ROTATION", "sometimes", "expected one of midnight"),
        ("WORKER_CLASS", "gevent", "only uvicorn.workers.UvicornWorker"),
        ("JWT_ALGORITHM", "none", "expected one of 'HS256'"),
        ("IMAGE_QUALITY", "100", "less than or equal to 95"),
        ("OPENAI_TEMPERATURE", "hot", "valid number"),
        ("BACKUP_INTERVAL", "-3", "whole number of hours, or a five-field cron"),
        ("BACKUP_INTERVAL", "1.5", "whole number of hours, or a five-field cron"),
        ("BACKUP_INTERVAL", "61 3 * * *", "maximum value (59)"),
        ("BACKUP_INTERVAL", "30 3 * *", "five fields"),
        ("ALERT_WEBHOOK_URL", "ftp://hooks", "expected an http:// or https:// URL"),
        ("CORS_ORIGINS", "https://a.example/chat", "entry 1 is not an origin"),
        (
            "CORS_ORIGINS",
            "https://a.example,https://*.shop",
            "entry 2 is not an origin",
        ),
    ],
)
def test_invalid_value_is_rejected_with_its_accepted_form(name, value, message):
    problems = problems_for({name: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: ")
    assert message in problems[0]
    assert value not in problems[0] or value in message  # the input is not echoed


def test_every_problem_is_reported_at_once():
    problems = problems_for({"PORT": "x", "WORKERS": "-1", "DEBUG": "perhaps"})
    assert sorted(line.split(":")[0] for line in problems) == [
        "DEBUG",
        "PORT",
        "WORKERS",
    ]


def test_production_refuses_the_seed_placeholders(seed_env_file):
    problems = problems_for({"ENVIRONMENT": "production"}, seed_env_file)
    named = {line.split(":")[0] for line in problems}
    assert named == {
        "SECRET_KEY",
        "JWT_SECRET_KEY",
        "REDIS_PASSWORD",
        "GRAFANA_PASSWORD",
        "OSS_ACCESS_KEY",
        "OSS_SECRET_KEY",
        "DEBUG",
    }
    assert all("placeholder" in line for line in problems if "PASSWORD" in line)


def test_production_checks_the_postgres_password_only_when_postgres_is_used():
    base = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG + "x",
        "POSTGRES_PASSWORD": "postgres",
    }
    assert load_settings(base, Path("/nonexistent")).is_production
    problems = problems_for({**base, "DATABASE_TYPE": "postgresql"})
    assert problems == [
        "POSTGRES_PASSWORD: still holds a placeholder or well-known value; "
        "set a real secret before running in production"
    ]


def test_production_refuses_short_and_missing_signing_keys():
    problems = problems_for({"ENVIRONMENT": "production", "SECRET_KEY": "short1"})
    assert "SECRET_KEY: is shorter than 32 characters" in problems[0]
    assert problems[1].startswith("JWT_SECRET_KEY: is not set")


def test_secret_is_read_from_its_file(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(STRONG + "\n")
    settings = load_settings({"SECRET_KEY_FILE": str(secret_file)}, tmp_path / "x")
    assert settings.secret_key.get_secret_value() == STRONG


def test_secret_and_its_file_in_one_source_conflict(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(STRONG)
    problems = problems_for({"SECRET_KEY": "a", "SECRET_KEY_FILE": str(secret_file)})
    assert problems == [
        "SECRET_KEY: set SECRET_KEY or SECRET_KEY_FILE, not both in the same source"
    ]


def test_environment_secret_file_wins_over_dotenv_value(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=from-dotenv\n")
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("from-file")
    settings = load_settings({"SECRET_KEY_FILE": str(secret_file)}, env_file)
    assert settings.secret_key.get_secret_value() == "from-file"


def test_missing_secret_file_is_reported():
    problems = problems_for({"JWT_SECRET_KEY_FILE": "/nonexistent/jwt"})
    assert problems == [
        "JWT_SECRET_KEY_FILE: cannot read /nonexistent/jwt: No such file or directory"
    ]


def test_environment_wins_over_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9001\nWORKERS=3\n")
    settings = load_settings({"PORT": "9002"}, env_file)
    assert (settings.port, settings.workers) == (9002, 3)


def test_inline_comment_in_a_raw_environment_value_is_dropped_for_numbers():
    # `docker run --env-file` passes "50485760  # 50MB" through unchanged.
    settings = load_settings(
        {"MAX_FILE_SIZE": "50485760  # 50MB", "SMTP_PASSWORD": "pa ss #word"},
        Path("/nonexistent"),
    )
    assert settings.max_file_size == 50485760
    assert settings.smtp_password.get_secret_value() == "pa ss #word"


@pytest.mark.parametrize(
    ("value", "interval"),
    [
        ("24  # hours", 24),
        ("30 3 * * *", "30 3 * * *"),
        ("30  3 * * 1-5   # weekday nights", "30 3 * * 1-5"),
    ],
)
def test_backup_interval_takes_hours_or_a_cron_expression(value, interval):
    settings = load_settings({"BACKUP_INTERVAL": value}, Path("/nonexistent"))
    assert settings.backup_interval == interval


def test_empty_value_means_unset_for_optional_settings():
    settings = load_settings({"METRICS_PORT": "", "OPENAI_API_KEY": ""}, Path("/x"))
    assert settings.metrics_port is None
    assert settings.openai_api_key is None


def test_paths_default_under_data_dir_and_are_absolute(tmp_path):
    settings = load_settings({"DATA_DIR": "rel/data"}, tmp_path / "x")
    assert settings.data_dir.is_absolute()
    assert settings.sqlite_database_path == settings.data_dir / "customer_service.db"
    assert settings.upload_path == settings.data_dir / "uploads"
    assert settings.backup_path == settings.data_dir / "backups"
    assert settings.log_file_path == settings.data_dir / "logs" / "app.log"
    assert settings.run_dir == settings.data_dir / "run"


OFFSITE = {
    "OSS_PROVIDER": "minio",
    "OSS_ACCESS_KEY": "AKIAOFFSITE",
    "OSS_SECRET_KEY": STRONG,
    "OSS_BUCKET": "shop-backups",
    "OSS_ENDPOINT": "http://127.0.0.1:9000/",
}


def test_offsite_copy_is_off_until_every_oss_setting_is_given():
    assert not load_settings({}, Path("/x")).offsite_configured
    settings = load_settings(OFFSITE, Path("/x"))
    assert settings.offsite_configured
    assert (settings.oss_endpoint, settings.oss_region) == (
        "http://127.0.0.1:9000",
        "us-east-1",
    )


def test_oss_provider_alone_names_each_missing_oss_setting_on_its_own_line():
    problems = problems_for({"OSS_PROVIDER": "aliyun", "OSS_BUCKET": "shop-backups"})
    assert [line.split(":")[0] for line in problems] == [
        "OSS_ACCESS_KEY",
        "OSS_SECRET_KEY",
        "OSS_ENDPOINT",
    ]
    assert all("unset OSS_PROVIDER" in line for line in problems)


def test_oss_settings_without_a_provider_leave_the_offsite_copy_off():
    without_provider = {k: v for k, v in OFFSITE.items() if k != "OSS_PROVIDER"}
    assert not load_settings(without_provider, Path("/x")).offsite_configured


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OSS_PROVIDER", "dropbox", "expected one of s3, aws, minio, r2, aliyun"),
        ("OSS_BUCKET", "Shop_Backups", "3 to 63 lower-case letters"),
        ("OSS_REGION", "us east", "region name such as us-east-1"),
        ("OSS_ENDPOINT", "s3.example.com", "expected an http:// or https:// URL"),
    ],
)
def test_bad_oss_setting_is_refused_with_what_is_accepted(name, value, message):
    problems = problems_for({**OFFSITE, name: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: ")
    assert message in problems[0]


def test_oss_provider_name_is_read_in_any_case():
    settings = load_settings({**OFFSITE, "OSS_PROVIDER": " R2 "}, Path("/x"))
    assert settings.oss_provider == "r2"


def test_production_refuses_placeholder_oss_keys_only_once_each():
    production = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG + "x",
    }
    problems = problems_for(
        {**production, **OFFSITE, "OSS_SECRET_KEY": "your-oss-secret-key"}
    )
    assert problems == [
        "OSS_SECRET_KEY: still holds a placeholder or well-known value; "
        "set a real secret before running in production"
    ]
