"""Uploading an archive: streamed to disk, checked, then kept as a backup,
or refused with nothing left behind."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import zstandard

from appliance.backups.archive import ZSTD_MAGIC
from appliance.backups.catalog import record_path
from appliance.backups.create import create_backup
from appliance.backups.journal import read_runs
from appliance.backups.lock import backup_lock
from appliance.backups.progress import read_progress
from tests.app.api.conftest import BACKUPS
from tests.support.accounts import signed_in_headers
from tests.support.disks import small_tmpfs
from tests.support.waiting import wait_until

UPLOAD = f"{BACKUPS}/upload"
ARCHIVE_TYPE = {"Content-Type": "application/octet-stream"}
MB = 1024 * 1024


def archive_taken_away(api) -> tuple[str, bytes]:
    """(id, bytes) of a real backup of this appliance, no longer in its
    BACKUP_PATH: as if downloaded, then lost here."""
    record = create_backup(api.settings)
    archive = api.backup_dir / record.file
    data = archive.read_bytes()
    archive.unlink()
    record_path(archive).unlink()
    return record.id, data


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body with no Content-Length: sent chunked."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def upload(api, body, headers=ARCHIVE_TYPE) -> httpx.Response:
    return await api.client.post(UPLOAD, headers={**api.admin, **headers}, content=body)


async def test_an_uploaded_archive_becomes_a_listed_backup(backup_api):
    backup_id, data = archive_taken_away(backup_api)

    answer = await upload(backup_api, data)
    listed = await backup_api.client.get(BACKUPS, headers=backup_api.admin)
    downloaded = await backup_api.client.get(
        f"{BACKUPS}/{backup_id}/download", headers=backup_api.admin
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] == backup_id
    [item] = listed.json()["items"]
    assert item["id"] == backup_id
    # Checked on the way in, but not test-restored: that is a verification.
    assert item["verification"] == "unverified"
    assert item["uploaded_at"] is not None
    assert downloaded.content == data
    assert backup_api.leftovers() == [
        f"backup-{backup_id}.tar.zst",
        f"backup-{backup_id}.tar.zst.json",
    ]
    run = read_runs(backup_api.backup_dir)[-1]
    assert (run["kind"], run["outcome"], run["size"]) == ("upload", "ok", len(data))


async def test_a_chunked_upload_is_taken_in_too(backup_api):
    backup_id, data = archive_taken_away(backup_api)

    answer = await upload(backup_api, chunks(data))

    assert answer.status_code == 201, answer.text
    assert (backup_api.backup_dir / f"backup-{backup_id}.tar.zst").read_bytes() == data


async def test_an_upload_over_the_cap_is_413_and_writes_nothing(start_backup_api):
    api = start_backup_api(BACKUP_UPLOAD_MAX_SIZE="4096")

    declared = await upload(api, ZSTD_MAGIC + b"x" * 5000)
    chunked = await upload(api, chunks(ZSTD_MAGIC + b"x" * 9000, size=1000))

    assert declared.status_code == 413
    assert chunked.status_code == 413
    assert declared.json()["code"] == chunked.json()["code"] == "payload_too_large"
    assert api.leftovers() == []
    assert read_runs(api.backup_dir) == []


def damaged_tar(api) -> bytes:
    """A real uncompressed backup with one byte of its database changed."""
    record = create_backup(api.settings)
    archive = api.backup_dir / record.file
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        offset = tar.getmember("database.sqlite3").offset_data
    data[offset + 100] ^= 0xFF
    archive.unlink()
    record_path(archive).unlink()
    return bytes(data)


def hostile_archive(name: str, link: bool = False) -> bytes:
    """A zstd tar whose manifest lists a member trying to leave its folder."""
    buffer = io.BytesIO()
    payload = b"owned\n"
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo(name)
        if link:
            entry.type, entry.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(entry)
        else:
            entry.size = len(payload)
            tar.addfile(entry, io.BytesIO(payload))
        manifest = json.dumps(
            {
                "id": "20261203T101010123Z-abcd",
                "created_at": "2026-12-03T10:10:10.123+00:00",
                "engine": "sqlite",
                "members": [{"name": name, "size": len(payload), "sha256": "0"}],
            }
        ).encode()
        entry = tarfile.TarInfo("manifest.json")
        entry.size = len(manifest)
        tar.addfile(entry, io.BytesIO(manifest))
    return zstandard.ZstdCompressor().compress(buffer.getvalue())


@pytest.mark.parametrize(
    ("body", "because"),
    [
        (b"just some bytes, not an archive" * 100, "neither"),
        (ZSTD_MAGIC + os.urandom(4096), "damaged"),
        (hostile_archive("../../escaped.txt"), "plain relative names"),
        (hostile_archive("/tmp/escaped.txt"), "plain relative names"),
        (hostile_archive("database.sqlite3", link=True), "links"),
        (zstandard.ZstdCompressor().compress(b"\0" * 10240), "no manifest"),
    ],
)
async def test_a_bad_or_hostile_archive_is_422_and_nothing_is_left(
    backup_api, tmp_path, body, because
):
    answer = await upload(backup_api, body)

    assert answer.status_code == 422, answer.text
    assert because in answer.json()["detail"]
    assert backup_api.leftovers() == []
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/escaped.txt").exists()
    assert read_runs(backup_api.backup_dir) == []


async def test_an_archive_whose_database_fails_its_checksum_is_422(start_backup_api):
    api = start_backup_api(BACKUP_COMPRESSION="false")
    body = damaged_tar(api)

    answer = await upload(api, body)

    assert answer.status_code == 422
    assert "database.sqlite3" in answer.json()["detail"]
    assert "checksum" in answer.json()["detail"]
    assert api.leftovers() == []


async def test_an_archive_already_here_is_409_and_the_first_is_untouched(
    backup_api,
):
    record = create_backup(backup_api.settings)
    archive = backup_api.backup_dir / record.file
    before = archive.read_bytes()

    answer = await upload(backup_api, before)

    assert answer.status_code == 409
    assert archive.read_bytes() == before
    assert backup_api.leftovers() == [record.file, record_path(archive).name]


async def test_an_upload_while_a_backup_runs_is_409(backup_api):
    _, data = archive_taken_away(backup_api)

    with backup_lock(backup_api.backup_dir):
        answer = await upload(backup_api, data)

    assert answer.status_code == 409
    assert backup_api.leftovers() == []


async def test_a_form_post_is_415(backup_api):
    answer = await backup_api.client.post(
        UPLOAD, headers=backup_api.admin, files={"file": ("b.tar.zst", b"x")}
    )

    assert answer.status_code == 415
    assert "octet-stream" in answer.json()["detail"]


async def test_an_upload_that_cannot_fit_is_507_and_leaves_nothing(
    start_backup_api, tmp_path
):
    with small_tmpfs(tmp_path / "small", "8m") as small:
        api = start_backup_api(BACKUP_PATH=str(small))
        # Declared: refused before a byte is read (64 MB must stay free).
        declared = await upload(api, ZSTD_MAGIC + b"x" * MB)
        # Chunked: written until the disk is full, then refused.
        filled = await upload(api, chunks(ZSTD_MAGIC + b"x" * (12 * MB), size=MB))
        left = api.leftovers()
        free_after = os.statvfs(small).f_bavail

    assert declared.status_code == 507
    assert filled.status_code == 507
    assert "free some space" in filled.json()["detail"]
    assert left == []
    assert free_after > 0


@pytest.fixture
def uvicorn_worker(backup_api, tmp_path) -> Iterator[tuple[str, psutil.Process]]:
    """The same app in a real uvicorn process of its own, on these settings."""
    port = backup_api.settings.port
    log = (tmp_path / "uvicorn.log").open("wb")
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if server.poll() is not None:
            raise RuntimeError((tmp_path / "uvicorn.log").read_text())
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200

    try:
        wait_until(answers, timeout=30, message="uvicorn answers /health")
        yield base_url, psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_an_upload_goes_to_disk_as_it_arrives_not_into_memory(
    backup_api, uvicorn_worker
):
    base_url, worker = uvicorn_worker
    headers = {**signed_in_headers(backup_api.settings, "admin"), **ARCHIVE_TYPE}
    total, half = 80 * MB, 40 * MB
    # Warm the route's code paths (imports, threads) before the baseline.
    httpx.post(f"{base_url}{UPLOAD}", headers=headers, content=b"x" * 600)
    baseline = worker.memory_info().rss
    peak, written_mid_body = baseline, 0

    def half_on_disk() -> int:
        size = partial_size(backup_api.backup_dir)
        return size if size >= half - 4 * MB else 0

    def body() -> Iterator[bytes]:
        nonlocal peak, written_mid_body
        # Starts a zstd frame, so every byte is written, not only counted.
        block = os.urandom(MB)
        yield ZSTD_MAGIC + block[len(ZSTD_MAGIC) :]
        for sent in range(MB, total, MB):
            peak = max(peak, worker.memory_info().rss)
            if sent == half:
                written_mid_body = wait_until(
                    half_on_disk, timeout=30, message="half the body on disk"
                )
            yield block
        peak = max(peak, worker.memory_info().rss)

    answer = httpx.post(
        f"{base_url}{UPLOAD}", headers=headers, content=body(), timeout=60
    )

    # Random bytes after the magic are no archive: refused, and removed.
    assert answer.status_code == 422, answer.text
    assert written_mid_body >= half - 4 * MB
    growth = peak - baseline
    print(f"worker RSS growth during an 80 MB upload: {growth / MB:.1f} MB")
    assert growth < 16 * MB
    assert backup_api.leftovers() == []


def partial_size(backup_dir: Path) -> int:
    return sum(path.stat().st_size for path in backup_dir.glob(".tmp-upload-*"))


def send_part_of_an_upload(base_url: str, headers: dict, declared: int, part: bytes):
    """Open an upload declaring `declared` bytes, send only `part` of them,
    and return the still open socket: closing it is a browser's cancel."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    head = [f"POST {UPLOAD} HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {declared}")
    connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + part)
    return connection


def test_an_upload_broken_off_midway_leaves_no_file_and_frees_the_lock(
    backup_api, uvicorn_worker, tmp_path
):
    base_url, _ = uvicorn_worker
    headers = {**signed_in_headers(backup_api.settings, "admin"), **ARCHIVE_TYPE}
    part = ZSTD_MAGIC + os.urandom(3 * MB)

    connection = send_part_of_an_upload(base_url, headers, 64 * MB, part)
    wait_until(
        lambda: partial_size(backup_api.backup_dir) >= 2 * MB,
        timeout=30,
        message="the first part on disk",
    )
    connection.close()
    wait_until(
        lambda: backup_api.leftovers() == [],
        timeout=30,
        message="the partial upload removed",
    )

    progress = read_progress(backup_api.backup_dir)
    assert (progress["kind"], progress["phase"], progress["finished"]) == (
        "upload",
        "failed",
        True,
    )
    # The lock went with the request: the next upload is taken in.
    backup_id, data = archive_taken_away(backup_api)
    answer = httpx.post(f"{base_url}{UPLOAD}", headers=headers, content=data)
    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] == backup_id
    log = (tmp_path / "uvicorn.log").read_text()
    assert "Traceback" not in log, log
