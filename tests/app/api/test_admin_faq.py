"""The admin FAQ API: who may do what, CRUD, import, demo removal, preview."""

from __future__ import annotations

import json

import httpx
import pytest

from app.api.errors import ApiError, Problem
from app.auth.dependencies import require_admin, require_agent
from app.db.models import User, UserRole
from app.knowledge.demo import load_demo_faq
from app.knowledge.importer import MAX_IMPORT_BYTES
from app.main import create_app
from appliance.settings import Settings

FAQ = "/api/v1/admin/faq"
ENTRY = {
    "question": "退货运费谁承担？",
    "answer": "质量问题由我们承担运费，其他情况由顾客承担。",
    "tags": ["退货", " 运费 ", "退货"],
    "language": "zh",
}


def sign_in_as(app, role: UserRole | None) -> None:
    """Stand in for a signed-in user, keeping require_admin's rule."""
    if role is None:
        return
    user = User(id=1, email=f"{role}@example.com", password_hash="x", role=role)

    def signed_in_agent() -> User:
        return user

    def signed_in_admin() -> User:
        if user.role != UserRole.ADMIN:
            raise ApiError(Problem.FORBIDDEN, "this needs an admin account")
        return user

    app.dependency_overrides[require_agent] = signed_in_agent
    app.dependency_overrides[require_admin] = signed_in_admin


def client_for(settings: Settings, role: UserRole | None) -> httpx.AsyncClient:
    app = create_app(settings)
    sign_in_as(app, role)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://app")


@pytest.fixture
def client_as(migrated_database):
    return lambda role=UserRole.ADMIN: client_for(migrated_database, role)


@pytest.fixture
def gatekeeper_as(data_dir):
    """Clients for checks that refuse before any database work: SQLite only."""
    settings = Settings(data_dir=data_dir)
    return lambda role: client_for(settings, role)


@pytest.fixture
def admin(client_as) -> httpx.AsyncClient:
    return client_as(UserRole.ADMIN)


READS = [("GET", FAQ), ("GET", f"{FAQ}/1"), ("GET", f"{FAQ}/match?q=hi")]
WRITES = [
    ("POST", FAQ),
    ("PUT", f"{FAQ}/1"),
    ("DELETE", f"{FAQ}/1"),
    ("POST", f"{FAQ}/import"),
    ("DELETE", f"{FAQ}/demo"),
]


@pytest.mark.parametrize(("method", "path"), READS + WRITES)
async def test_every_route_needs_a_signed_in_user(gatekeeper_as, method, path):
    async with gatekeeper_as(None) as client:
        response = await client.request(method, path, json=ENTRY)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_agents_may_not_change_the_faq(gatekeeper_as, method, path):
    async with gatekeeper_as(UserRole.AGENT) as client:
        response = await client.request(method, path, json=ENTRY)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_agents_may_read_the_faq(client_as):
    async with client_as(UserRole.AGENT) as client:
        response = await client.get(FAQ)

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_create_read_update_delete_round_trip_in_chinese(admin):
    async with admin:
        created = await admin.post(FAQ, json=ENTRY)
        entry_id = created.json()["id"]
        fetched = await admin.get(f"{FAQ}/{entry_id}")
        changed = {**ENTRY, "answer": "一律由我们承担。", "tags": ["运费"]}
        updated = await admin.put(f"{FAQ}/{entry_id}", json=changed)
        deleted = await admin.delete(f"{FAQ}/{entry_id}")
        gone = await admin.get(f"{FAQ}/{entry_id}")

    assert created.status_code == 201, created.text
    assert fetched.json()["question"] == "退货运费谁承担？"
    assert fetched.json()["tags"] == ["退货", "运费"]
    assert updated.json()["answer"] == "一律由我们承担。"
    assert updated.json()["updated_at"] > fetched.json()["updated_at"]
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json() == {
        "detail": f"FAQ entry {entry_id} does not exist; list the FAQ",
        "code": "not_found",
    }


async def test_the_same_question_twice_is_a_conflict(admin):
    async with admin:
        first = await admin.post(FAQ, json=ENTRY)
        second = await admin.post(FAQ, json={**ENTRY, "question": " 退货运费谁承担？"})

    assert second.status_code == 409
    assert f"FAQ entry {first.json()['id']} already asks" in second.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"question": "   "},
        {"question": "x" * 501},
        {"answer": "x" * 5001},
        {"tags": ["t"] * 21},
        {"tags": ["x" * 41]},
        {"language": "fr"},
        {"answer": "a\x00b"},
        {"tags": ["a\x00"]},
    ],
)
async def test_entries_beyond_the_limits_are_refused(admin, change):
    async with admin:
        response = await admin.post(FAQ, json={**ENTRY, **change})

    assert response.status_code == 422


async def test_unknown_ids_answer_404_and_absurd_ids_422(admin):
    async with admin:
        missing = await admin.put(f"{FAQ}/999", json=ENTRY)
        absurd = await admin.get(f"{FAQ}/99999999999")

    assert missing.status_code == 404
    assert absurd.status_code == 422


