"""Offsite copies, against a real S3-compatible server on loopback.

moto_server checks every request's signature and the appliance key's
policy, which allows only PutObject, GetObject and AbortMultipartUpload.
What landed is read back with boto3 and the inspector's key, so our client
is checked by a client it shares no code with.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from appliance.backups.catalog import list_backups, record_path
from appliance.backups.create import create_backup
from appliance.backups.journal import read_runs, record_run
from appliance.backups.offsite import (
    KEY_PREFIX,
    OffsiteFailed,
    OffsiteNotConfigured,
    TransferLimits,
    bucket_of,
    copy_offsite,
    explain_refusal,
)
from appliance.backups.s3 import S3Error
from appliance.backups.s3_signature import object_location
from appliance.backups.scheduled import run_scheduled_backup
from appliance.settings import Settings
from tests.appliance.backups.conftest import backup_command_env
from tests.support.commands import run_appliance
from tests.support.network import free_port
from tests.support.s3_server import S3Server, running_s3_server
from tests.support.waiting import wait_until

MIB = 1024 * 1024
QUICK = TransferLimits(timeout_seconds=5, attempts=1)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    log = tmp_path_factory.mktemp("s3") / "moto_server.log"
    with running_s3_server(log) as server:
        yield server


@pytest.fixture
def offsite_settings(backup_settings: Settings, s3_server: S3Server) -> Settings:
    return Settings(
        data_dir=backup_settings.data_dir,
        oss_provider="minio",
        oss_access_key=s3_server.appliance.access_key,
        oss_secret_key=s3_server.appliance.secret_key,
        oss_bucket=s3_server.bucket,
        oss_endpoint=s3_server.endpoint,
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def local_files(settings: Settings) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in settings.backup_path.glob("backup-*")}


def offsite_runs(settings: Settings) -> list[dict]:
    return [r for r in read_runs(settings.backup_path) if r["kind"] == "offsite"]


def add_upload(settings: Settings, size: int) -> None:
    # Random bytes: zstd cannot shrink them, so the archive is as large.
    (settings.upload_path / "2026" / "12" / "scan.bin").write_bytes(os.urandom(size))


def stored(server: S3Server, key: str) -> bytes:
    reply = server.inspector_client().get_object(Bucket=server.bucket, Key=key)
    return reply["Body"].read()


def exists(server: S3Server, key: str) -> bool:
    try:
        server.inspector_client().head_object(Bucket=server.bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] == "404":
            return False
        raise
    return True


def with_changes(settings: Settings, **changes) -> Settings:
    return settings.model_copy(update=changes)


@contextlib.contextmanager
def loopback_server(handle) -> Iterator[int]:
    """A loopback port whose every connection goes to `handle(connection)`,
    one after the other; yields the port, and closes all on the way out."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept_forever() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection = listener.accept()[0]
                held.append(connection)
                handle(connection)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        for connection in held:
            connection.close()


