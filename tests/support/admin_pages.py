"""Signing in to the admin pages in a real browser, for the e2e UI tests.

    appliance = start_appliance(JWT_SECRET_KEY=JWT_SECRET)
    sign_in(page, appliance, account(appliance, "admin"), "zh")

Accounts are made straight in the appliance's database (see accounts.py);
the sign-in itself goes through the page, as a person would do it.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from appliance.settings import Settings
from tests.support.accounts import DEFAULT_PASSWORD, create_account, signed_in_headers

JWT_SECRET = "e2e-admin-ui-secret-that-is-long-enough-0123456789"


def appliance_settings(appliance) -> Settings:
    return Settings(data_dir=Path(appliance.env["DATA_DIR"]), jwt_secret_key=JWT_SECRET)


def account(appliance, role: str) -> str:
    """A new account's email; its password is DEFAULT_PASSWORD."""
    return create_account(appliance_settings(appliance), role=role).email


def bearer(appliance, role: str) -> dict[str, str]:
    """Headers of a new signed-in account, for calls beside the page."""
    return signed_in_headers(appliance_settings(appliance), role=role)


def sign_in(page, appliance, email: str, language: str = "en") -> None:
    page.goto(f"{appliance.base_url}/admin/?lang={language}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("#sign-out")).to_be_visible()


def open_admin_page(page, appliance, route: str, language: str = "en") -> None:
    """Sign in as a new admin and go to `#/route`."""
    sign_in(page, appliance, account(appliance, "admin"), language)
    page.goto(f"{appliance.base_url}/admin/?lang={language}#/{route}")
