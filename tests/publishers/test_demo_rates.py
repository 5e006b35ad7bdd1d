"""One number format for execution rates: a percentage with two places, for a single record as
for an aggregate, in the data files, on the site's pages and in the public API (issue 11)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson

from schema.context import Context
from schema.public.schema import build
from storage import database
from tests.conftest import PublishedDemo

TWO_PLACES = re.compile(r"\d+\.\d\d")


def _rates(value: Any) -> list[str]:
    """Every `executionRate` inside a published JSON value."""
    if isinstance(value, dict):
        found = [str(v) for k, v in value.items() if k == "executionRate" and v is not None]
        return found + [r for v in value.values() for r in _rates(v)]
    if isinstance(value, list):
        return [r for v in value for r in _rates(v)]
    return []


async def test_rates_have_two_places_in_files_pages_and_api(
    published_demo: PublishedDemo,
) -> None:
    objects = await published_demo.objects()
    in_json, in_csv, on_pages = [], [], []
    for key, data in objects.items():
        if "/data/" in key and key.endswith(".json"):
            in_json += _rates(orjson.loads(data))
        elif "/data/" in key and key.endswith(".csv") and not key.endswith(".excel.csv"):
            for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
                in_csv += [v for k, v in row.items() if k.endswith("executionRate") and v]
        elif key.endswith(".html"):
            # Rates in table cells and in sentences ("执行率 86.18%"); other percentages on the
            # pages are indicator values as the forms write them ("≥95%", "96.9%").
            page = data.decode("utf-8")
            on_pages += re.findall(r'<td class="num">([\d.]+)%</td>', page)
            on_pages += re.findall(r"执行率 ([\d.]+)%", page)
    async with database.connected(published_demo.url):
        answer = await build().execute(
            "{ selfAssessments(first: 100) { nodes { executionRate } }"
            " statistics(groupBy: DEPARTMENT) { executionRate } }",
            context_value=Context(),
        )
    assert answer.errors is None and answer.data is not None
    in_api = _rates(answer.data)
    for where, rates in {
        "data files (JSON)": in_json,
        "data files (CSV)": in_csv,
        "pages": on_pages,
        "public API": in_api,
    }.items():
        assert rates, where
        odd = sorted({r for r in rates if not TWO_PLACES.fullmatch(r)})
        assert odd == [], f"{where}: {odd[:10]}"
