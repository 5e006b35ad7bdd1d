"""The DCAT catalog's pages over a published database (issue 18, decisions.md D29):

    python -m bench.catalog DATABASE_URL STORE_FOLDER [--base-url URL]

Each jurisdiction's page (`site/catalogs/<code>/catalog.jsonld` and `.ttl`) is loaded and
rendered in a process of its own, from what `update_site` renders it from (the releases'
catalog entries, objects and the rows naming the jurisdiction and departments), and then the
first page (`catalog.jsonld`, `.ttl`) from the portal's input. For each: seconds,
bytes of the two syntaxes, and the peak resident memory of its process, beside the floor — the
same process having imported everything and connected, before it loads anything. Prints one
JSON line per page, then a summary line with the load average. Nothing is written to the store.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import time
from typing import Any

import orjson

from publishers import dcat
from publishers.bulk_listing import read_listing
from publishers.site_data import PORTAL, load
from storage import database, models
from storage.enums import ReleaseStatus
from storage.objects import open_store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _render(url: str, folder: str, code: str | None, base_url: str | None) -> dict[str, Any]:
    store = open_store(f"file://{folder}")
    async with database.connected(url):
        floor = _peak_mib()
        started = time.perf_counter()
        listing = await read_listing(store)
        if code is not None:
            # What update_site renders it from: the portal's view of the releases.
            part = await load(store, code, shown=PORTAL, listing=listing)
            following = dcat.next_pages(await _codes())[code]
            pages = dcat.render_jurisdiction_dcat(part, code, following, base_url)
        else:
            portal = await load(store, shown=PORTAL, objects=False, listing=listing)
            pages = dcat.render_dcat(portal.portal(), base_url)
        seconds = time.perf_counter() - started
    return {
        "page": code or "first",
        "seconds": round(seconds, 1),
        "bytes": {page.path.rsplit(".", 1)[1]: page.size for page in pages},
        "peak_mib": round(_peak_mib(), 1),
        "floor_mib": round(floor, 1),
    }


async def _codes() -> list[str]:
    return sorted(
        await models.Release.filter(status=ReleaseStatus.PUBLISHED)
        .distinct()
        .values_list("jurisdiction__code", flat=True)
    )


def _child(url: str, folder: str, code: str | None, base_url: str | None) -> dict[str, Any]:
    return asyncio.run(_render(url, folder, code, base_url))


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.catalog")
    parser.add_argument("database_url")
    parser.add_argument("store_folder")
    parser.add_argument("--base-url", default="https://open.example.gov.cn/open")
    args = parser.parse_args()

    async def codes() -> list[str]:
        async with database.connected(args.database_url):
            return await _codes()

    found = []
    # A fresh process per page: its peak memory is that page's alone.
    context = multiprocessing.get_context("spawn")
    for code in [*asyncio.run(codes()), None]:
        with context.Pool(1) as pool:
            line = pool.apply(_child, (args.database_url, args.store_folder, code, args.base_url))
        print(orjson.dumps(line).decode(), flush=True)
        found.append(line)
    pages = [f for f in found if f["page"] != "first"]
    summary = {
        "pages": len(pages),
        "largest_page_bytes": max((sum(f["bytes"].values()) for f in pages), default=0),
        "all_pages_bytes": sum(sum(f["bytes"].values()) for f in found),
        "largest_page_peak_mib": max((f["peak_mib"] for f in pages), default=0),
        "first_page": found[-1],
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(orjson.dumps(summary).decode(), flush=True)


if __name__ == "__main__":
    main()
