"""CSV and JSON imports: all rows or none, duplicates updated in place."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.db.migrations import upgrade_database
from app.db.models import FaqEntry
from app.db.session import session_scope
from app.knowledge.entries import save_drafts
from app.knowledge.importer import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    FaqImportInvalid,
    FaqImportTooLarge,
    import_faq,
    read_faq_file,
)
from tests.support.waiting import wait_until

CSV_WITH_BOM = (
    "\ufeffquestion,answer,tags,language\n"
    "多久发货？,24 小时内发货,发货|物流,zh\n"
    'How long is delivery?,"2 to 5 days, usually",shipping;delivery,en\n'
).encode()


def stored_entries(settings) -> list[FaqEntry]:
    with session_scope(settings) as session:
        return list(session.exec(select(FaqEntry).order_by(FaqEntry.id)))


def test_csv_with_a_byte_order_mark_and_both_tag_separators(migrated_database):
    counts = import_faq(migrated_database, read_faq_file(CSV_WITH_BOM))

    entries = stored_entries(migrated_database)
    assert (counts.created, counts.updated) == (2, 0)
    assert [(e.question, e.tags, e.language) for e in entries] == [
        ("多久发货？", ["发货", "物流"], "zh"),
        ("How long is delivery?", ["shipping", "delivery"], "en"),
    ]
    assert entries[1].answer == "2 to 5 days, usually"


def test_json_list_with_tags_as_a_list_or_a_string(migrated_database):
    content = json.dumps(
        [
            {"question": "怎么开发票？", "answer": "订单页申请", "tags": ["发票"],
             "language": "zh"},
            {"question": "Invoice?", "answer": "From the order page",
             "tags": "billing|invoice", "language": "en"},
        ],
        ensure_ascii=False,
    ).encode()  # fmt: skip

    counts = import_faq(migrated_database, read_faq_file(content))

    assert (counts.created, counts.updated) == (2, 0)
    tags = [entry.tags for entry in stored_entries(migrated_database)]
    assert tags == [["发票"], ["billing", "invoice"]]


def test_the_same_question_again_updates_instead_of_duplicating(migrated_database):
    import_faq(migrated_database, read_faq_file(CSV_WITH_BOM))
    again = (
        "question,answer,tags,language\n"
        "  多久发货？ ,48 小时内发货,,zh\n"
        "HOW LONG IS  DELIVERY?,3 days,,en\n"
        "How long is delivery?,3 days,,zh\n"
    ).encode()

    counts = import_faq(migrated_database, read_faq_file(again, "csv"))

    answers = {(e.question, e.language): e.answer for e in stored_entries(
        migrated_database)}  # fmt: skip
    assert (counts.created, counts.updated) == (1, 2)
    assert answers[("多久发货？", "zh")] == "48 小时内发货"
    assert answers[("HOW LONG IS  DELIVERY?", "en")] == "3 days"
    assert len(answers) == 3


def test_one_bad_row_imports_nothing_and_names_the_bad_rows(migrated_database):
    content = (
        "question,answer,tags,language\n"
        "Fine question,Fine answer,,en\n"
        ",no question,,en\n"
        "Wrong language,answer,,fr\n"
        f"Long answer,{'x' * 5001},,en\n"
    ).encode()

    with pytest.raises(FaqImportInvalid) as caught:
        import_faq(migrated_database, read_faq_file(content))

    message = str(caught.value)
    assert message.startswith("nothing imported: ")
    assert "row 3: question is empty" in message
    assert "row 4: language must be one of zh, en" in message
    assert "row 5: answer is longer than 5000 characters" in message
    assert "row 2" not in message
    assert stored_entries(migrated_database) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"question,answer\nq,a\n", "the CSV header lacks language"),
        (b"question,answer,language\n", "the file has no entries"),
        (b'{"question": "q"}', "JSON must be a list of entry objects"),
        (b'[{"question": "q", "answer": 5, "language": "en"}]',
         "item 1: answer must be text"),
        (b'["just text"]', "item 1: not an object with question and answer"),
        (b"[{]", "not valid JSON at line 1 column 3"),
        (b"[" * 100_000, "JSON nests too deeply"),
        (b"question,answer,language\nq\x00,a,en\n", "row 2: contains a NUL"),
        ("question,answer,language\nq,a,en\n".encode("utf-16"), "not UTF-8"),
    ],
)  # fmt: skip
def test_unreadable_files_are_refused_with_a_reason(content, problem):
    with pytest.raises(FaqImportInvalid, match=problem):
        read_faq_file(content)


def test_a_file_over_the_size_cap_is_refused_before_parsing():
    content = b"question,answer,language\n" + b"x" * MAX_IMPORT_BYTES

    with pytest.raises(FaqImportTooLarge, match="over 2 MB"):
        read_faq_file(content)


def test_a_file_over_the_row_cap_is_refused():
    rows = "".join(f"q{n},a,en\n" for n in range(MAX_IMPORT_ROWS + 1))
    content = f"question,answer,language\n{rows}".encode()

    with pytest.raises(FaqImportTooLarge, match=f"over {MAX_IMPORT_ROWS} rows"):
        read_faq_file(content)


def test_an_import_waits_for_one_in_flight_instead_of_duplicating(postgres_database):
    settings = postgres_database
    assert upgrade_database(settings) == 0
    drafts = read_faq_file(CSV_WITH_BOM)
    second = threading.Thread(target=import_faq, args=(settings, drafts))

    with session_scope(settings, write=True) as session:
        save_drafts(session, drafts)
        second.start()
        wait_until(lambda: waiting_for_advisory_locks(settings) == 1)
    second.join(timeout=30)

    assert len(stored_entries(settings)) == len(drafts)


def waiting_for_advisory_locks(settings) -> int:
    query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    with session_scope(settings) as session:
        return session.execute(text(query)).scalar_one()
