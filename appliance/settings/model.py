"""Every setting the appliance reads, with its type and default.

Field names are the environment variable names in lower case. The seed
deployment spec's `.env.example` defines most of them; the ones after the
"appliance" marker are ours. `configs/.env.example` and the README table list
the same names, and a test keeps the three in step.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from appliance.settings.fields import (
    CommaList,
    Flag,
    HoursOrCron,
    HttpUrl,
    NonNegativeInt,
    Port,
    PositiveInt,
    RedisUrl,
    Seconds,
    check_http_url,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_ROTATIONS = ("midnight", "hourly", "daily", "weekly", "never")
SUPPORTED_WORKER_CLASS = "uvicorn.workers.UvicornWorker"
# Object stores that speak the S3 API; any other S3-compatible one works
# as "s3". The name decides only how the bucket is addressed (s3.py).
OSS_PROVIDERS = ("s3", "aws", "minio", "r2", "aliyun", "b2", "wasabi", "ceph")
# The names an offsite copy needs, once OSS_PROVIDER asks for one.
OSS_REQUIRED = ("oss_access_key", "oss_secret_key", "oss_bucket", "oss_endpoint")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION_NAME = re.compile(r"^[a-z0-9-]{1,32}$")


def env_name(field_name: str) -> str:
    return field_name.upper()


class Settings(BaseModel):
    model_config = ConfigDict(
        alias_generator=env_name,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    # application
    app_name: str = "智能客服系统"
    app_version: str = "1.0.0"
    environment: Literal["development", "test", "staging", "production"] = "development"
    debug: Flag = False
    secret_key: SecretStr | None = None

    # database
    database_type: Literal["sqlite", "postgresql"] = "sqlite"
    sqlite_database_path: Path | None = None
    postgres_host: str = "localhost"
    postgres_port: Port = 5432
    postgres_user: str = "postgres"
    postgres_password: SecretStr | None = None
    postgres_db: str = "customer_service"
    database_pool_size: PositiveInt = 10
    database_max_overflow: NonNegativeInt = 20
    database_pool_timeout: Seconds = 30
    database_pool_recycle: int = Field(default=3600, ge=-1)
    database_echo: Flag = False
    slow_query_threshold: Seconds = 1.0

    # redis
    redis_url: RedisUrl = "redis://localhost:6379/0"
    redis_password: SecretStr | None = None
    redis_max_connections: PositiveInt = 20

    # AI providers
    openai_api_key: SecretStr | None = None
    openai_base_url: HttpUrl = "https://api.openai.com/v1"
    openai_model: str = "gpt-4"
    openai_max_tokens: PositiveInt = 4000
    openai_temperature: float = Field(default=0.7, ge=0, le=2)
    openai_timeout: Seconds = 60
    deepseek_api_key: SecretStr | None = None
    deepseek_base_url: HttpUrl = "https://api.deepseek.com/v1"
    deepseek_model: str = "deepseek-chat"

    # server
    host: str = "0.0.0.0"
    port: Port = 8000
    workers: int = Field(default=2, ge=1, le=64)
    worker_class: str = SUPPORTED_WORKER_CLASS
    worker_connections: PositiveInt = 1000
    max_requests: NonNegativeInt = 0
    max_requests_jitter: NonNegativeInt = 0
    timeout: Seconds = 300
    keepalive: Seconds = 5

    # CORS
    cors_origins: CommaList = ["http://localhost:3000", "http://127.0.0.1:3000"]
    cors_credentials: Flag = True
    cors_methods: CommaList = ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
    cors_headers: CommaList = ["*"]

    # uploads
    upload_path: Path | None = None
    max_file_size: PositiveInt = 50485760
    allowed_extensions: CommaList = [
        "jpg", "jpeg", "png", "gif", "pdf", "doc", "docx", "txt",
    ]  # fmt: skip
    image_max_width: PositiveInt = 2048
    image_max_height: PositiveInt = 2048
    image_quality: int = Field(default=85, ge=1, le=95)

    # logging
    log_level: str = "INFO"
    log_format: str = "text"
    log_file_path: Path | None = None
    log_max_size: PositiveInt = 10485760
    log_backup_count: NonNegativeInt = 5
    log_rotation: str = "midnight"

    # security
    jwt_secret_key: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_expiration: PositiveInt = 3600
    password_min_length: int = Field(default=8, ge=8, le=128)
    session_timeout: PositiveInt = 1800
    rate_limit_per_minute: PositiveInt = 60

    # cache
    cache_type: Literal["redis", "memory", "none"] = "memory"
    cache_default_timeout: PositiveInt = 300
    cache_key_prefix: str = "customer_service:"
    cache_serializer: Literal["json"] = "json"

    # monitoring
    monitoring_enabled: Flag = True
    metrics_port: Port | None = None
    health_check_interval: PositiveInt = 30
    performance_monitoring: Flag = True

    # backups
    backup_enabled: Flag = True
    backup_interval: HoursOrCron = 24
    backup_retention: PositiveInt = 7
    backup_path: Path | None = None
    backup_compression: Flag = True
    # The largest archive the admin API takes in; bigger ones get 413.
    backup_upload_max_size: PositiveInt = 20 * 1024**3

    # outside services: SMTP and SMS are only validated so far; OSS_* (and
    # OSS_REGION below) drive the offsite backup copy
    smtp_host: str | None = None
    smtp_port: Port = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Flag = True
    sms_provider: str | None = None
    sms_access_key: SecretStr | None = None
    sms_secret_key: SecretStr | None = None
    oss_provider: str | None = None
    oss_access_key: SecretStr | None = None
    oss_secret_key: SecretStr | None = None
    oss_bucket: str | None = None
    oss_endpoint: HttpUrl | None = None

    # front end
    next_public_api_url: str = ""
    next_public_app_name: str = "智能客服系统"
    next_public_app_version: str = "1.0.0"
    next_public_upload_max_size: PositiveInt = 50485760
    next_public_supported_languages: CommaList = ["zh", "en"]
    next_public_default_language: Literal["zh", "en"] = "zh"

    # production edge
    ssl_cert_path: Path | None = None
    ssl_key_path: Path | None = None
    domain_name: str | None = None
    api_domain: str | None = None
    cdn_url: HttpUrl | None = None
    static_url: HttpUrl | None = None
    grafana_password: SecretStr | None = None
    prometheus_retention: str = "30d"
    # A secret: webhook URLs carry their token in the path or the query.
    alert_webhook_url: SecretStr | None = None

    # appliance: settings the seed spec does not name
    data_dir: Path = Path("data")
    app_factory: str = "app.main:create_app"
    app_jobs: str = "app.jobs:scheduled_jobs"
    metrics_token: SecretStr | None = None
    access_log: Flag = True
    faq_match_threshold: float = Field(default=0.35, ge=0, le=1)
    disk_free_min_mb: NonNegativeInt = 100
    worker_heartbeat_timeout: Seconds = 30
    scheduler_heartbeat_timeout: Seconds = 60
    system_sample_interval: Seconds = 15
    admin_email: str = "admin@localhost"
    admin_password: SecretStr | None = None
    oss_region: str = "us-east-1"

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_log_level(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().upper() in LOG_LEVELS:
            return value.strip().upper()
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")

    @field_validator("log_format")
    @classmethod
    def _usable_log_format(cls, value: str) -> str:
        if value in ("json", "text"):
            return value
        record = logging.makeLogRecord({"msg": "probe", "levelname": "INFO"})
        try:
            logging.Formatter(value).format(record)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                "expected json, text, or a logging %-style format string"
            ) from exc
        return value

    @field_validator("log_rotation", mode="before")
    @classmethod
    def _known_rotation(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in LOG_ROTATIONS:
            return value.strip().lower()
        raise ValueError(f"expected one of {', '.join(LOG_ROTATIONS)}")

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        return SecretStr(check_http_url(value.get_secret_value()))

    @field_validator("cors_origins")
    @classmethod
    def _plain_origins(cls, value: list[str]) -> list[str]:
        # Each one goes into CORS answers and the widget page's CSP as it is.
        for place, origin in enumerate(value, start=1):
            if not is_plain_origin(origin):
                raise ValueError(
                    f"entry {place} is not an origin: expected * or "
                    "scheme://host[:port] with no path, such as "
                    "https://shop.example.com"
                )
        return value

    @field_validator("worker_class")
    @classmethod
    def _supported_worker_class(cls, value: str) -> str:
        if value != SUPPORTED_WORKER_CLASS:
            raise ValueError(f"only {SUPPORTED_WORKER_CLASS} is supported")
        return value

    @field_validator("allowed_extensions")
    @classmethod
    def _bare_extensions(cls, value: list[str]) -> list[str]:
        return [item.lower().lstrip(".") for item in value]

    @field_validator("oss_provider", mode="before")
    @classmethod
    def _known_oss_provider(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        name = value.strip().lower()
        if name not in OSS_PROVIDERS:
            raise ValueError(
                f"expected one of {', '.join(OSS_PROVIDERS)}; "
                "another S3-compatible service works as s3"
            )
        return name

    @field_validator("oss_bucket")
    @classmethod
    def _valid_bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not BUCKET_NAME.match(value):
            raise ValueError(
                "expected a bucket name: 3 to 63 lower-case letters, digits, "
                "dots and hyphens"
            )
        return value

    @field_validator("oss_region")
    @classmethod
    def _valid_region_name(cls, value: str) -> str:
        if not REGION_NAME.match(value):
            raise ValueError(
                "expected a region name such as us-east-1, cn-hangzhou or auto"
            )
        return value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        # Children of `serve` may run from another directory; every path they
        # share with the parent must already be absolute.
        data_dir = self.data_dir.expanduser().absolute()
        derived = {
            "data_dir": data_dir,
            "sqlite_database_path": data_dir / "customer_service.db",
            "upload_path": data_dir / "uploads",
            "backup_path": data_dir / "backups",
            "log_file_path": data_dir / "logs" / "app.log",
        }
        for name, default in derived.items():
            current = getattr(self, name)
            chosen = default if current is None else current
            object.__setattr__(self, name, Path(chosen).expanduser().absolute())
        return self

    @property
    def run_dir(self) -> Path:
        """Sockets, heartbeats and metric files of the running processes."""
        return self.data_dir / "run"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def missing_offsite_settings(self) -> list[str]:
        """What an asked-for offsite copy still lacks (none when not asked)."""
        if self.oss_provider is None:
            return []
        return [env_name(name) for name in OSS_REQUIRED if getattr(self, name) is None]

    @property
    def offsite_configured(self) -> bool:
        return self.oss_provider is not None and not self.missing_offsite_settings


# scheme://host[:port]: a name, an IPv4 address or a bracketed IPv6 one.
PLAIN_ORIGIN = re.compile(
    r"https?://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?"
)


def is_plain_origin(origin: str) -> bool:
    return origin == "*" or PLAIN_ORIGIN.fullmatch(origin.rstrip("/")) is not None
