"""The forms through the internal API: `formWorkbook` downloads a department's forms filled,
`importWorkbook` takes them back as a multipart upload (recognised by content, authorised by
department, audited), `blankForm` gives a template."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from storage import models
from tests.forms.conftest import FIXTURES
from tests.internal import samples
from tests.internal.conftest import Api, World, gid, token

EDITOR_A = token("department_editor", "101", sub="editor-a")
EDITOR_B = token("department_editor", "202", sub="editor-b")
AUDITOR = token("auditor", sub="auditor-1")

DOWNLOAD = """
query($d: ID!, $y: Int!, $f: FormKind!) {
  formWorkbook(departmentId: $d, fiscalYear: $y, form: $f) {
    filename mediaType size sha256 forms contentBase64
  }
}"""
IMPORT = """
mutation($file: Upload!, $check: Boolean) {
  importWorkbook(file: $file, check: $check) {
    __typename
    ... on ImportReport { stored forms created updated unchanged
                          problems { file sheet cell rule message } }
    ... on InvalidInput { field rule message }
    ... on Forbidden { message }
  }
}"""


async def _download(api: Api, world: World, bearer: str = EDITOR_A) -> bytes:
    body = await api(bearer, DOWNLOAD, {"d": gid(world.a), "y": 2024, "f": "TARGET"})
    book = body["data"]["formWorkbook"]
    data = base64.b64decode(book["contentBase64"])
    assert book["forms"] == 1 and book["size"] == len(data)
    assert book["sha256"] == hashlib.sha256(data).hexdigest()
    return data


async def _import(api: Api, bearer: str, name: str, data: bytes, **variables: Any) -> Any:
    body = await api(bearer, IMPORT, variables, files={"file": (name, data)})
    return body["data"]["importWorkbook"]


async def test_a_downloaded_workbook_imports_back_unchanged(api: Api, world: World) -> None:
    data = await _download(api, world)
    audit = await models.AuditEntry.all().count()

    result = await _import(api, EDITOR_A, "甲局.xlsx", data)

    assert result["__typename"] == "ImportReport"
    assert result["problems"] == []
    assert (result["forms"], result["unchanged"], result["stored"]) == (1, 1, False)
    assert await models.AuditEntry.all().count() == audit


async def test_another_departments_editor_is_refused_naming_the_department(
    api: Api, world: World
) -> None:
    data = await _download(api, world)
    target = await models.PerformanceTarget.get(id=world.a_target.id)

    result = await _import(api, EDITOR_B, "甲局.xlsx", data)

    assert [(p["rule"], p["cell"]) for p in result["problems"]] == [("department-forbidden", "B5")]
    assert "甲局" in result["problems"][0]["message"]
    assert not result["stored"]
    assert (await models.PerformanceTarget.get(id=target.id)).version == target.version


async def test_another_departments_editor_cannot_download_its_forms(api: Api, world: World) -> None:
    body = await api(EDITOR_B, DOWNLOAD, {"d": gid(world.a), "y": 2024, "f": "TARGET"})

    assert body["data"]["formWorkbook"] is None


async def test_the_content_decides_not_the_name(api: Api, world: World) -> None:
    result = await _import(api, EDITOR_A, "form.xlsx", samples.pdf())

    assert (result["__typename"], result["rule"]) == ("InvalidInput", "file-type")


async def test_a_role_without_forms_is_forbidden(api: Api, world: World) -> None:
    data = (FIXTURES / "shaped.xls").read_bytes()

    result = await _import(api, AUDITOR, "shaped.xls", data)

    assert result["__typename"] == "Forbidden"


async def test_xls_and_ods_uploads_are_read(api: Api, world: World) -> None:
    for name in ("shaped.xls", "shaped.ods"):
        data = (FIXTURES / name).read_bytes()
        result = await _import(api, EDITOR_A, name, data, check=True)
        # the fixtures are the 测试区体育局's: unknown in this world, found and named per form
        assert {p["rule"] for p in result["problems"]} == {"department-forbidden"}
        assert all(p["file"] == name for p in result["problems"])


async def test_a_blank_template_reads_as_its_form(api: Api, world: World) -> None:
    body = await api(EDITOR_A, "{ blankForm(form: PROJECT_SELF_ASSESSMENT) { contentBase64 } }")
    data = base64.b64decode(body["data"]["blankForm"]["contentBase64"])

    result = await _import(api, EDITOR_A, "blank.xlsx", data, check=True)

    assert result["forms"] == 1
    assert {p["rule"] for p in result["problems"]} >= {"required", "form-year-missing"}
