"""Whether the appliance on these settings answers, and is ready.

Plain HTTP to the appliance's own address, as `customer-service health`
does: whatever serves there is what customers reach.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from appliance.health.probe import local_base_url
from appliance.settings import Settings

PROBE_TIMEOUT_SECONDS = 2


def answers_ready(settings: Settings) -> bool:
    return http_status(settings, "/health/ready") == 200


def answers_health(settings: Settings) -> bool:
    return http_status(settings, "/health") is not None


def http_status(settings: Settings, path: str) -> int | None:
    url = local_base_url(settings) + path
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None
