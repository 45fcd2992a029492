"""Copy verified backups to an S3-compatible bucket, away from this host.

Each copy uploads `customer-service/<archive>` and then its record,
`customer-service/<archive>.json`; the record goes last, so a record in
the bucket means its archive arrived whole. The upload is checked twice:
the server checks each request's SHA-256 before it stores the bytes, and
afterwards the object's size and ETag are read back and compared with the
local file's.

Nothing local is ever deleted, moved or changed by a copy, and nothing
remote is ever deleted: a host that can erase its offsite copies lets
whoever takes the host, or a wiped disk, erase them too. Old copies are
the bucket's business, through a lifecycle rule (see the README).

Every copy, good or failed, is a run of kind "offsite" in the journal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from appliance.backups.catalog import RECORD_SUFFIX, BackupRecord
from appliance.backups.journal import record_run
from appliance.backups.s3 import S3Client, S3Error, UploadMismatch
from appliance.backups.s3_signature import S3Bucket
from appliance.settings import Settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "customer-service/"
# Providers that refuse path-style requests (bucket in the path).
VIRTUAL_HOSTED_PROVIDERS = frozenset({"aliyun"})
MIB = 1024 * 1024
KIND = "offsite"


@dataclass(frozen=True)
class TransferLimits:
    """How a copy moves; tests shrink these. S3 refuses parts under 5 MiB
    (but the last), so production parts stay well above that."""

    part_bytes: int = 64 * MIB
    multipart_above: int = 64 * MIB
    timeout_seconds: float = 30.0
    attempts: int = 3


DEFAULT_LIMITS = TransferLimits()


class OffsiteNotConfigured(Exception):
    """OSS_PROVIDER and the rest are not set, so there is nowhere to copy to."""


class OffsiteRefused(Exception):
    """This backup is not one to copy (it is not verified)."""


class OffsiteFailed(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        # A metric label: unreachable, timeout, network, denied, rejected,
        # server, verification, io.
        self.reason = reason


def bucket_of(settings: Settings) -> S3Bucket:
    if not settings.offsite_configured:
        raise OffsiteNotConfigured(
            "no offsite copy is configured: set OSS_PROVIDER, OSS_BUCKET, "
            "OSS_ENDPOINT, OSS_ACCESS_KEY and OSS_SECRET_KEY"
        )
    return S3Bucket(
        endpoint=settings.oss_endpoint,
        name=settings.oss_bucket,
        region=settings.oss_region,
        access_key=settings.oss_access_key.get_secret_value(),
        secret_key=settings.oss_secret_key.get_secret_value(),
        virtual_hosted=settings.oss_provider in VIRTUAL_HOSTED_PROVIDERS,
    )


def offsite_key(record: BackupRecord) -> str:
    return KEY_PREFIX + record.file


def copy_offsite(
    settings: Settings,
    record: BackupRecord,
    trigger: str = "manual",
    limits: TransferLimits = DEFAULT_LIMITS,
) -> dict:
    """Upload a verified backup and its record; the journal's run for it.
    Raises OffsiteFailed (recorded first) when the copy did not land."""
    bucket = bucket_of(settings)
    if not record.verified:
        raise OffsiteRefused(
            f"backup {record.id} is not verified, and only verified backups "
            f"go offsite; run `customer-service backup verify {record.id}`"
        )
    started = time.monotonic()
    journal = {"kind": KIND, "trigger": trigger, "backup_id": record.id}
    try:
        upload_backup(settings, bucket, record, limits)
    except OffsiteFailed as failure:
        record_failure(settings, journal, started, failure.reason, str(failure))
        raise
    except Exception as exc:
        record_failure(settings, journal, started, "internal", repr(exc))
        raise

    duration = time.monotonic() - started
    run = record_run(
        settings.backup_path,
        **journal,
        outcome="ok",
        key=offsite_key(record),
        size=record.size,
        duration=round(duration, 3),
    )
    logger.info(
        "backup %s copied offsite to %s/%s: %d bytes in %.1fs",
        record.id,
        bucket.name,
        offsite_key(record),
        record.size,
        duration,
    )
    return run


def record_failure(
    settings: Settings, journal: dict, started: float, reason: str, error: str
) -> None:
    record_run(
        settings.backup_path,
        **journal,
        outcome="failed",
        reason=reason,
        error=error,
        duration=round(time.monotonic() - started, 3),
    )


def copy_new_backup_offsite(settings: Settings, record: BackupRecord) -> None:
    """The scheduled backup's offsite step: when configured, copy; a failure
    is recorded and logged but never raised, so the local backup stands."""
    if not settings.offsite_configured:
        return
    try:
        copy_offsite(settings, record, trigger="schedule")
    except OffsiteFailed as failure:
        logger.warning(
            "offsite copy of backup %s failed (%s): %s",
            record.id,
            failure.reason,
            failure,
        )
    except Exception:
        logger.exception("offsite copy of backup %s failed", record.id)


def upload_backup(
    settings: Settings, bucket: S3Bucket, record: BackupRecord, limits: TransferLimits
) -> None:
    archive = settings.backup_path / record.file
    key = offsite_key(record)
    with explained_failures(bucket), open_archive(archive) as descriptor:
        size = os.fstat(descriptor).st_size
        if size != record.size:
            raise OffsiteFailed(
                "io",
                f"{record.file} is {size} bytes and its record says "
                f"{record.size}; run `customer-service backup verify {record.id}`",
            )
        with S3Client(bucket, limits.timeout_seconds, limits.attempts) as client:
            expected_etag = client.upload_file(
                key, descriptor, size, limits.part_bytes, limits.multipart_above
            )
            check_stored(client, key, size, expected_etag)
            client.put_object(key + RECORD_SUFFIX, record_bytes(record))


@contextlib.contextmanager
def open_archive(archive: Path) -> Iterator[int]:
    """The archive, opened once: should retention delete it meanwhile, the
    open descriptor still reads every byte."""
    try:
        descriptor = os.open(archive, os.O_RDONLY)
    except OSError as exc:
        raise OffsiteFailed("io", f"cannot read {archive}: {exc.strerror}") from exc
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def check_stored(client: S3Client, key: str, size: int, expected_etag: str) -> None:
    stored = client.head_object(key)
    if stored.size != size or stored.etag != expected_etag:
        raise UploadMismatch(
            f"{key} reads back as {stored.size} bytes with ETag {stored.etag}, "
            f"not {size} bytes with ETag {expected_etag}"
        )


def record_bytes(record: BackupRecord) -> bytes:
    # The same bytes as the record file beside the archive.
    return json.dumps(record.as_json(), indent=2, sort_keys=True).encode()


@contextlib.contextmanager
def explained_failures(bucket: S3Bucket) -> Iterator[None]:
    """Turn what can go wrong on the way into OffsiteFailed: a reason for
    the metric and one line saying what to check."""
    try:
        yield
    except S3Error as exc:
        raise OffsiteFailed(*explain_refusal(bucket, exc)) from exc
    except UploadMismatch as exc:
        raise OffsiteFailed("verification", f"the copy does not match: {exc}") from exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise OffsiteFailed(
            "unreachable",
            f"cannot connect to {bucket.endpoint} ({exc}); check OSS_ENDPOINT "
            "and this host's network",
        ) from exc
    except httpx.TimeoutException as exc:
        raise OffsiteFailed(
            "timeout", f"{bucket.endpoint} stopped answering ({exc or 'timed out'})"
        ) from exc
    except httpx.TransportError as exc:
        raise OffsiteFailed(
            "network", f"the connection to {bucket.endpoint} failed: {exc}"
        ) from exc
    except OSError as exc:
        raise OffsiteFailed("io", f"reading the archive failed: {exc}") from exc


def explain_refusal(bucket: S3Bucket, error: S3Error) -> tuple[str, str]:
    if error.code in ("SignatureDoesNotMatch", "InvalidAccessKeyId"):
        hint = "check OSS_ACCESS_KEY, OSS_SECRET_KEY and OSS_REGION"
        return (
            "denied",
            f"bucket {bucket.name} refused the credentials ({error}); {hint}",
        )
    if error.code in ("RequestTimeTooSkewed", "RequestExpired"):
        return "denied", (
            f"bucket {bucket.name} refused the request's time ({error}); this "
            "host's clock is off: set it right (NTP, timedatectl)"
        )
    if error.status in (401, 403):
        hint = (
            "the key needs s3:PutObject, s3:GetObject and s3:AbortMultipartUpload "
            "on the bucket"
        )
        return "denied", f"bucket {bucket.name} refused the upload ({error}); {hint}"
    if error.status >= 500:
        return "server", f"the storage service failed ({error}); try again later"
    return "rejected", (
        f"bucket {bucket.name} refused the upload ({error}); check OSS_BUCKET, "
        "OSS_ENDPOINT and OSS_PROVIDER"
    )