@contextlib.contextmanager
def stalled_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback port that accepts connections and never answers."""
    accepted: list[socket.socket] = []
    with loopback_server(accepted.append) as port:
        yield port, accepted


@contextlib.contextmanager
def flooding_server(give_up_after: int) -> Iterator[tuple[int, list[int]]]:
    """A loopback port that answers every request with 403 and a body that
    does not end (a captive portal, a misnamed endpoint): it sends until the
    client hangs up, or `give_up_after` bytes; the count is reported."""
    sent: list[int] = []
    chunk = b"x" * 65536
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)

    def flood(connection: socket.socket) -> None:
        total = 0
        with connection, contextlib.suppress(OSError):
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            while total < give_up_after:
                connection.sendall(framed)
                total += len(chunk)
        sent.append(total)

    with loopback_server(flood) as port:
        yield port, sent


@contextlib.contextmanager
def hanging_up_server() -> Iterator[tuple[int, list[str]]]:
    """A loopback port that reads each request and hangs up without an
    answer (a reply lost on the way); the request lines are reported."""
    requests: list[str] = []

    def hang_up(connection: socket.socket) -> None:
        with connection:
            head = connection.recv(65536)
        requests.append(head.split(b"\r\n", 1)[0].decode())

    with loopback_server(hang_up) as port:
        yield port, requests


def test_a_multipart_start_whose_reply_is_lost_is_not_sent_again(offsite_settings):
    record = create_backup(offsite_settings, verify=True)
    limits = TransferLimits(
        part_bytes=5 * MIB, multipart_above=0, timeout_seconds=5, attempts=3
    )

    with hanging_up_server() as (port, requests):
        lost = with_changes(offsite_settings, oss_endpoint=f"http://127.0.0.1:{port}")
        with pytest.raises(OffsiteFailed) as caught:
            copy_offsite(lost, record, limits=limits)

    assert caught.value.reason == "network"
    starts = [line for line in requests if line.startswith("POST ")]
    assert len(starts) == 1, requests


def test_an_endless_reply_is_cut_short_instead_of_filling_memory(offsite_settings):
    record = create_backup(offsite_settings, verify=True)
    give_up_after = 512 * 1024 * 1024

    with flooding_server(give_up_after) as (port, sent):
        flooded = with_changes(
            offsite_settings, oss_endpoint=f"http://127.0.0.1:{port}"
        )
        with pytest.raises(OffsiteFailed) as caught:
            copy_offsite(flooded, record, limits=QUICK)
        wait_until(lambda: sent, message="the server to see the hang-up")

    assert caught.value.reason == "denied"
    # The server's writes stop once the client stops reading, within the
    # socket buffers; an unread 512 MB would show here.
    assert max(sent) < 16 * 1024 * 1024


def test_copy_lands_byte_for_byte_with_its_record_and_keeps_the_local_backup(
    offsite_settings, s3_server
):
    record = create_backup(offsite_settings, verify=True)
    archive = offsite_settings.backup_path / record.file
    before = sha256_of(archive)

    run = copy_offsite(offsite_settings, record, limits=QUICK)

    key = KEY_PREFIX + record.file
    assert hashlib.sha256(stored(s3_server, key)).hexdigest() == before
    sidecar = json.loads(stored(s3_server, key + ".json"))
    assert sidecar["id"] == record.id and sidecar["verified_at"]
    assert sha256_of(archive) == before and record_path(archive).is_file()
    assert (run["outcome"], run["key"], run["size"]) == (
        "ok",
        key,
        archive.stat().st_size,
    )
    assert offsite_runs(offsite_settings) == [run]


def test_large_archive_goes_up_in_parts_without_being_held_in_memory(
    offsite_settings, s3_server
):
    add_upload(offsite_settings, 12 * MIB)
    record = create_backup(offsite_settings, verify=True)
    limits = TransferLimits(
        part_bytes=5 * MIB, multipart_above=5 * MIB, timeout_seconds=10, attempts=1
    )

    tracemalloc.start()
    try:
        copy_offsite(offsite_settings, record, limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    key = KEY_PREFIX + record.file
    head = s3_server.inspector_client().head_object(Bucket=s3_server.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")
    archive = offsite_settings.backup_path / record.file
    assert hashlib.sha256(stored(s3_server, key)).hexdigest() == sha256_of(archive)
    assert peak < 5 * MIB, f"{peak} bytes held: more than one part"


def test_multipart_upload_the_server_refuses_is_aborted_and_leaves_no_parts(
    offsite_settings, s3_server
):
    add_upload(offsite_settings, 3 * MIB)
    record = create_backup(offsite_settings, verify=True)
    # Parts under S3's 5 MiB minimum: the server refuses to complete.
    limits = TransferLimits(part_bytes=MIB, multipart_above=MIB, attempts=1)

    with pytest.raises(OffsiteFailed) as caught:
        copy_offsite(offsite_settings, record, limits=limits)

    assert caught.value.reason == "rejected"
    assert "EntityTooSmall" in str(caught.value)
    key = KEY_PREFIX + record.file
    inspector = s3_server.inspector_client()
    pending = inspector.list_multipart_uploads(Bucket=s3_server.bucket)
    assert [u for u in pending.get("Uploads", []) if u["Key"] == key] == []
    assert not exists(s3_server, key)
    [run] = offsite_runs(offsite_settings)
    assert (run["outcome"], run["reason"]) == ("failed", "rejected")


def test_wrong_secret_key_fails_the_copy_records_why_and_keeps_the_local_backup(
    offsite_settings, s3_server
):
    record = create_backup(offsite_settings, verify=True)
    before = local_files(offsite_settings)
    wrong = with_changes(offsite_settings, oss_secret_key=SecretStr("not-the-key"))

    with pytest.raises(OffsiteFailed) as caught:
        copy_offsite(wrong, record, limits=QUICK)

    assert caught.value.reason == "denied"
    assert "SignatureDoesNotMatch" in str(caught.value)
    assert "OSS_SECRET_KEY" in str(caught.value)
    assert local_files(offsite_settings) == before
    assert not exists(s3_server, KEY_PREFIX + record.file)
    [run] = offsite_runs(offsite_settings)
    assert (run["outcome"], run["reason"], run["backup_id"]) == (
        "failed",
        "denied",
        record.id,
    )


def test_unreachable_endpoint_fails_at_once_and_is_recorded(offsite_settings):
    record = create_backup(offsite_settings, verify=True)
    before = local_files(offsite_settings)
    closed = with_changes(
        offsite_settings, oss_endpoint=f"http://127.0.0.1:{free_port()}"
    )

    started = time.monotonic()
    with pytest.raises(OffsiteFailed) as caught:
        copy_offsite(closed, record, limits=QUICK)

    assert time.monotonic() - started < QUICK.timeout_seconds
    assert caught.value.reason == "unreachable"
    assert "OSS_ENDPOINT" in str(caught.value)
    assert local_files(offsite_settings) == before
    assert offsite_runs(offsite_settings)[0]["reason"] == "unreachable"


def test_stalled_server_is_given_up_after_the_timeout_of_each_try(offsite_settings):
    record = create_backup(offsite_settings, verify=True)
    before = local_files(offsite_settings)
    limits = TransferLimits(timeout_seconds=0.5, attempts=2)

    with stalled_server() as (port, accepted):
        stalled = with_changes(
            offsite_settings, oss_endpoint=f"http://127.0.0.1:{port}"
        )
        started = time.monotonic()
        with pytest.raises(OffsiteFailed) as caught:
            copy_offsite(stalled, record, limits=limits)
        elapsed = time.monotonic() - started
        tries = len(accepted)

    assert caught.value.reason == "timeout"
    assert tries == 2
    # Two timeouts and the pause between them; never the 30 s default.
    assert 1.0 <= elapsed < 10
    assert local_files(offsite_settings) == before
    [run] = offsite_runs(offsite_settings)
    assert run["reason"] == "timeout" and run["duration"] >= 1.0


def test_scheduled_backup_is_copied_offsite_once_verified(offsite_settings, s3_server):
    run_scheduled_backup(offsite_settings)

    [made] = list_backups(offsite_settings.backup_path)
    kinds = [(r["kind"], r["outcome"]) for r in read_runs(offsite_settings.backup_path)]
    assert kinds == [("create", "ok"), ("verify", "ok"), ("offsite", "ok")]
    assert offsite_runs(offsite_settings)[0]["trigger"] == "schedule"
    assert exists(s3_server, KEY_PREFIX + made.file)


def test_scheduled_backup_stands_when_its_offsite_copy_fails(offsite_settings, caplog):
    wrong = with_changes(offsite_settings, oss_secret_key=SecretStr("not-the-key"))

    with caplog.at_level(logging.WARNING, logger="appliance.backups.offsite"):
        run_scheduled_backup(wrong)

    [made] = list_backups(offsite_settings.backup_path)
    assert made.verified
    assert (offsite_settings.backup_path / made.file).is_file()
    kinds = [(r["kind"], r["outcome"]) for r in read_runs(offsite_settings.backup_path)]
    assert kinds == [("create", "ok"), ("verify", "ok"), ("offsite", "failed")]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert made.id in warning.getMessage() and "denied" in warning.getMessage()


def test_secret_key_and_signatures_stay_out_of_the_log(offsite_settings, caplog):
    record = create_backup(offsite_settings, verify=True)
    wrong = with_changes(offsite_settings, oss_secret_key=SecretStr("not-the-key"))

    with caplog.at_level(logging.DEBUG):
        copy_offsite(offsite_settings, record, limits=QUICK)
        with pytest.raises(OffsiteFailed):
            copy_offsite(wrong, record, limits=QUICK)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"backup {record.id} copied offsite" in logged
    secret = offsite_settings.oss_secret_key.get_secret_value()
    assert secret not in logged
    assert "Signature=" not in logged and "authorization" not in logged.lower()


def test_offsite_metrics_come_from_the_journal_apart_from_local_failures(tmp_path):
    from prometheus_client import CollectorRegistry, generate_latest

    from appliance.backups.metrics import BackupCollector

    record_run(tmp_path, kind="offsite", outcome="ok", duration=2.5, size=10)
    record_run(tmp_path, kind="offsite", outcome="failed", reason="denied")
    record_run(tmp_path, kind="create", outcome="failed", reason="disk_full")
    registry = CollectorRegistry()
    registry.register(BackupCollector(tmp_path))

    page = generate_latest(registry).decode()

    assert 'customer_service_backup_offsite_failures_total{reason="denied"} 1.0' in page
    assert 'customer_service_backup_failures_total{reason="disk_full"} 1.0' in page
    assert 'customer_service_backup_failures_total{reason="denied"}' not in page
    assert "customer_service_backup_offsite_last_duration_seconds 2.5" in page
    [success] = [
        line
        for line in page.splitlines()
        if line.startswith("customer_service_backup_offsite_last_success_timestamp")
    ]
    assert float(success.split()[-1]) > 0


def offsite_env(settings: Settings) -> dict[str, str]:
    return {
        **backup_command_env(settings),
        "OSS_PROVIDER": settings.oss_provider,
        "OSS_ACCESS_KEY": settings.oss_access_key.get_secret_value(),
        "OSS_SECRET_KEY": settings.oss_secret_key.get_secret_value(),
        "OSS_BUCKET": settings.oss_bucket,
        "OSS_ENDPOINT": settings.oss_endpoint,
    }


def test_backup_offsite_command_copies_the_newest_verified_backup(
    offsite_settings, s3_server
):
    verified = create_backup(offsite_settings, verify=True)
    unverified = create_backup(offsite_settings)
    env = offsite_env(offsite_settings)

    copied = run_appliance("backup", "offsite", env=env)
    refused = run_appliance("backup", "offsite", unverified.id, env=env)

    assert copied.returncode == 0, copied.stderr
    assert verified.id in copied.stdout and "copied to" in copied.stdout
    assert exists(s3_server, KEY_PREFIX + verified.file)
    assert refused.returncode == 1
    assert "not verified" in refused.stderr and "backup verify" in refused.stderr
    assert not exists(s3_server, KEY_PREFIX + unverified.file)


def test_backup_offsite_without_oss_settings_exits_2_and_names_them(backup_settings):
    create_backup(backup_settings, verify=True)

    result = run_appliance("backup", "offsite", env=backup_command_env(backup_settings))

    assert result.returncode == 2
    assert "OSS_PROVIDER" in result.stderr and "OSS_ENDPOINT" in result.stderr
    with pytest.raises(OffsiteNotConfigured):
        copy_offsite(backup_settings, list_backups(backup_settings.backup_path)[0])


def test_aliyun_is_addressed_by_virtual_host_and_the_others_by_path(offsite_settings):
    key = "customer-service/backup-x.tar.zst"
    aliyun = with_changes(
        offsite_settings,
        oss_provider="aliyun",
        oss_endpoint="https://s3.oss-cn-hangzhou.aliyuncs.com",
    )

    assert object_location(bucket_of(aliyun), key) == (
        "https://shop-backups.s3.oss-cn-hangzhou.aliyuncs.com",
        f"/{key}",
    )
    assert object_location(bucket_of(offsite_settings), key) == (
        offsite_settings.oss_endpoint,
        f"/shop-backups/{key}",
    )


def test_a_refused_clock_points_at_the_host_clock_not_the_key(offsite_settings):
    skewed = S3Error(403, "RequestTimeTooSkewed", "the difference is too large")

    reason, message = explain_refusal(bucket_of(offsite_settings), skewed)

    assert reason == "denied"
    assert "clock" in message and "s3:PutObject" not in message
