"""Build the FastAPI application that every API worker serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.ai.providers import close_clients as close_model_clients
from app.ai.providers import warm_clients as warm_model_clients
from app.api import health
from app.api.admin import attachments as admin_attachments
from app.api.admin import auth as admin_auth
from app.api.admin import backup_restore as admin_backup_restore
from app.api.admin import backup_status as admin_backup_status
from app.api.admin import backup_upload as admin_backup_upload
from app.api.admin import backups as admin_backups
from app.api.admin import conversations as admin_conversations
from app.api.admin import faq as admin_faq
from app.api.admin import system as admin_system
from app.api.admin import users as admin_users
from app.api.customer import conversations as customer_conversations
from app.api.customer import uploads as customer_uploads
from app.api.errors import install_error_handlers
from app.api.guards import install_request_guards
from app.api.metrics import install_metrics
from app.api.ui import config as ui_config
from app.chat.feed import MessageFeed
from app.db.engine import dispose_engines
from app.web.static import StaticUI
from appliance import __version__
from appliance.settings import Settings, load_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    feed = app.state.chat_feed
    # Started now, while the worker runs: by the time the lifespan's shutdown
    # half runs, uvicorn has already waited for the streams to end.
    watcher = asyncio.create_task(feed.end_streams_when_draining())
    await warm_model_clients(app.state.settings)
    yield
    watcher.cancel()
    await feed.stop()
    await close_model_clients()
    # Close pooled connections on a graceful stop, so PostgreSQL does not log
    # every worker restart as an unexpected disconnect.
    dispose_engines()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Started by the first customer event stream, stopped with the worker.
    app.state.chat_feed = MessageFeed(settings)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(customer_uploads.router)
    app.include_router(admin_attachments.router)
    app.include_router(admin_auth.router)
    app.include_router(admin_users.router)
    app.include_router(admin_faq.router)
    # Before the backups router, whose /{backup_id} would take /status.
    app.include_router(admin_backup_status.router)
    app.include_router(admin_backup_upload.router)
    app.include_router(admin_backup_restore.router)
    app.include_router(admin_backups.router)
    app.include_router(customer_conversations.router)
    app.include_router(admin_conversations.router)
    app.include_router(admin_system.router)
    app.include_router(ui_config.router)
    install_request_guards(app, settings)
    # After the guards, so it wraps them and counts what they refuse.
    install_metrics(app, settings)

    # Last, so every API route wins over a file of the same name.
    app.mount("/", StaticUI(cors_origins=settings.cors_origins), name="ui")
    return app
