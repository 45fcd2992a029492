from __future__ import annotations

import json
import logging
import os
import re
import threading

import httpx
import pytest
import uvicorn

from appliance.logs.file_handler import SharedFileHandler
from appliance.logs.setup import UnknownRoleError, configure_logging
from appliance.settings import Settings
from tests.support.network import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.usefixtures("restore_logging")

SECRET = "sk-live-4f9c2b7e"
TOKEN = 'metrics"token\\42'
TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO     worker\[\d+\] "
    r"shop\.orders: order 7 paid$"
)


def settings_for(data_dir, **overrides) -> Settings:
    return Settings(data_dir=data_dir, **overrides)


def file_lines(settings: Settings) -> list[str]:
    return settings.log_file_path.read_text().splitlines()


def test_json_lines_carry_time_level_logger_role_pid_and_extras(data_dir, capsys):
    settings = settings_for(data_dir, log_format="json")
    configure_logging(settings, "scheduler")

    logging.getLogger("shop.orders").info("order %d paid", 7, extra={"job": "backup"})

    [line] = file_lines(settings)
    record = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])
    assert record["level"] == "INFO"
    assert record["logger"] == "shop.orders"
    assert record["role"] == "scheduler"
    assert record["pid"] > 0
    assert record["message"] == "order 7 paid"
    assert record["job"] == "backup"
    assert capsys.readouterr().out == line + "\n"


def test_json_traceback_stays_on_one_line(data_dir):
    settings = settings_for(data_dir, log_format="json")
    configure_logging(settings, "worker")

    try:
        raise RuntimeError("disk\nfull")
    except RuntimeError:
        logging.getLogger("shop").exception("refund failed\nfor order 9")

    [line] = file_lines(settings)
    record = json.loads(line)
    assert record["message"] == "refund failed\nfor order 9"
    assert record["exc_info"].startswith("Traceback (most recent call last):")
    assert record["exc_info"].endswith("RuntimeError: disk\nfull")


def test_text_lines_name_role_and_pid(data_dir, capsys):
    settings = settings_for(data_dir, log_format="text")
    configure_logging(settings, "worker")

    logging.getLogger("shop.orders").info("order %d paid", 7)

    [line] = file_lines(settings)
    assert TEXT_LINE.match(line), line
    assert capsys.readouterr().out == line + "\n"


def test_user_percent_format_is_used_as_given(data_dir):
    seed_format = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
    settings = settings_for(data_dir, log_format=seed_format)
    configure_logging(settings, "worker")

    logging.getLogger("shop.orders").warning("stock low")

    [line] = file_lines(settings)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - shop\.orders - WARNING - stock low",
        line,
    )


def test_user_format_asking_for_the_caller_still_gets_it(data_dir):
    configure_logging(settings_for(data_dir, log_format="json"), "worker")
    settings = settings_for(data_dir, log_format="%(funcName)s:%(message)s")
    configure_logging(settings, "worker")

    logging.getLogger("shop").warning("here")

    assert file_lines(settings)[-1] == (
        "test_user_format_asking_for_the_caller_still_gets_it:here"
    )


def test_log_level_drops_lower_records(data_dir):
    settings = settings_for(data_dir, log_format="json", log_level="WARNING")
    configure_logging(settings, "worker")

    logging.getLogger("shop").info("routine")
    logging.getLogger("shop").warning("unusual")

    assert [json.loads(line)["message"] for line in file_lines(settings)] == ["unusual"]


def test_http_clients_log_no_line_per_request(data_dir):
    # httpx's INFO lines carry whole URLs: upload ids, signed query strings.
    settings = settings_for(data_dir, log_format="json", log_level="INFO")
    configure_logging(settings, "scheduler")

    logging.getLogger("httpx").info("HTTP Request: PUT http://s3/key?uploadId=1")
    logging.getLogger("httpx").warning("unusual")

    assert [json.loads(line)["message"] for line in file_lines(settings)] == ["unusual"]


def test_configuring_twice_writes_each_line_once(data_dir):
    settings = settings_for(data_dir, log_format="json")
    configure_logging(settings, "worker")
    configure_logging(settings, "worker")

    logging.getLogger("shop").info("once")
    logging.getLogger("uvicorn.error").info("once too")

    assert len(file_lines(settings)) == 2


def test_unknown_role_is_refused(data_dir):
    with pytest.raises(UnknownRoleError):
        configure_logging(settings_for(data_dir), "janitor")


