"""Benchmark: publish every release of the district demo to S3, then again unchanged, against
the floor of uploading the same bytes with a bare minio-SDK loop; then what the bulk files
(issue #15) add: more first publishes, without and with them in turn, each into a fresh database
copy and a fresh S3 server.

    .venv/bin/python -m bench.publish [--database postgres|sqlite] [--scale district|town]
                                      [--bulk-runs N]

S3 is moto's standalone server on loopback (a real S3-protocol HTTP server), a process of its
own like MinIO in production; the floor and the publish talk to the same server. The demo data
set is built once into a template database (`gongkai_bench_<scale>` on PostgreSQL, a file under
var/bench/ on SQLite) and copied for every run, so each run starts from unpublished releases.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import resource
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from minio import Minio

from api.cli import history_time
from api.demo import generate
from bench.moto import moto_server
from publishers import bulk, privacy, site
from publishers.bulk_listing import Listing
from publishers.releases import Publisher
from publishers.sync import SyncStats
from storage import database, models
from storage.objects.s3 import S3ObjectStore

PG = "postgres://postgres@127.0.0.1:5432"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def schema_digest() -> str:
    """What the template is made of — the migrations and the demo generator: a template built
    by other code is never reused."""
    root = Path(__file__).resolve().parents[1]
    files = sorted([*root.glob("storage/migrations/*.py"), *root.glob("api/demo/*.py")])
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:10]


async def prepare_database(backend: str, scale: str) -> str:
    """A fresh copy of the demo template, building the template first if it is missing."""
    run = f"gk_bench_run_{uuid.uuid4().hex[:6]}"
    if backend == "postgres":
        template = f"gongkai_bench_{scale}_{schema_digest()}"
        conn = await asyncpg.connect(f"{PG}/postgres")
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", template)
        await conn.close()
        if not exists:
            await _admin(f'CREATE DATABASE "{template}"')
            await _build(f"{PG}/{template}", scale)
        await _admin(f'CREATE DATABASE "{run}" TEMPLATE "{template}"')
        return f"{PG}/{run}"
    folder = Path("var/bench")
    folder.mkdir(parents=True, exist_ok=True)
    template_file = folder / f"{scale}-{schema_digest()}.sqlite3"
    if not template_file.exists():
        await _build(f"sqlite://{template_file}", scale)
    shutil.copyfile(template_file, folder / f"{run}.sqlite3")
    return f"sqlite://{folder / run}.sqlite3"


async def _build(url: str, scale: str) -> None:
    print(f"building the {scale} demo template (once) …", flush=True)
    started = time.perf_counter()
    await database.migrate(url)
    async with database.connected(url):
        await generate(scale, seed=1)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)


async def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        await _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')
    else:
        Path(url.removeprefix("sqlite://")).unlink(missing_ok=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def builders_peak_rss_mib() -> float:
    """The largest of the finished child processes' peaks: the bulk files' builders."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cpu_seconds() -> float:
    """This process's CPU (every thread) and its finished children's: the bulk files are built
    in child processes, reaped when a publish's bulk step ends. The moto server, running until
    the end, and the database are not counted."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


async def publish_everything(publisher: Publisher) -> tuple[float, SyncStats, int]:
    ids = [
        int(str(i)) for i in await models.Release.all().order_by("id").values_list("id", flat=True)
    ]
    releases = {r.id: r for r in await models.Release.all()}
    started = time.perf_counter()
    batch = await publisher.publish_many(ids, as_of=lambda r: history_time(releases[r.id]))
    elapsed = time.perf_counter() - started
    if batch.failures:
        raise SystemExit(f"{len(batch.failures)} releases refused, e.g. {batch.failures[0][1]}")
    published = sum(1 for r in batch.results if r.outcome == "published")
    return elapsed, batch.stats, published


class TimedPublisher(Publisher):
    """A publisher that adds up the time spent on the pointer objects (catalog and site)."""

    pointer_seconds = 0.0

    async def write_pointers(self, stats: SyncStats) -> None:
        started = time.perf_counter()
        await super().write_pointers(stats)
        self.pointer_seconds += time.perf_counter() - started


class GuardTimer:
    """Adds up the time the personal-data guard (DR-10) takes inside a publish: searching every
    text and reading every file's text, with its queries. Releases are selected three at a time
    on PostgreSQL, so the sum can exceed what the guard adds to the wall-clock time: it is the
    upper bound that the figure reports."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._original = privacy.guard

    def __enter__(self) -> GuardTimer:
        original = self._original

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        privacy.guard = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        privacy.guard = self._original  # type: ignore[assignment]


