"""File uploads through the HTTP endpoint (GraphQL multipart requests): recognised by content,
size-limited before anything runs, sha256 recorded, bytes kept in the database and out of the
audit log, authenticated first; and evaluation reports with their annexes."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from storage import database, models
from storage.enums import BudgetBook, EvaluationKind
from tests.internal import samples
from tests.internal.conftest import MARKER, Api, World, app_at_now, gid, settings, token
from tests.internal.ops import OPS, RESULT

EDITOR_A = token("department_editor", "101", sub="editor-a")
EDITOR_B = token("department_editor", "202", sub="editor-b")
FINANCE = token("finance_officer", sub="officer-1")
LIMIT = 4096

FILE_FIELDS = "id title filename docKind mediaType size sha256 fiscalYear departmentId uploadedBy"
UPLOAD = (
    "mutation($i: DocumentInput!, $file: Upload!) { r: uploadDocument(input: $i, file: $file) {"
    + RESULT
    + " ... on FileSuccess { file { "
    + FILE_FIELDS
    + " } } } }"
)
REPORT_FIELDS = (
    RESULT
    + " ... on EvaluationReportSuccess { report { id title version evaluationId"
    + " mainText { filename mediaType sha256 docKind } annexes { title docKind mediaType } } }"
)
UPLOAD_REPORT = (
    "mutation($e: ID!, $t: String!, $mainText: Upload!, $v: Int) { r: uploadEvaluationReport("
    + "evaluationId: $e, title: $t, mainText: $mainText, version: $v) { "
    + REPORT_FIELDS
    + " } }"
)
ADD_ANNEX = (
    "mutation($r: ID!, $v: Int!, $t: String!, $file: Upload!) { r: addEvaluationReportAnnex("
    + "reportId: $r, version: $v, title: $t, file: $file) { "
    + REPORT_FIELDS
    + " } }"
)


def document(world: World, **overrides: Any) -> dict[str, Any]:
    return {"i": {**OPS["uploadDocument"].variables(world, "a")["i"], **overrides}}


async def stored() -> tuple[int, int, int]:
    return (
        await models.StoredFile.all().count(),
        await models.FileContent.all().count(),
        await models.AuditEntry.all().count(),
    )


@pytest.mark.parametrize(
    ("content", "media_type", "extension"),
    [
        (samples.pdf(), "application/pdf", "pdf"),
        (
            samples.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        (
            samples.xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    ],
)
async def test_a_file_is_recognised_by_its_content(
    api: Api, world: World, content: bytes, media_type: str, extension: str
) -> None:
    # No extension in the name: the content alone decides, and the name gets the right one.
    body = await api(EDITOR_A, UPLOAD, document(world), {"file": ("部门预算", content)})
    file = body["data"]["r"]["file"]
    sha256 = hashlib.sha256(content).hexdigest()
    assert file == {
        "id": file["id"],
        "title": "2024年部门预算",
        "filename": f"部门预算.{extension}",
        "docKind": "BUDGET_DOC",
        "mediaType": media_type,
        "size": len(content),
        "sha256": sha256,
        "fiscalYear": 2024,
        "departmentId": gid(world.a),
        "uploadedBy": "editor-a",
    }
    assert (await models.FileContent.get(sha256=sha256)).data == content
    entry = await models.AuditEntry.get(action="uploadDocument")
    assert entry.after is not None and entry.before is None
    assert (entry.after["sha256"], entry.after["size"], entry.after["content_type"]) == (
        sha256,
        len(content),
        media_type,
    )
    assert "data" not in entry.after  # metadata only, never the bytes


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("report.docx", samples.plain_zip(), "file-type"),  # a zip renamed .docx
        ("report.pdf", samples.text(), "file-type"),  # a text file called .pdf
        ("report.doc", samples.legacy_doc(), "file-type"),  # pre-2007 Word
        ("report.docx", b"PK\x03\x04 damaged archive", "file-type"),
        ("report.xlsx", samples.docx(), "file-extension-matches-content"),
        ("report.pdf", b"", "file-not-empty"),
    ],
)
async def test_the_content_decides_not_the_name(
    api: Api, world: World, name: str, content: bytes, rule: str
) -> None:
    before = await stored()
    body = await api(EDITOR_A, UPLOAD, document(world), {"file": (name, content)})
    result = body["data"]["r"]
    assert (result["__typename"], result["field"], result["rule"]) == ("InvalidInput", "file", rule)
    assert result["message"]
    assert await stored() == before


async def test_identical_files_share_their_bytes(api: Api, world: World) -> None:
    content = samples.pdf("same")
    for title in ("预算", "预算（副本）"):
        body = await api(
            EDITOR_A, UPLOAD, document(world, title=title), {"file": ("a.pdf", content)}
        )
        assert body["data"]["r"]["__typename"] == "FileSuccess"
    sha256 = hashlib.sha256(content).hexdigest()
    assert await models.StoredFile.filter(sha256=sha256).count() == 2
    assert await models.FileContent.filter(sha256=sha256).count() == 1


async def test_a_file_sent_as_json_is_no_upload(api: Api, world: World) -> None:
    before = await stored()
    body = await api(EDITOR_A, UPLOAD, {**document(world), "file": "JVBERi0xLjQK"})
    result = body["data"]["r"]
    assert (result["field"], result["rule"]) == ("file", "multipart-upload")
    assert await stored() == before


async def test_documents_of_a_classified_department_year_are_refused(
    api: Api, world: World
) -> None:
    variables = document(world, departmentId=gid(world.s))
    files = {"file": ("SECRET.pdf", samples.pdf())}
    before = await stored()
    cleared = await api(token("admin", classified=True), UPLOAD, variables, files)
    result = cleared["data"]["r"]
    assert (result["field"], result["rule"]) == ("input.departmentId", "classified-stub-only")
    uncleared = await api(token("admin"), UPLOAD, variables, files)
    assert uncleared["data"]["r"]["__typename"] == "NotFound"
    assert MARKER not in orjson.dumps(uncleared).decode()
    assert await stored() == before


async def test_documents_are_listed_within_scope(api: Api, world: World) -> None:
    body = await api(EDITOR_A, UPLOAD, document(world), {"file": ("预算.pdf", samples.pdf())})
    file_id = body["data"]["r"]["file"]["id"]
    query = (
        "query($id: ID!) { documents(first: 10, filter: {fiscalYear: 2024}) { totalCount"
        " edges { node { id title } } } node(id: $id) { __typename ... on StoredFile { title } } }"
    )
    own = await api(EDITOR_A, query, {"id": file_id})
    assert own["data"]["documents"]["totalCount"] == 1
    assert own["data"]["node"] == {"__typename": "StoredFile", "title": "2024年部门预算"}
    other = await api(EDITOR_B, query, {"id": file_id})
    assert other["data"] == {"documents": {"totalCount": 0, "edges": []}, "node": None}
    finance = await api(FINANCE, query, {"id": file_id})
    assert [e["node"]["id"] for e in finance["data"]["documents"]["edges"]] == [file_id]


# --- the evaluation's report ---------------------------------------------------------------


async def test_an_evaluation_report_is_created_replaced_and_annexed(api: Api, world: World) -> None:
    evaluation = await models.Evaluation.create(
        subject=world.a_project,
        kind=EvaluationKind.FINANCE_KEY,
        fiscal_year=2024,
        organiser="测试区财政局",
        budget_book=BudgetBook.GENERAL_PUBLIC,
    )
    target = {"e": gid(evaluation), "t": "甲项目绩效评价报告"}
    absent = await api(FINANCE, UPLOAD_REPORT, {**target, "v": 1}, {"mainText": ("r.pdf", b"")})
    assert (absent["data"]["r"]["field"], absent["data"]["r"]["rule"]) == (
        "version",
        "no-report-yet",
    )

    created = await api(FINANCE, UPLOAD_REPORT, target, {"mainText": ("正文.pdf", samples.pdf())})
    report = created["data"]["r"]["report"]
    assert (report["version"], report["evaluationId"], report["annexes"]) == (
        1,
        gid(evaluation),
        [],
    )
    assert report["mainText"]["docKind"] == "EVALUATION_REPORT_MAIN_TEXT"
    assert report["mainText"]["mediaType"] == "application/pdf"

    again = await api(FINANCE, UPLOAD_REPORT, target, {"mainText": ("正文.pdf", samples.pdf())})
    assert again["data"]["r"]["__typename"] == "Conflict"
    assert again["data"]["r"]["currentVersion"] == 1

    replaced = await api(
        FINANCE, UPLOAD_REPORT, {**target, "v": 1}, {"mainText": ("正文.docx", samples.docx())}
    )
    report = replaced["data"]["r"]["report"]
    assert report["version"] == 2 and report["mainText"]["filename"] == "正文.docx"

    annexed = await api(
        FINANCE,
        ADD_ANNEX,
        {"r": report["id"], "v": 2, "t": "满意度调查"},
        {"file": ("调查.xlsx", samples.xlsx())},
    )
    report = annexed["data"]["r"]["report"]
    assert report["version"] == 3
    assert report["annexes"] == [
        {
            "title": "满意度调查",
            "docKind": "EVALUATION_REPORT_ANNEX",
            "mediaType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    ]
    read = await api(
        token("auditor"),
        "query($id: ID!) { node(id: $id) { ... on Evaluation { report { version"
        " mainText { filename } annexes { title } } } } }",
        {"id": gid(evaluation)},
    )
    assert read["data"]["node"]["report"] == {
        "version": 3,
        "mainText": {"filename": "正文.docx"},
        "annexes": [{"title": "满意度调查"}],
    }
    entries = await models.AuditEntry.filter(record_type="EvaluationReport").order_by("id")
    assert [e.action for e in entries] == [
        "uploadEvaluationReport",
        "uploadEvaluationReport",
        "addEvaluationReportAnnex",
    ]
    last = entries[-1]
    assert last.before is not None and last.after is not None
    assert last.before["annexes"] == []
    assert last.after["annexes"][0]["sha256"] == hashlib.sha256(samples.xlsx()).hexdigest()


async def test_a_department_editor_cannot_upload_reports(api: Api, world: World) -> None:
    body = await api(EDITOR_A, *_report_upload(world), {"mainText": ("r.pdf", samples.pdf())})
    assert body["data"]["r"]["__typename"] == "Forbidden"


def _report_upload(world: World) -> tuple[str, dict[str, Any]]:
    return UPLOAD_REPORT, {"e": gid(world.a_evaluation), "t": "报告", "v": 1}


# --- the transport ---------------------------------------------------------------------------


async def test_an_upload_needs_a_token_first(api: Api, world: World) -> None:
    before = await stored()
    response = await api.upload(
        "not-a-token", UPLOAD, document(world), {"file": ("a.pdf", samples.pdf())}
    )
    assert response.status_code == 401
    response = await api.client.post(
        "/internal/graphql",
        data={"operations": "{}", "map": "{}"},
        files={"0": ("a.pdf", samples.pdf(), "application/pdf")},
    )
    assert response.status_code == 401
    assert await stored() == before


@pytest.mark.parametrize(
    ("operations", "mapping", "message"),
    [
        ('[{"query": "{ me { subject } }"}]', '{"0": ["variables.file"]}', "no batches"),
        ('{"query": "{ me { subject } }"}', '{"0": ["query"]}', "must start with `variables.`"),
        ('{"query": "{ me { subject } }"}', '{"1": ["variables.file"]}', "lacks"),
        ('{"query": "{ me { subject } }"}', "[]", "`map` must be a JSON object"),
        ("{", '{"0": ["variables.file"]}', "`operations` is not JSON"),
        (
            '{"query": "{ me { subject } }", "variables": {"i": 1}}',
            '{"0": ["variables.i.deep"]}',
            "does not have",
        ),
    ],
)
async def test_a_malformed_multipart_request_is_a_400(
    api: Api, world: World, operations: str, mapping: str, message: str
) -> None:
    response = await api.client.post(
        "/internal/graphql",
        data={"operations": operations, "map": mapping},
        files={"0": ("a.pdf", samples.pdf(), "application/pdf")},
        headers={"Authorization": f"Bearer {EDITOR_A}"},
    )
    assert response.status_code == 400, response.text
    assert message in response.json()["errors"][0]["message"]


async def test_a_get_cannot_run_a_mutation(api: Api, world: World) -> None:
    response = await api.client.get(
        "/internal/graphql",
        params={"query": "mutation { r: flagOverdueRectifications { __typename } }"},
        headers={"Authorization": f"Bearer {FINANCE}"},
    )
    assert response.status_code == 405
    assert await models.AuditEntry.all().count() == 0


@pytest.fixture
async def small_api(world: World, db: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with GONGKAI_MAX_UPLOAD_BYTES at 4 KiB."""
    await database.close()
    app = app_at_now(dataclasses.replace(settings(db, tmp_path / "store"), max_upload_bytes=LIMIT))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client)
    await database.init(db, global_fallback=True)


