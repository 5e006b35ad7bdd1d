"""Readable download names (issue #15): objects are stored under content-addressed keys
(`data/subjects.dd1981454906.csv`, `files/<sha256>.pdf`), which is what keeps a republish
incremental, but a person who saves one should get `2024_示例镇财政所_决算_项目.csv`.

Each uploaded object carries a `Content-Disposition` (RFC 6266) whose `filename*` is the
readable name in UTF-8 (RFC 8187 encoding, done by the standard library's `encode_rfc2231`) and
whose plain `filename` is the key's own ASCII base name, for clients that know no `filename*`.
Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.utils import encode_rfc2231
from typing import Any

from publishers.render import Rendered

#: The metadata key under which a store keeps the header (S3 serves it as the header itself).
DISPOSITION_METADATA_KEY = "content-disposition"
#: Characters no file system or browser accepts in a name, and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
#: Longest readable stem in characters (file systems allow 255 bytes; 3 bytes a character).
MAX_STEM = 80


def _clean(text: str) -> str:
    return _UNSAFE.sub("_", text).strip(" ._")


def readable_name(meta: Mapping[str, Any], path: str, item_title: str) -> str:
    """`<year>_<department or finance authority>_<kind>_<title>.<extension>` for the object at
    `path` in a release folder."""
    base = path.rsplit("/", 1)[-1]
    extension = base.rsplit(".", 1)[-1]
    title = item_title.removesuffix("（Excel）") or base.split(".")[0]
    if base.endswith(".excel.csv"):
        title += "_Excel"
    elif base.startswith(("manifest.", "datapackage.")):
        title = base.rsplit(".", 1)[0]  # manifest.v2, datapackage.v2
    owner = meta.get("departmentName") or meta.get("ownerName") or meta["jurisdictionName"]
    parts = [str(meta["fiscalYear"]), str(owner), str(meta["kindLabel"]), title]
    stem = _clean("_".join(_clean(p) for p in parts))[:MAX_STEM]
    return f"{stem}.{extension}"


def content_disposition(name: str, fallback: str, content_type: str) -> str:
    """The header: `inline` for what a browser shows (PDF), `attachment` for the rest."""
    kind = "inline" if content_type.startswith("application/pdf") else "attachment"
    ascii_name = _clean(fallback.encode("ascii", "replace").decode().replace("?", "_"))
    return f'{kind}; filename="{ascii_name}"; filename*={encode_rfc2231(name, "utf-8")}'


def dispositions(meta: Mapping[str, Any], items: Sequence[Rendered]) -> dict[str, dict[str, str]]:
    """Each object's metadata (by its path in the release folder): its Content-Disposition."""
    return {
        item.path: {
            DISPOSITION_METADATA_KEY: content_disposition(
                readable_name(meta, item.path, item.title),
                item.path.rsplit("/", 1)[-1],
                item.content_type,
            )
        }
        for item in items
    }
