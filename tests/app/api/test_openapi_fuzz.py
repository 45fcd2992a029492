"""schemathesis against /openapi.json: no 5xx and no answer outside the schema."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.chat.service import start_conversation
from app.main import create_app
from app.setup import prepare_database
from appliance.health.checks import scheduler_heartbeat_path, touch_heartbeat
from appliance.settings import Settings
from tests.support.accounts import signed_in_headers

pytestmark = pytest.mark.slow


@pytest.fixture
def api_schema(tmp_path):
    app_settings = Settings(
        data_dir=tmp_path / "data",
        rate_limit_per_minute=1_000_000,
        jwt_secret_key="fuzz-signing-key-that-is-long-enough-for-hs256",
        scheduler_heartbeat_timeout=3600,
    )
    assert prepare_database(app_settings) == 0
    touch_heartbeat(scheduler_heartbeat_path(app_settings))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(app_settings))
    conversation, token = start_conversation(app_settings, "zh")
    customer = Customer(conversation.id, {"Authorization": f"Bearer {token}"})
    return schema, signed_in_headers(app_settings, role="admin"), customer


@dataclass(frozen=True)
class Customer:
    conversation_id: int
    headers: dict[str, str]

    def owns(self, case) -> None:
        """Point `case` at this customer's conversation."""
        if "conversation_id" in (case.path_parameters or {}):
            case.path_parameters["conversation_id"] = self.conversation_id
        if isinstance(case.body, dict) and "conversation_id" in case.body:
            case.body["conversation_id"] = str(self.conversation_id)


def test_api_never_fails_and_never_leaves_its_schema(api_schema):
    # One hypothesis run per operation, driven here rather than through
    # schemathesis's pytest plugin, which does not work with pytest 9.
    schema, admin_headers, customer = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        exercise(operation, headers_for(operation.path, admin_headers))
        if opens_with_a_token(operation.path):
            exercise(operation, customer.headers, customer.owns)


def headers_for(path: str, admin_headers: dict[str, str]) -> dict[str, str]:
    # Signing out would end the session every later admin call relies on.
    if path.startswith("/api/v1/admin/") and not path.endswith("/logout"):
        return admin_headers
    return {}


def opens_with_a_token(path: str) -> bool:
    # With a valid token the events stream stays open for good: it has its
    # own tests, and here it would never return.
    customer = path.startswith("/api/v1/customer/")
    return customer and not path.endswith("/events")


def exercise(operation, headers: dict[str, str], prepare=lambda case: None) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case) -> None:
        prepare(case)
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    call()
