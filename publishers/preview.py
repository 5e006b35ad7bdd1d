"""A release's page as publishing it now would render it, without publishing: the console's
preview (issue #17). The page is the site's own template fed the selection, the objects the
publish would upload and the catalog entry its next version would have; nothing is written to
the database or the store."""

from __future__ import annotations

import asyncio
from datetime import datetime

import orjson

from publishers import history
from publishers.releases import (
    file_objects,
    load_release,
    manifest_key,
    release_entry,
    release_folder,
    render_release,
)
from publishers.render import dumps
from publishers.select import Selection
from publishers.site import release_preview
from publishers.site_data import FileLink, PublishedRelease, Row
from storage import models
from storage.enums import RecordType


async def release_page(
    release_id: int, selection: Selection, now: datetime, style_href: str
) -> bytes:
    """The page of the release with `selection` as its next version, published at `now`."""
    release = await load_release(release_id)
    # Rendering is CPU work (the official tables' workbook, the page): off the event loop, as
    # the publisher's own site rendering is, so the API process keeps answering meanwhile.
    objects = await asyncio.to_thread(render_release, selection)
    objects += await file_objects(selection.files)
    number = release.current_version + 1
    upcoming = models.ReleaseVersion(
        release_id=release.id,
        number=number,
        published_at=now,
        manifest_key=manifest_key(release, number),
        correction_note=None,
        kind=history.version_kind(number, withdrawing=False),
    )
    earlier = await models.ReleaseVersion.filter(release_id=release.id, number__lt=number)
    # As the snapshot rows hold them: JSON values, not Decimals and dates.
    entry = orjson.loads(dumps(release_entry(release, [*earlier, upcoming])))
    rows = tuple(
        Row(r.record_type, r.key, r.fiscal_year, r.department_code, orjson.loads(dumps(r.data)))
        for r in selection.records
    )
    own = Row(RecordType.RELEASE, entry["key"], release.fiscal_year, None, entry)
    folder = release_folder(release)
    links = tuple(
        FileLink(f"{folder}/{o.path}", o.path, o.title, o.content_type, o.size, o.sha256)
        for o in objects
    )
    release_data = PublishedRelease(entry, (*rows, own), links)
    return await asyncio.to_thread(release_preview, release_data, style_href)