def padded_pdf(size: int) -> bytes:
    head = samples.pdf()
    return head + b"%" * (size - len(head))


@pytest.mark.parametrize(
    "size",
    [
        LIMIT + 1,  # the body fits the slack for the JSON parts, the file does not
        LIMIT + 200_000,  # refused by its declared length before it is read
    ],
)
async def test_an_oversized_upload_is_refused_whole(
    small_api: Api, world: World, size: int
) -> None:
    before = await stored()
    response = await small_api.upload(
        EDITOR_A, UPLOAD, document(world), {"file": ("大.pdf", padded_pdf(size))}
    )
    assert response.status_code == 413
    message = response.json()["errors"][0]["message"]
    assert f"{LIMIT} bytes" in message and "GONGKAI_MAX_UPLOAD_BYTES" in message
    assert await stored() == before


async def test_a_file_at_the_limit_is_accepted(small_api: Api, world: World) -> None:
    body = await small_api(
        EDITOR_A, UPLOAD, document(world), {"file": ("满.pdf", padded_pdf(LIMIT))}
    )
    assert body["data"]["r"]["file"]["size"] == LIMIT


@pytest.mark.parametrize("make", [samples.docx, samples.xlsx, samples.plain_zip])
def test_sample_archives_do_not_depend_on_the_clock(make: Any) -> None:
    """Issue 11: zip members stamped with the current time made two calls a second apart
    differ, and the dedup test above failed under load. The stamps are a constant now."""
    with zipfile.ZipFile(io.BytesIO(make())) as archive:
        stamps = {member.date_time for member in archive.infolist()}
    assert stamps == {samples.ZIP_TIME}
