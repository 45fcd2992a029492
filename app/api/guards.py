"""Checks every request passes before a route sees it: size, rate, origin."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app.api.body_limit import install_body_limit
from app.api.rate_limit import CustomerRateLimit
from appliance.settings import Settings


def install_request_guards(app: FastAPI, settings: Settings) -> None:
    """Add the guards, innermost first: a refused request still gets CORS
    headers, so a browser script can read the 413 or 429 it was sent."""
    install_body_limit(app, settings)
    app.add_middleware(CustomerRateLimit, settings=settings)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=settings.cors_credentials,
        allow_methods=settings.cors_methods,
        allow_headers=settings.cors_headers,
        max_age=600,
    )