class BulkTimer:
    """Adds up the time and the bytes of the bulk files inside a publish (`bulk.update_bulk`,
    reads and writes included); with `enabled=False` they are not built at all (the catalogs
    list none), which is the publish without them."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.seconds = 0.0
        self.cpu_seconds = (
            0.0  # `cpu_seconds`: with the builder processes, not moto or the database
        )
        self.bytes = 0
        self.objects = 0
        self._original = bulk.update_bulk

    def __enter__(self) -> BulkTimer:
        original = self._original

        async def timed(store: Any, stats: SyncStats, **kwargs: Any) -> Listing:
            if not self.enabled:
                return Listing()
            started, cpu = time.perf_counter(), cpu_seconds()
            before = (stats.bytes, stats.written)
            try:
                return await original(store, stats, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.cpu_seconds += cpu_seconds() - cpu
                self.bytes += stats.bytes - before[0]
                self.objects += stats.written - before[1]

        bulk.update_bulk = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        bulk.update_bulk = self._original  # type: ignore[assignment]


async def bulk_run(backend: str, scale: str, with_bulk: bool) -> tuple[float, SyncStats]:
    """One first publish into a fresh database copy and a fresh S3 server."""
    with moto_server() as endpoint:
        url = await prepare_database(backend, scale)
        try:
            store = S3ObjectStore(
                endpoint, "bench-bulk", access_key="bench", secret_key="secret", secure=False
            )
            await store.ensure_bucket()
            async with database.connected(url):
                with BulkTimer(enabled=with_bulk):
                    seconds, stats, _ = await publish_everything(Publisher(store))
        finally:
            await drop_database(url)
    return seconds, stats


async def guard_alone() -> tuple[float, float]:
    """Select every release one after another, as a cold first publish would (no extracted
    text stored yet), and add up the guard's share: with nothing else in flight, its time is
    what it costs. Returns (guard seconds, selection seconds); the stored texts are removed
    again so that the publish that follows starts cold too."""
    from publishers.select import Selector

    await models.FileText.all().delete()
    selector = Selector()
    started = time.perf_counter()
    with GuardTimer() as guard:
        for release in await models.Release.all().order_by("id"):
            await selector.select(release)
    selecting = time.perf_counter() - started
    await models.FileText.all().delete()
    return guard.seconds, selecting


async def time_site(store: S3ObjectStore) -> tuple[float, float, int, int]:
    """Load and render the site of the published database once more (no writes): seconds to
    load (snapshot rows and manifests), seconds to render, objects and bytes."""
    started = time.perf_counter()
    published = await site.load(store)
    loaded = time.perf_counter()
    pages = site.render_site(published)
    rendered = time.perf_counter()
    return loaded - started, rendered - loaded, len(pages), sum(p.size for p in pages)


def floor(client: Minio, source: str, target: str) -> tuple[float, int, int]:
    """Upload every object of `source` again into `target` with a plain sequential loop."""
    from io import BytesIO

    blobs = []
    for item in client.list_objects(source, recursive=True):
        response = client.get_object(source, item.object_name)
        blobs.append((item.object_name, response.read()))
        response.close()
        response.release_conn()
    client.make_bucket(target)
    started = time.perf_counter()
    for key, data in blobs:
        client.put_object(
            target, key, BytesIO(data), len(data), content_type="application/octet-stream"
        )
    return time.perf_counter() - started, len(blobs), sum(len(d) for _, d in blobs)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument(
        "--bulk-runs",
        type=int,
        default=2,
        help="first publishes after the main one, without and with the bulk files in turn "
        "(the main publish, with them, is the first of the interleaved series)",
    )
    args = parser.parse_args()

    with moto_server() as endpoint:
        url = await prepare_database(args.database, args.scale)
        try:
            store = S3ObjectStore(
                endpoint, "bench-publish", access_key="bench", secret_key="secret", secure=False
            )
            await store.ensure_bucket()
            async with database.connected(url):
                releases = await models.Release.all().count()
                guard_s, select_s = await guard_alone()
                publisher = TimedPublisher(store)
                with GuardTimer() as guard, BulkTimer() as bulk_timer:
                    cpu = cpu_seconds()
                    first, stats, published = await publish_everything(publisher)
                    first_cpu = cpu_seconds() - cpu
                peak = peak_rss_mib()
                load_s, render_s, pages, page_bytes = await time_site(store)
                second, again, _ = await publish_everything(Publisher(store))
            client = Minio(endpoint, "bench", "secret", secure=False)
            floor_s, floor_objects, floor_bytes = await asyncio.to_thread(
                floor, client, "bench-publish", "bench-floor"
            )
        finally:
            await drop_database(url)
    # Interleaved: with (the main publish), without, with, without, …
    series: dict[bool, list[tuple[float, SyncStats]]] = {True: [(first, stats)], False: []}
    for run in range(args.bulk_runs):
        with_bulk = run % 2 == 1
        label = "with" if with_bulk else "without"
        print(f"bulk comparison {run + 1}/{args.bulk_runs}: {label} the bulk files", flush=True)
        series[with_bulk].append(await bulk_run(args.database, args.scale, with_bulk))

    print(f"\npublish benchmark: {args.scale} demo on {args.database}, S3 = moto on loopback")
    print(f"  releases                 {releases} ({published} published, the rest exempt)")
    print(
        f"  first publish            {first:8.2f} s  {stats.written:6d} objects "
        f"{stats.bytes / 1e6:8.1f} MB  peak RSS {peak:.0f} MiB (a bulk builder "
        f"process: {builders_peak_rss_mib():.0f} MiB)"
    )
    print(
        f"  unchanged republish      {second:8.2f} s  {again.written:6d} objects "
        f"({second / first:.1%} of the first publish; target < 10%)"
    )
    print(
        f"  floor (bare minio loop)  {floor_s:8.2f} s  {floor_objects:6d} objects "
        f"{floor_bytes / 1e6:8.1f} MB"
    )
    print(f"  publish / floor          {first / floor_s:8.2f}×  (target ≤ 2×)")
    site_s = load_s + render_s
    print(
        f"  site render              {site_s:8.2f} s  {pages:6d} objects "
        f"{page_bytes / 1e6:8.1f} MB  (load {load_s:.2f} s + render {render_s:.2f} s; "
        f"{site_s / first:.1%} of the publish; target < 20%)"
    )
    print(
        f"  pointers in the publish  {publisher.pointer_seconds:8.2f} s  "
        f"(catalog and site, with their writes: {publisher.pointer_seconds / first:.1%})"
    )
    print(
        f"  personal-data guard      {guard_s:8.2f} s  alone, every release selected in turn "
        f"({select_s:.2f} s with the selection): {guard_s / first:.1%} of the first publish "
        "(target < 10%)"
    )
    print(
        f"    inside the publish     {guard.seconds:8.2f} s  summed over {guard.calls} releases "
        f"three in flight, waits for the others included ({guard.seconds / first:.1%})"
    )
    print(
        f"  bulk files in the publish {bulk_timer.seconds:7.2f} s  {bulk_timer.objects:6d} objects "
        f"{bulk_timer.bytes / 1e6:8.1f} MB  (measured inside the main publish: "
        f"{bulk_timer.seconds / first:.1%} of its time, {bulk_timer.bytes / stats.bytes:.1%} "
        "of its bytes; target < 25% of the time)"
    )
    print(
        f"    its CPU time           {bulk_timer.cpu_seconds:8.2f} s  of the publish's "
        f"{first_cpu:.2f} s in this process and its builders "
        f"({bulk_timer.cpu_seconds / first_cpu:.1%}; "
        "moto and the database not counted): the share on an unloaded machine"
    )
    if series[False]:
        with_s = sum(t for t, _ in series[True]) / len(series[True])
        without_s = sum(t for t, _ in series[False]) / len(series[False])
        with_mb = sum(st.bytes for _, st in series[True]) / len(series[True]) / 1e6
        without_mb = sum(st.bytes for _, st in series[False]) / len(series[False]) / 1e6
        runs = (
            ", ".join(f"{t:.1f}" for t, _ in series[True])
            + " with; "
            + ", ".join(f"{t:.1f}" for t, _ in series[False])
        )
        print(
            f"  with / without bulk      {with_s:8.2f} s / {without_s:.2f} s = "
            f"{with_s / without_s:.2f}×, {with_mb:.1f} MB / {without_mb:.1f} MB "
            f"(+{with_s - without_s:.1f} s, +{with_mb - without_mb:.1f} MB; runs: {runs} without)"
        )
    print(f"  load average             {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
