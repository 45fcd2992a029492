"""Import FAQ entries from a CSV or JSON file, all or nothing.

CSV has a header row naming `question`, `answer`, `language` and optionally
`tags` (several tags separated by `|` or `;`). JSON is a list of objects with
the same fields; `tags` may be a list or a separated string. Both are UTF-8,
with or without a byte-order mark (Excel writes one).

Every row is checked before anything is written: one bad row and nothing is
imported, and the error names the first few bad rows by number, so a person
can fix the file and send it again. A row asking a question already in the
FAQ in the same language updates that entry instead of adding a second one.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterable

from app.db.session import session_scope
from app.knowledge.entries import FaqDraft, SaveCounts, draft_problems, save_drafts
from appliance.settings import Settings

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
MAX_REPORTED_PROBLEMS = 10
REQUIRED_COLUMNS = ("question", "answer", "language")
TAG_SEPARATORS = re.compile(r"[|;]")


class FaqImportError(Exception):
    """The file cannot be imported; the message says why, in one line."""


class FaqImportTooLarge(FaqImportError):
    pass


class FaqImportInvalid(FaqImportError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "; ".join(problems[:MAX_REPORTED_PROBLEMS])
        more = len(problems) - MAX_REPORTED_PROBLEMS
        suffix = f"; and {more} more" if more > 0 else ""
        super().__init__(f"nothing imported: {shown}{suffix}")


def read_faq_file(content: bytes, file_format: str | None = None) -> list[FaqDraft]:
    """Every row of a CSV or JSON file as checked drafts, or an error.

    `file_format` is "csv" or "json"; None guesses from the first character.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise FaqImportTooLarge(
            f"the file is over {MAX_IMPORT_BYTES // 1024 // 1024} MB; split it"
        )
    text = decode_utf8(content)

    file_format = file_format or guess_format(text)
    rows = read_json_rows(text) if file_format == "json" else read_csv_rows(text)
    if len(rows) > MAX_IMPORT_ROWS:
        raise FaqImportTooLarge(
            f"the file has over {MAX_IMPORT_ROWS} rows; split it into smaller files"
        )
    if not rows:
        raise FaqImportInvalid(["the file has no entries"])

    return checked_drafts(rows)


def decode_utf8(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FaqImportInvalid(
            [f"the file is not UTF-8 text (bad byte at offset {exc.start}); "
             "save it as UTF-8"]
        ) from exc  # fmt: skip


def guess_format(text: str) -> str:
    return "json" if text.lstrip().startswith(("[", "{")) else "csv"


def read_csv_rows(text: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise FaqImportInvalid(
            [f"the CSV header lacks {', '.join(missing)} "
             "(expected question,answer,tags,language)"]
        )  # fmt: skip
    reader.fieldnames = header

    # Row numbers as a spreadsheet shows them: the header is row 1.
    try:
        return [(f"row {number}", row) for number, row in enumerate(reader, 2)]
    except csv.Error as exc:
        raise FaqImportInvalid([f"row {reader.line_num}: {exc}"]) from exc


def read_json_rows(text: str) -> list[tuple[str, dict]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FaqImportInvalid(
            [f"not valid JSON at line {exc.lineno} column {exc.colno}"]
        ) from exc
    except RecursionError as exc:
        raise FaqImportInvalid(["JSON nests too deeply"]) from exc
    if not isinstance(items, list):
        raise FaqImportInvalid(["JSON must be a list of entry objects"])

    rows = []
    for number, item in enumerate(items, 1):
        label = f"item {number}"
        rows.append((label, item if isinstance(item, dict) else {label: item}))
    return rows


def checked_drafts(rows: list[tuple[str, dict]]) -> list[FaqDraft]:
    drafts, problems = [], []
    for label, row in rows:
        try:
            draft = row_draft(row).cleaned()
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            continue
        problems.extend(f"{label}: {problem}" for problem in draft_problems(draft))
        drafts.append(draft)
    if problems:
        raise FaqImportInvalid(problems)
    return drafts


def row_draft(row: dict) -> FaqDraft:
    if not ({"question", "answer"} & row.keys()):
        raise ValueError("not an object with question and answer")
    return FaqDraft(
        question=text_field(row, "question"),
        answer=text_field(row, "answer"),
        tags=tag_field(row.get("tags")),
        language=text_field(row, "language"),
    )


def text_field(row: dict, name: str) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value


def tag_field(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(TAG_SEPARATORS.split(value))
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return tuple(value)
    raise ValueError("tags must be text or a list of text")


def import_faq(settings: Settings, drafts: Iterable[FaqDraft]) -> SaveCounts:
    """Store checked drafts in one transaction."""
    with session_scope(settings, write=True) as session:
        counts = save_drafts(session, list(drafts))
    logger.info(
        "FAQ import stored: %d created, %d updated", counts.created, counts.updated
    )
    return counts
