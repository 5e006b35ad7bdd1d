"""Files with names (issue #15): every uploaded object carries a Content-Disposition (RFC 6266)
whose `filename*` is a readable UTF-8 name, served by S3 with the object."""

from __future__ import annotations

import asyncio
import re
from email.utils import decode_rfc2231
from urllib.parse import unquote

from publishers import filenames
from publishers.render import CSV_TYPE, Rendered
from tests.conftest import PublishedDemo

META = {
    "fiscalYear": 2024,
    "departmentName": None,
    "ownerName": "示例镇财政所",
    "jurisdictionName": "示例镇",
    "kindLabel": "决算",
}


def decoded(header: str) -> str | None:
    """The name an RFC 6266 client reads: `filename*` (RFC 8187), which wins over `filename`."""
    match = re.search(r"filename\*=([^;]+)", header)
    if match is None:
        return None
    charset, _, value = decode_rfc2231(match.group(1).strip())
    assert str(charset).lower() == "utf-8"
    return unquote(value, encoding="utf-8", errors="strict")


def item(path: str, title: str, content_type: str = CSV_TYPE) -> Rendered:
    return Rendered(path, b"", content_type, "0" * 64, title=title)


def test_a_readable_name_in_filename_star_and_the_key_in_filename() -> None:
    csv = item("data/self-assessments.dd1981454906.csv", "绩效自评")
    name = filenames.readable_name(META, csv.path, csv.title)
    assert name == "2024_示例镇财政所_决算_绩效自评.csv"
    header = filenames.content_disposition(name, "self-assessments.dd1981454906.csv", CSV_TYPE)
    assert header.startswith('attachment; filename="self-assessments.dd1981454906.csv"; ')
    assert header.isascii()
    assert decoded(header) == name
    excel = item("data/self-assessments.dd1981454906.excel.csv", "绩效自评（Excel）")
    assert (
        filenames.readable_name(META, excel.path, excel.title)
        == "2024_示例镇财政所_决算_绩效自评_Excel.csv"
    )
    pdf = item("files/ab.pdf", "评价报告", "application/pdf")
    assert filenames.content_disposition("x.pdf", "ab.pdf", "application/pdf").startswith("inline")
    assert filenames.readable_name(
        {**META, "departmentName": "示例镇卫生院"}, pdf.path, pdf.title
    ) == ("2024_示例镇卫生院_决算_评价报告.pdf")


def test_unsafe_characters_are_replaced_and_long_names_cut() -> None:
    risky = item("files/ab.pdf", '报告/附件:"第1号"?<>|\n', "application/pdf")
    name = filenames.readable_name(META, risky.path, risky.title)
    assert not set('/\\:*?"<>|\n') & set(name) and name.endswith(".pdf")
    long = item("files/ab.pdf", "长" * 200, "application/pdf")
    stem = filenames.readable_name(META, long.path, long.title).removesuffix(".pdf")
    assert len(stem) == filenames.MAX_STEM
    shorter = item("files/ab.pdf", "长" * 10, "application/pdf")
    assert len(filenames.readable_name(META, shorter.path, shorter.title)) < filenames.MAX_STEM


async def test_s3_serves_the_readable_name(published_demo: PublishedDemo) -> None:
    store = published_demo.store
    key = next(
        k
        for k in published_demo.recorded.objects
        if k.startswith("releases/")
        and "/final-accounts/" in k
        and "/self-assessments." in k
        and k.endswith(".csv")
        and not k.endswith(".excel.csv")
    )
    stat = await asyncio.to_thread(store.client.stat_object, store.bucket, key)
    header = stat.metadata["Content-Disposition"]
    name = decoded(header)
    assert name is not None and name.endswith(".csv") and "_决算公开_绩效自评" in name, name
    assert (await store.stat(key)).metadata[filenames.DISPOSITION_METADATA_KEY] == header  # type: ignore[union-attr]
