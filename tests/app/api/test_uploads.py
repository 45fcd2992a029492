"""`POST /api/v1/customer/upload-image` and serving the images back."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image
from prometheus_client import REGISTRY
from sqlmodel import func, select

from app.api.body_limit import MULTIPART_ALLOWANCE
from app.auth.dependencies import require_agent
from app.chat.access import hash_conversation_token, new_conversation_token
from app.db.engine import write_engine
from app.db.models import Attachment, Conversation, User
from app.db.session import session_scope
from app.main import create_app
from appliance.settings import Settings
from tests.support import images

UPLOAD = "/api/v1/customer/upload-image"


@pytest.fixture
def settings(migrated_database: Settings) -> Settings:
    return migrated_database.model_copy(
        update={
            "max_file_size": 256 * 1024,
            "image_max_width": 120,
            "image_max_height": 90,
        }
    )


def start_conversation(settings: Settings) -> tuple[int, str]:
    token = new_conversation_token()
    with session_scope(settings, write=True) as session:
        conversation = Conversation(public_token_hash=hash_conversation_token(token))
        session.add(conversation)
        session.flush()
        return conversation.id, token


def client_for(settings: Settings, agent: User | None = None) -> httpx.AsyncClient:
    app = create_app(settings)
    if agent is not None:
        app.dependency_overrides[require_agent] = lambda: agent
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://app")


async def upload(
    client: httpx.AsyncClient,
    conversation: tuple[int, str],
    content: bytes,
    filename: str = "photo.jpg",
) -> httpx.Response:
    conversation_id, token = conversation
    return await client.post(
        UPLOAD,
        data={"conversation_id": str(conversation_id)},
        files={"file": (filename, content, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )


def stored_files(settings: Settings) -> list:
    if not settings.upload_path.exists():
        return []
    return [path for path in settings.upload_path.rglob("*") if path.is_file()]


def attachment_count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.exec(select(func.count()).select_from(Attachment)).one()


def assert_nothing_stored(settings: Settings) -> None:
    assert stored_files(settings) == []
    assert attachment_count(settings) == 0


async def test_jpeg_is_stored_resized_and_without_exif(settings):
    conversation = start_conversation(settings)
    async with client_for(settings) as client:
        response = await upload(client, conversation, images.jpeg_with_gps(480, 240))

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == (
        "image/jpeg",
        120,
        60,
    )
    [path] = stored_files(settings)
    assert path.suffix == ".jpg" and "photo" not in path.name
    assert body["size_bytes"] == path.stat().st_size
    kept = Image.open(path)
    assert kept.size == (120, 60)
    assert not kept.getexif()
    with session_scope(settings) as session:
        attachment = session.get(Attachment, body["attachment_id"])
    assert attachment.conversation_id == conversation[0]
    assert attachment.message_id is None


async def test_png_with_alpha_keeps_transparency(settings):
    conversation = start_conversation(settings)
    async with client_for(settings) as client:
        response = await upload(
            client, conversation, images.png_with_alpha(), "logo.png"
        )

    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/png"
    [path] = stored_files(settings)
    assert Image.open(path).mode == "RGBA"


def rejected_too_large() -> float:
    labels = {"reason": "too_large"}
    name = "customer_service_uploads_rejected_total"
    return REGISTRY.get_sample_value(name, labels) or 0.0


# Just over the file cap, seen by the route; and far over the body cap,
# refused from its declared length before a byte is read.
@pytest.mark.parametrize("extra", [1, 2 * MULTIPART_ALLOWANCE], ids=["file", "body"])
async def test_oversized_body_is_refused_with_413_and_nothing_stored(settings, extra):
    conversation = start_conversation(settings)
    oversized = images.jpeg(64, 48) + b"\0" * (settings.max_file_size + extra)
    counted = rejected_too_large()
    async with client_for(settings) as client:
        response = await upload(client, conversation, oversized)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert rejected_too_large() == counted + 1
    assert_nothing_stored(settings)


async def test_oversized_streamed_body_is_refused_without_content_length(settings):
    conversation_id, token = start_conversation(settings)
    boundary = "upload-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="conversation_id"'
        f"\r\n\r\n{conversation_id}\r\n--{boundary}\r\nContent-Disposition: "
        'form-data; name="file"; filename="big.jpg"\r\n\r\n'
    ).encode()
    sent = 0

    async def body():
        nonlocal sent
        yield head
        for _ in range(64):
            sent += 16 * 1024
            yield b"\0" * 16 * 1024

    counted = rejected_too_large()
    async with client_for(settings) as client:
        response = await client.post(
            UPLOAD,
            content=body(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )

    assert response.status_code == 413
    assert rejected_too_large() == counted + 1
    assert_nothing_stored(settings)


@pytest.mark.parametrize(
    "content, status",
    [
        (images.decompression_bomb_png(30000, 30000), 422),
        (images.decompression_bomb_png(2000, 2000), 422),
        (images.EPS, 415),
        (images.HTML, 415),
        (b"", 422),
        (images.truncated_jpeg(), 422),
    ],
    ids=["bomb", "bomb-under-pillow-limit", "eps", "html", "empty", "truncated"],
)
async def test_hostile_file_named_png_is_refused_and_nothing_stored(
    settings, content, status
):
    conversation = start_conversation(settings)
    async with client_for(settings) as client:
        response = await upload(client, conversation, content, "cat.png")

    assert response.status_code == status, response.text
    assert response.json()["code"] in ("invalid", "unsupported_media_type")
    assert_nothing_stored(settings)


async def test_bomb_answer_says_too_large_when_decoded(settings):
    conversation = start_conversation(settings)
    bomb = images.decompression_bomb_png(30000, 30000)
    async with client_for(settings) as client:
        response = await upload(client, conversation, bomb, "cat.png")

    assert "image too large when decoded" in response.json()["detail"]


async def test_type_missing_from_allowed_extensions_is_415_listing_accepted(
    settings,
):
    no_png = settings.model_copy(update={"allowed_extensions": ["jpg", "gif"]})
    conversation = start_conversation(no_png)
    async with client_for(no_png) as client:
        response = await upload(client, conversation, images.png(), "shot.jpg")

    assert response.status_code == 415
    assert response.json()["detail"].endswith("jpg, gif")
    assert_nothing_stored(no_png)


async def test_another_conversations_token_is_404_on_upload(settings):
    mine = start_conversation(settings)
    theirs = start_conversation(settings)
    async with client_for(settings) as client:
        response = await upload(client, (mine[0], theirs[1]), images.jpeg())

    assert response.status_code == 404
    assert_nothing_stored(settings)


async def test_missing_token_is_404_on_upload(settings):
    conversation_id, _ = start_conversation(settings)
    async with client_for(settings) as client:
        response = await upload(client, (conversation_id, ""), images.jpeg())

    assert response.status_code == 404


async def test_missing_file_field_is_422(settings):
    conversation_id, token = start_conversation(settings)
    async with client_for(settings) as client:
        response = await client.post(
            UPLOAD,
            data={"conversation_id": str(conversation_id)},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


async def uploaded(client, conversation) -> dict:
    response = await upload(client, conversation, images.jpeg(80, 60))
    assert response.status_code == 201, response.text
    return response.json()


async def test_customer_downloads_with_safe_headers(settings):
    conversation = start_conversation(settings)
    async with client_for(settings) as client:
        body = await uploaded(client, conversation)
        response = await client.get(
            body["url"], headers={"Authorization": f"Bearer {conversation[1]}"}
        )

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["content-disposition"].startswith("inline; filename=")
    assert response.headers["cache-control"] == "private, max-age=3600"
    assert Image.open(io.BytesIO(response.content)).size == (80, 60)


async def test_another_conversations_token_is_404_on_download(settings):
    mine = start_conversation(settings)
    theirs = start_conversation(settings)
    async with client_for(settings) as client:
        body = await uploaded(client, mine)
        wrong_token = await client.get(
            body["url"], headers={"Authorization": f"Bearer {theirs[1]}"}
        )
        # Their own token, with the attachment id moved under their conversation.
        moved = await client.get(
            f"/api/v1/customer/conversations/{theirs[0]}"
            f"/attachments/{body['attachment_id']}",
            headers={"Authorization": f"Bearer {theirs[1]}"},
        )

    assert wrong_token.status_code == 404
    assert moved.status_code == 404


async def test_agent_downloads_any_attachment(settings):
    conversation = start_conversation(settings)
    agent = User(id=1, email="agent@example.com", password_hash="x")
    async with client_for(settings, agent=agent) as client:
        body = await uploaded(client, conversation)
        response = await client.get(
            f"/api/v1/admin/attachments/{body['attachment_id']}"
        )
        missing = await client.get("/api/v1/admin/attachments/999999")

    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert missing.status_code == 404


async def test_admin_download_without_sign_in_is_401(settings):
    conversation = start_conversation(settings)
    async with client_for(settings) as client:
        body = await uploaded(client, conversation)
        response = await client.get(
            f"/api/v1/admin/attachments/{body['attachment_id']}"
        )

    assert response.status_code == 401


async def test_failed_database_insert_leaves_no_file(settings):
    conversation = start_conversation(settings)
    # A real failure on both engines: the table is gone when the row goes in.
    Attachment.__table__.drop(bind=write_engine(settings))
    async with client_for(settings) as client:
        response = await upload(client, conversation, images.jpeg())

    assert response.status_code == 503
    assert stored_files(settings) == []