async def test_listing_filters_and_pages(admin, migrated_database):
    load_demo_faq(migrated_database, fresh=True)
    async with admin:
        page = await admin.get(FAQ, params={"limit": 5, "offset": 5})
        english = await admin.get(FAQ, params={"language": "en", "limit": 100})
        searched = await admin.get(FAQ, params={"q": "发票"})
        tagged = await admin.get(FAQ, params={"tag": "发货"})
        too_many = await admin.get(FAQ, params={"limit": 101})
        negative = await admin.get(FAQ, params={"offset": -1})
        with_nul = await admin.get(FAQ, params={"q": "a\x00"})

    assert page.json()["total"] == 16
    assert len(page.json()["items"]) == 5
    assert english.json()["total"] == 8
    assert {item["language"] for item in english.json()["items"]} == {"en"}
    assert [item["question"] for item in searched.json()["items"]] == ["怎么开发票？"]
    assert [item["question"] for item in tagged.json()["items"]] == ["多久发货？"]
    assert too_many.status_code == 422
    assert negative.status_code == 422
    assert with_nul.status_code == 422


async def test_a_tag_filter_pages_newest_first_and_counts_every_tagged_entry(
    admin, migrated_database
):
    load_demo_faq(migrated_database, fresh=True)
    async with admin:
        await admin.post(FAQ, json=ENTRY)
        everything = await admin.get(FAQ, params={"limit": 100})
        second_page = await admin.get(
            FAQ, params={"tag": "demo", "limit": 5, "offset": 5}
        )
        just_counted = await admin.get(FAQ, params={"tag": "demo", "limit": 1})
        beyond = await admin.get(FAQ, params={"tag": "demo", "offset": 16})

    demo_ids = [
        item["id"] for item in everything.json()["items"] if "demo" in item["tags"]
    ]
    assert [item["id"] for item in second_page.json()["items"]] == demo_ids[5:10]
    assert second_page.json()["total"] == just_counted.json()["total"] == 16
    assert len(just_counted.json()["items"]) == 1
    assert beyond.json()["items"] == [] and beyond.json()["total"] == 16


async def test_match_preview_shows_scores_and_the_threshold(
    client_as, migrated_database
):
    load_demo_faq(migrated_database, fresh=True)
    async with client_as(UserRole.AGENT) as client:
        response = await client.get(
            f"{FAQ}/match", params={"q": "多久能发货", "language": "zh"}
        )

    body = response.json()
    assert body["threshold"] == migrated_database.faq_match_threshold
    best = body["matches"][0]
    assert best["question"] == "多久发货？"
    assert best["above_threshold"] is True
    assert all(not match["above_threshold"] for match in body["matches"][1:])


async def test_import_a_csv_upload_then_the_same_file_as_a_json_body(admin):
    csv_file = "\ufeffquestion,answer,tags,language\n会员有折扣吗？,九折,会员|折扣,zh\n"
    entries = [{"question": "会员有折扣吗？", "answer": "八折", "language": "zh"}]
    async with admin:
        uploaded = await admin.post(
            f"{FAQ}/import", files={"file": ("faq.csv", csv_file.encode(), "text/csv")}
        )
        posted = await admin.post(f"{FAQ}/import", json=entries)
        listed = await admin.get(FAQ)

    assert uploaded.json() == {"created": 1, "updated": 0}
    assert posted.json() == {"created": 0, "updated": 1}
    assert [item["answer"] for item in listed.json()["items"]] == ["八折"]


async def test_an_import_with_a_bad_row_stores_nothing(admin):
    entries = [
        {"question": "好问题", "answer": "好答案", "language": "zh"},
        {"question": "", "answer": "没有问题", "language": "zh"},
    ]
    async with admin:
        response = await admin.post(f"{FAQ}/import", json=entries)
        listed = await admin.get(FAQ)

    assert response.status_code == 422
    assert response.json() == {
        "detail": "nothing imported: item 2: question is empty",
        "code": "invalid",
    }
    assert listed.json()["total"] == 0


async def test_an_oversized_import_is_refused_with_413(admin):
    row = json.dumps({"question": "q", "answer": "a" * 4000, "language": "en"})
    body = ("[" + ",".join([row] * (MAX_IMPORT_BYTES // len(row) + 1)) + "]").encode()
    async with admin:
        as_body = await admin.post(
            f"{FAQ}/import",
            content=body,
            headers={"content-type": "application/json"},
        )
        as_upload = await admin.post(
            f"{FAQ}/import", files={"file": ("faq.json", body, "application/json")}
        )

    assert as_body.status_code == 413
    assert as_upload.status_code == 413
    assert as_upload.json()["code"] == "payload_too_large"


async def test_an_import_of_another_media_type_is_refused_with_415(admin):
    async with admin:
        response = await admin.post(
            f"{FAQ}/import", content=b"x", headers={"content-type": "text/plain"}
        )

    assert response.status_code == 415


async def test_removing_the_demo_faq(admin, migrated_database):
    load_demo_faq(migrated_database, fresh=True)
    async with admin:
        await admin.post(FAQ, json=ENTRY)
        removed = await admin.delete(f"{FAQ}/demo")
        listed = await admin.get(FAQ)

    assert removed.json() == {"removed": 16}
    assert [item["question"] for item in listed.json()["items"]] == [ENTRY["question"]]
