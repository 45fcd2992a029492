"""`GET /api/v1/admin/system`: admins only, and what the System page reads."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime

import pytest

from appliance.metrics.lifecycle import MULTIPROC_ENV, metrics_dir, prepare_metrics_dir
from appliance.metrics.sample_store import samples_path
from appliance.metrics.sampler import SystemSampler
from appliance.scheduler.history import JOB_HISTORY
from tests.appliance.metrics.metric_writers import record_requests

SYSTEM = "/api/v1/admin/system"


async def test_system_status_needs_an_admin(backup_api):
    anonymous = await backup_api.client.get(SYSTEM)
    agent = await backup_api.client.get(SYSTEM, headers=backup_api.agent)

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert agent.status_code == 403
    assert agent.json()["code"] == "forbidden"


async def test_system_status_shows_health_this_process_and_disk_use(backup_api):
    settings = backup_api.settings
    settings.upload_path.mkdir(parents=True, exist_ok=True)
    (settings.upload_path / "2026").mkdir()
    (settings.upload_path / "2026" / "photo.webp").write_bytes(b"x" * 1000)
    settings.backup_path.mkdir(parents=True, exist_ok=True)
    (settings.backup_path / "backup-a.tar.zst").write_bytes(b"y" * 3000)

    answer = await backup_api.client.get(SYSTEM, headers=backup_api.admin)

    assert answer.status_code == 200
    status = answer.json()
    assert set(status["health"]["checks"]) == {
        "database",
        "disk",
        "scheduler",
        "backup",
    }
    assert status["health"]["checks"]["database"] == "ok"
    # No scheduler runs beside an in-process app: readiness fails on it.
    assert status["health"]["status"] == "fail"
    processes = status["processes"]
    assert processes["supervised"] is False
    [me] = processes["items"]
    assert me["pid"] == os.getpid() and me["rss_bytes"] > 0
    disk = status["disk"]
    assert disk["path"] == str(settings.data_dir)
    assert disk["used_bytes"] + disk["free_bytes"] <= disk["total_bytes"]
    # The write-ahead log counts too.
    assert disk["database_bytes"] >= settings.sqlite_database_path.stat().st_size
    assert disk["uploads_bytes"] == 1000
    assert disk["backups_bytes"] >= 3000
    assert (status["samples"], status["jobs"]) == ([], [])
    assert status["sample_interval_seconds"] == 15


async def test_system_status_charts_the_sampler_s_samples_and_job_runs(
    backup_api, monkeypatch
):
    settings = backup_api.settings
    monkeypatch.setenv(MULTIPROC_ENV, str(metrics_dir(settings)))
    prepare_metrics_dir(settings)
    sampler = SystemSampler()
    sampler(settings)
    record_requests(
        metrics_dir(settings),
        ("GET", "/health", 200, 0.01, 9),
        ("GET", "/x", 503, 0.2, 1),
    )
    JOB_HISTORY.record("log-rotation", "success", time.time(), 0.004)
    sampler(settings)

    status = (await backup_api.client.get(SYSTEM, headers=backup_api.admin)).json()

    first, second = status["samples"]
    assert first["requests_per_second"] is None
    assert second["error_ratio"] == 0.1
    assert 0.005 < second["p50_seconds"] <= 0.01
    assert second["requests_per_second"] * second["interval_seconds"] == (
        pytest.approx(10, abs=0.1)
    )
    assert second["memory"][0]["pid"] == os.getpid()
    assert second["rss_bytes"] == sum(m["rss_bytes"] for m in second["memory"])
    assert datetime.fromisoformat(first["at"]) <= datetime.fromisoformat(second["at"])
    [rotation] = [job for job in status["jobs"] if job["job"] == "log-rotation"]
    assert rotation["outcome"] == "success" and rotation["duration_seconds"] == 0.004


async def test_system_status_skips_old_and_damaged_samples(backup_api):
    path = samples_path(backup_api.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    samples = [
        {"at": now - 2 * 3600, "rss": []},  # from before the appliance stopped
        {"at": now - 10, "rss": [["worker"]]},
        {"at": now - 5, "rps": "many", "rss": []},
        {"at": now - 1, "rps": 2.0, "rss": [["worker", 7, 1024]]},
    ]
    jobs = [{"job": "backup"}, {"job": "heartbeat", "started_at": 1e300}]
    path.write_text(json.dumps({"version": 1, "samples": samples, "jobs": jobs}))

    answer = await backup_api.client.get(SYSTEM, headers=backup_api.admin)

    assert answer.status_code == 200
    [sample] = answer.json()["samples"]
    assert (sample["requests_per_second"], sample["rss_bytes"]) == (2.0, 1024)
    assert answer.json()["jobs"] == []


async def test_since_leaves_out_the_samples_a_polling_page_already_has(backup_api):
    path = samples_path(backup_api.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    samples = [{"at": now - age, "rss": []} for age in (30, 20, 10)]
    path.write_text(json.dumps({"version": 1, "samples": samples, "jobs": []}))
    every = (await backup_api.client.get(SYSTEM, headers=backup_api.admin)).json()

    newer = await backup_api.client.get(
        SYSTEM,
        params={"since": every["samples"][1]["at"]},
        headers=backup_api.admin,
    )

    assert len(every["samples"]) == 3
    assert [sample["at"] for sample in newer.json()["samples"]] == [
        every["samples"][2]["at"]
    ]
