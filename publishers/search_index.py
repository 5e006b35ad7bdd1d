"""The site's search index, for the search box of the index page: every published name with its
kind and the page that shows it. One part a jurisdiction (`site/search/<jurisdiction>.json`),
built with its pages, and `search-index.json` listing the parts: the publisher never holds a
city's names in one document. Read from published rows only, like every page, so nothing filed
can be found (invariant 2)."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from publishers.site_data import Published
from publishers.site_paths import department_page, project_page, release_page, search_part


def parts_bytes(jurisdictions: Iterable[str]) -> bytes:
    """`search-index.json`: the keys of the parts, each relative to the index page."""
    return orjson.dumps({"parts": [search_part(code) for code in sorted(jurisdictions)]}) + b"\n"


def search_bytes(p: Published) -> bytes:
    """A part of the search box's index: every published name of one jurisdiction with its
    kind, page, department and year (issue #15: two projects of one name are told apart by
    department and year; "" where a department or a year does not apply)."""
    items: set[tuple[str, str, str, str, str]] = set()
    own_pages = set(p.release_departments())
    for release in p.releases.values():
        e = release.entry
        items.add(
            (
                str(e["title"]),
                "公开批次",
                release_page(release.key),
                str(e["departmentName"] or ""),
                str(e["fiscalYear"]),
            )
        )
    for (jurisdiction, code), names in p.departments.items():
        page = department_page(jurisdiction, code)
        if (jurisdiction, code) in own_pages:
            items |= {(str(n["name"]), "部门", page, "", "") for n in names.values()}
    for (jurisdiction, code), years in p.projects.items():
        page = project_page(jurisdiction, code)
        for year, subjects in years.items():
            for s in subjects:
                department = str(s.data.get("departmentName") or "")
                kind = str(s.data["kindLabel"])
                items.add((str(s.data["name"]), kind, page, department, str(year)))
    document = {"items": [list(item) for item in sorted(items)]}
    return orjson.dumps(document) + b"\n"