def test_cli_logs_to_stderr_so_stdout_stays_for_results(data_dir, capsys):
    configure_logging(settings_for(data_dir, log_format="json"), "cli")

    logging.getLogger("appliance.backups").info("backup written")

    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["role"] == "cli"


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_secrets_from_settings_never_reach_a_line(data_dir, capsys, log_format):
    settings = settings_for(
        data_dir,
        log_format=log_format,
        openai_api_key=SECRET,
        metrics_token=TOKEN,
    )
    configure_logging(settings, "worker")

    shop = logging.getLogger("shop")
    shop.info("calling provider with key %s", SECRET)
    shop.info("scrape", extra={"header": f"Bearer {TOKEN}", "token": TOKEN})
    shop.info("GET /metrics Authorization: Bearer abc.DEF-123")
    shop.info("GET /api/v1/customer/chat?token=opaque42&lang=zh")
    try:
        raise ValueError(f"rejected key {SECRET}")
    except ValueError:
        shop.exception("provider refused")

    written = settings.log_file_path.read_text() + capsys.readouterr().out
    for leaked in (SECRET, TOKEN, json.dumps(TOKEN)[1:-1], "abc.DEF-123", "opaque42"):
        assert leaked not in written
    assert "[REDACTED]" in written
    assert "lang=zh" in written


def test_unwritable_log_file_is_reported_once_and_stdout_goes_on(tmp_path, capsys):
    # Root ignores file modes, so make the folder impossible instead: a file.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = Settings(
        data_dir=tmp_path, log_format="json", log_file_path=blocker / "app.log"
    )
    configure_logging(settings, "worker")

    for number in range(3):
        logging.getLogger("shop").info("still logging %d", number)

    captured = capsys.readouterr()
    assert [json.loads(line)["message"] for line in captured.out.splitlines()] == [
        "still logging 0",
        "still logging 1",
        "still logging 2",
    ]
    [report] = captured.err.splitlines()
    assert report.startswith(f"logging: cannot write {blocker / 'app.log'}: ")
    assert "keeps logging to stdout only" in report


def test_log_folder_is_created_on_first_line(data_dir):
    settings = settings_for(data_dir, log_file_path=data_dir / "deep" / "er" / "a.log")
    configure_logging(settings, "worker")

    logging.getLogger("shop").info("first")

    assert settings.log_file_path.read_text().endswith(" shop: first\n")


async def hello_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


def serve_once(settings: Settings, path: str) -> None:
    """Run uvicorn the way a worker does, answer one request, stop."""
    port = free_port()
    config = uvicorn.Config(
        hello_app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=settings.access_log,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=10, message="uvicorn started")
        httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    finally:
        server.should_exit = True
        thread.join(10)


def test_uvicorn_access_and_error_lines_use_the_same_json_format(data_dir):
    settings = settings_for(data_dir, log_format="json")
    configure_logging(settings, "worker")

    serve_once(settings, "/orders?token=opaque42")

    records = [json.loads(line) for line in file_lines(settings)]
    [access] = [record for record in records if record["logger"] == "uvicorn.access"]
    assert access["role"] == "worker"
    assert access["method"] == "GET"
    assert access["status"] == 200
    assert access["path"] == "/orders?token=[REDACTED]"
    assert any(record["logger"] == "uvicorn.error" for record in records)


def test_access_log_off_keeps_only_server_lifecycle_lines(data_dir):
    settings = settings_for(data_dir, log_format="text", access_log=False)
    configure_logging(settings, "worker")

    serve_once(settings, "/orders")

    text = settings.log_file_path.read_text()
    assert "uvicorn.access" not in text
    assert re.search(r"worker\[\d+\] uvicorn\.error: ", text)


def test_forked_child_opens_its_own_log_file(data_dir):
    settings = settings_for(data_dir, log_format="json")
    configure_logging(settings, "worker")
    logging.getLogger("shop").info("from parent")
    [handler] = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, SharedFileHandler)
    ]
    inherited = (handler.log_fd, handler.lock_fd)

    child = os.fork()
    if child == 0:
        forgot = handler.log_fd is None and handler.lock_fd is None
        logging.getLogger("shop").info("from child")
        os._exit(0 if forgot else 1)

    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (handler.log_fd, handler.lock_fd) == inherited
    logging.getLogger("shop").info("parent again")
    messages = [json.loads(line)["message"] for line in file_lines(settings)]
    assert messages == ["from parent", "from child", "parent again"]
