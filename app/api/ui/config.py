"""What the static UI needs to know about this deployment, as JSON.

The pages in frontend-dist/ are plain files, the same for every install, so
the few settings they show or obey (name, languages, upload limits) come
from here instead of being templated into the HTML.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.uploads.images import accepted_extensions
from appliance.settings import Settings

router = APIRouter(prefix="/api/v1/ui", tags=["web ui"])

UI_LANGUAGES = ("zh", "en")
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}


class UploadLimits(BaseModel):
    max_bytes: int
    extensions: list[str]
    content_types: list[str]


class UiConfig(BaseModel):
    app_name: str
    app_version: str
    languages: list[Literal["zh", "en"]]
    default_language: Literal["zh", "en"]
    upload: UploadLimits


@router.get("/config")
def read_ui_config(request: Request) -> UiConfig:
    """Public: the app's name, its languages and the upload limits."""
    return ui_config(request.app.state.settings)


def ui_config(settings: Settings) -> UiConfig:
    languages = [
        language
        for language in settings.next_public_supported_languages
        if language in UI_LANGUAGES
    ] or [settings.next_public_default_language]
    default = settings.next_public_default_language
    return UiConfig(
        app_name=shown_app_name(settings),
        app_version=settings.next_public_app_version,
        languages=languages,
        default_language=default if default in languages else languages[0],
        upload=upload_limits(settings),
    )


def shown_app_name(settings: Settings) -> str:
    # NEXT_PUBLIC_APP_NAME defaults to the same text as APP_NAME; only an
    # explicit value should win over the name the owner gave the appliance.
    if "next_public_app_name" in settings.model_fields_set:
        return settings.next_public_app_name
    return settings.app_name


def upload_limits(settings: Settings) -> UploadLimits:
    extensions = accepted_extensions(settings)
    content_types = sorted({CONTENT_TYPES[ext] for ext in extensions})
    return UploadLimits(
        # The UI offers no more than the server would take.
        max_bytes=min(settings.next_public_upload_max_size, settings.max_file_size),
        extensions=extensions,
        content_types=content_types,
    )
