"""Agents read the FAQ and preview matches; admins edit and import it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.api.errors import ApiError, Problem, problem_responses
from app.auth.dependencies import require_admin, require_agent
from app.db.models import FaqEntry
from app.db.session import ReadSession, WriteSession
from app.knowledge.demo import remove_demo_faq
from app.knowledge.entries import (
    MAX_ANSWER_LENGTH,
    MAX_QUESTION_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    FaqDraft,
    apply_draft,
    find_duplicate,
    list_entries,
)
from app.knowledge.importer import (
    MAX_IMPORT_BYTES,
    FaqImportInvalid,
    FaqImportTooLarge,
    import_faq,
    read_faq_file,
)
from app.knowledge.retrieval import search_faq

router = APIRouter(prefix="/api/v1/admin/faq", tags=["admin: FAQ"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 1_000_000
MAX_MATCHES = 10
# Ids are 32-bit on PostgreSQL; a larger one would be a database error.
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Language = Literal["zh", "en"]
# PostgreSQL text cannot hold NUL; refuse it here rather than fail on store.
WITHOUT_NUL = r"^[^\x00]*$"
Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_TAG_LENGTH,
        pattern=WITHOUT_NUL,
    ),
]


class FaqEntryIn(BaseModel):
    question: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=MAX_QUESTION_LENGTH,
            pattern=WITHOUT_NUL,
        ),
    ]
    answer: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=MAX_ANSWER_LENGTH,
            pattern=WITHOUT_NUL,
        ),
    ]
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    language: Language = "zh"

    def draft(self) -> FaqDraft:
        return FaqDraft(self.question, self.answer, tuple(self.tags), self.language)


class FaqEntryOut(BaseModel):
    id: int
    question: str
    answer: str
    tags: list[str]
    language: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: FaqEntry) -> FaqEntryOut:
        return cls.model_validate(entry, from_attributes=True)


class FaqPage(BaseModel):
    items: list[FaqEntryOut]
    total: int
    limit: int
    offset: int


class FaqMatchOut(BaseModel):
    entry_id: int
    question: str
    answer: str
    language: str
    tags: list[str]
    score: float
    above_threshold: bool


class MatchPreview(BaseModel):
    threshold: float
    matches: list[FaqMatchOut]


class ImportReport(BaseModel):
    created: int
    updated: int


class DemoRemoval(BaseModel):
    removed: int


@router.get("", dependencies=[Depends(require_agent)])
def list_faq(
    session: ReadSession,
    q: Annotated[
        str | None, Query(max_length=MAX_QUESTION_LENGTH, pattern=WITHOUT_NUL)
    ] = None,
    language: Language | None = None,
    tag: Annotated[
        str | None, Query(max_length=MAX_TAG_LENGTH, pattern=WITHOUT_NUL)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> FaqPage:
    """Entries newest first; `q` matches part of a question or answer."""
    entries, total = list_entries(session, q, language, tag, limit, offset)
    items = [FaqEntryOut.of(entry) for entry in entries]
    return FaqPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/match", dependencies=[Depends(require_agent)])
def preview_match(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_LENGTH)],
    language: Language | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_MATCHES)] = 3,
) -> MatchPreview:
    """What a customer asking `q` would match, with each confidence."""
    settings = request.app.state.settings
    threshold = settings.faq_match_threshold
    matches = [
        FaqMatchOut(
            entry_id=match.entry_id,
            question=match.question,
            answer=match.answer,
            language=match.language,
            tags=list(match.tags),
            score=match.score,
            above_threshold=match.score >= threshold,
        )
        for match in search_faq(settings, q, language, limit)
    ]
    return MatchPreview(threshold=threshold, matches=matches)


@router.delete("/demo", dependencies=[Depends(require_admin)])
def remove_demo(request: Request) -> DemoRemoval:
    """Delete every entry tagged "demo"."""
    return DemoRemoval(removed=remove_demo_faq(request.app.state.settings))


@router.get(
    "/{entry_id}",
    dependencies=[Depends(require_agent)],
    responses=problem_responses(Problem.NOT_FOUND),
)
def get_faq_entry(entry_id: EntryId, session: ReadSession) -> FaqEntryOut:
    return FaqEntryOut.of(existing_entry(session, entry_id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_admin)],
    responses=problem_responses(Problem.CONFLICT),
)
def create_faq_entry(body: FaqEntryIn, session: WriteSession) -> FaqEntryOut:
    draft = body.draft().cleaned()
    refuse_duplicate(session, draft)

    entry = FaqEntry(question=draft.question, answer=draft.answer)
    apply_draft(entry, draft)
    session.add(entry)
    session.flush()
    return FaqEntryOut.of(entry)


@router.put(
    "/{entry_id}",
    dependencies=[Depends(require_admin)],
    responses=problem_responses(Problem.NOT_FOUND, Problem.CONFLICT),
)
def update_faq_entry(
    entry_id: EntryId, body: FaqEntryIn, session: WriteSession
) -> FaqEntryOut:
    entry = existing_entry(session, entry_id)
    draft = body.draft().cleaned()
    refuse_duplicate(session, draft, ignore_id=entry_id)

    apply_draft(entry, draft)
    session.flush()
    return FaqEntryOut.of(entry)


@router.delete(
    "/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_admin)],
    responses=problem_responses(Problem.NOT_FOUND),
)
def delete_faq_entry(entry_id: EntryId, session: WriteSession) -> Response:
    session.delete(existing_entry(session, entry_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def existing_entry(session, entry_id: int) -> FaqEntry:
    entry = session.get(FaqEntry, entry_id)
    if entry is None:
        raise ApiError(
            Problem.NOT_FOUND, f"FAQ entry {entry_id} does not exist; list the FAQ"
        )
    return entry


def refuse_duplicate(session, draft: FaqDraft, ignore_id: int | None = None) -> None:
    duplicate = find_duplicate(session, draft, ignore_id)
    if duplicate is not None:
        raise ApiError(
            Problem.CONFLICT,
            f"FAQ entry {duplicate.id} already asks this question in "
            f"{draft.language}; edit that entry instead",
        )


# The import takes a file in a multipart form, or the file itself as the
# body; FastAPI cannot declare "either" from a signature, so it is read by
# hand and described here for /openapi.json.
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/json": {"schema": {"type": "array", "items": {}}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}
# Room for the multipart envelope around a file just under the cap.
MULTIPART_OVERHEAD = 64 * 1024


@router.post(
    "/import",
    dependencies=[Depends(require_admin)],
    openapi_extra=IMPORT_BODY,
    responses=problem_responses(
        Problem.PAYLOAD_TOO_LARGE, Problem.UNSUPPORTED_MEDIA, Problem.INVALID
    ),
)
async def import_entries(request: Request) -> ImportReport:
    """Import a CSV or JSON file; any bad row and nothing is imported."""
    content, file_format = await read_import_upload(request)

    try:
        drafts = await run_in_threadpool(read_faq_file, content, file_format)
    except FaqImportTooLarge as exc:
        raise ApiError(Problem.PAYLOAD_TOO_LARGE, str(exc)) from exc
    except FaqImportInvalid as exc:
        raise ApiError(Problem.INVALID, str(exc)) from exc

    counts = await run_in_threadpool(import_faq, request.app.state.settings, drafts)
    return ImportReport(created=counts.created, updated=counts.updated)


async def read_import_upload(request: Request) -> tuple[bytes, str | None]:
    """The uploaded file's bytes and its format, when the request says it."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_IMPORT_BYTES + MULTIPART_OVERHEAD:
        raise import_too_large()

    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return await read_form_file(request)
    if media_type in ("application/json", "text/csv"):
        return await read_capped_body(request), media_type.split("/")[1]
    raise ApiError(
        Problem.UNSUPPORTED_MEDIA,
        "send the file as multipart/form-data field 'file', or as an "
        "application/json or text/csv body",
    )


def import_too_large() -> ApiError:
    limit = MAX_IMPORT_BYTES // 1024 // 1024
    return ApiError(Problem.PAYLOAD_TOO_LARGE, f"the file is over {limit} MB; split it")


async def read_capped_body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise import_too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form_file(request: Request) -> tuple[bytes, str | None]:
    try:
        form = await request.form(max_files=1, max_fields=10)
    except HTTPException as exc:
        raise ApiError(
            Problem.INVALID, f"unreadable multipart form: {exc.detail}"
        ) from exc

    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(
                Problem.INVALID, "send the file in a form field named 'file'"
            )
        content = await upload.read(MAX_IMPORT_BYTES + 1)
        return content, format_from_name(upload.filename or "")
    finally:
        await form.close()


def format_from_name(filename: str) -> str | None:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in ("csv", "json") else None
