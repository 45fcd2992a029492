"""Fixtures of the whole-system tests."""

from tests.support.browser import browser, new_page  # noqa: F401
