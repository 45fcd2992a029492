"""`customer-service health`: one real round trip to `/health/ready`.

It is the container's HEALTHCHECK, so it uses only the standard library
(no curl in the image, no heavy imports) and answers well within a second.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from appliance.exit_codes import EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.settings import Settings

WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def local_base_url(settings: Settings) -> str:
    host = WILDCARD_HOSTS.get(settings.host, settings.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def probe_readiness(
    settings: Settings, url: str | None = None, timeout: float = 0.8
) -> int:
    target = (url or local_base_url(settings)).rstrip("/") + "/health/ready"
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310
            print(f"ready: {target} answered {response.status}")
            return EXIT_OK
    except urllib.error.HTTPError as exc:
        print(f"not ready: {describe_failure(exc)}", file=sys.stderr)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"not ready: {target} did not answer: {reason}", file=sys.stderr)
    return EXIT_RUNTIME_FAILURE


def describe_failure(error: urllib.error.HTTPError) -> str:
    try:
        checks = json.loads(error.read(64 * 1024))["checks"]
    except (ValueError, KeyError, TypeError, OSError):
        return f"HTTP {error.code}"
    failing = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    return f"HTTP {error.code}; " + "; ".join(failing)
