"""Render the supervisord configuration that `serve` runs in-process.

The file is written into the run folder on every start, so operators can
point `supervisorctl -c DATA_DIR/run/supervisord.conf` at the live process.
"""

from __future__ import annotations

import math
import os
import shlex

from appliance.settings import Settings
from appliance.supervision.layout import (
    API_PROGRAM,
    SCHEDULER_PROGRAM,
    child_command,
    control_socket_path,
    supervisord_config_path,
    supervisord_log_path,
    supervisord_pid_path,
)

# A child that dies within this many seconds of its start counts as a failed
# start: supervisord backs off and, after START_RETRIES, gives up.
START_SECONDS = 1
START_RETRIES = 3

# Children keep serve's own stdout and stderr (ApplianceOptions.dup2), so
# supervisord has nothing to capture.
CHILD_OUTPUT = """\
stdout_logfile = NONE
redirect_stderr = true"""


def escape(value: object) -> str:
    """Protect a value from supervisord's %(name)s expansion."""
    return str(value).replace("%", "%%")


def render_supervisord_config(settings: Settings) -> str:
    sections = [
        render_supervisord_section(settings),
        render_control_sections(settings),
        render_api_section(settings),
        render_scheduler_section(settings),
    ]
    return "\n\n".join(sections) + "\n"


def render_supervisord_section(settings: Settings) -> str:
    # silent: our own lifecycle lines already say what supervisord would.
    return f"""\
[supervisord]
nodaemon = true
silent = true
identifier = customer-service
logfile = {escape(supervisord_log_path(settings))}
logfile_maxbytes = 10MB
logfile_backups = 2
loglevel = warn
pidfile = {escape(supervisord_pid_path(settings))}
childlogdir = {escape(settings.run_dir)}"""


def render_control_sections(settings: Settings) -> str:
    socket_path = escape(control_socket_path(settings))
    return f"""\
[unix_http_server]
file = {socket_path}
chmod = 0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://{socket_path}"""


def render_api_section(settings: Settings) -> str:
    return f"""\
[fcgi-program:{API_PROGRAM}]
socket = tcp://{escape(settings.host)}:{settings.port}
command = {render_command("worker")}
numprocs = {settings.workers}
process_name = {API_PROGRAM}_%(process_num)02d
{render_restart_policy(settings)}
{CHILD_OUTPUT}"""


def render_scheduler_section(settings: Settings) -> str:
    return f"""\
[program:{SCHEDULER_PROGRAM}]
command = {render_command("scheduler")}
{render_restart_policy(settings)}
{CHILD_OUTPUT}"""


def render_restart_policy(settings: Settings) -> str:
    # supervisord sends SIGKILL after stopwaitsecs; the children drain for at
    # most TIMEOUT themselves, so the SIGKILL is only a backstop.
    return f"""\
autostart = true
autorestart = true
startsecs = {START_SECONDS}
startretries = {START_RETRIES}
exitcodes = 0
stopsignal = TERM
stopwaitsecs = {math.ceil(settings.timeout)}"""


def render_command(subcommand: str) -> str:
    return escape(shlex.join(child_command(subcommand)))


def write_supervisord_config(settings: Settings) -> str:
    """Write the configuration (owner-only) and return its path."""
    path = supervisord_config_path(settings)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(render_supervisord_config(settings))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return str(path)
