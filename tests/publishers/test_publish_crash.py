"""A first publish survives kill -9 at every step (D12): a real publisher process is killed, a
rerun finishes the release, and the store then holds exactly what a publish that never crashed
writes — the same keys with the same bytes, and nothing else: no object, no object version, no
file, no folder, no temporary file left by the dead process.

The killed process is `tests/publishers/crash.py`. A publish writes, in order: the data objects
(content-addressed, in parallel), the data package, the manifest, then — after the database
flip — the catalog, the site (`site-manifest.json` first, pages, feed, calendar, search index)
and `site-manifest.json` again. Each kill point below falls in one of those steps.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from publishers.releases import Publisher
from storage import database, models
from storage.objects import open_store
from storage.objects.local import META_DIR
from storage.objects.s3 import S3ObjectStore
from tests.conftest import FOLDER_KILL_MATRIX, S3_KILL_MATRIX, Databases
from tests.publishers import dataset
from tests.publishers.test_releases import NOW
from tests.publishers.test_withdrawal_crash import (
    Store,
    current_objects,
    kill_during_publish,
    running,
    versioned_bucket,
)

#: The clock of the killed process (see `kill_during_publish`), of the rerun and of the
#: reference publish alike, so that their bytes can be compared.
LATER = NOW + timedelta(days=2)

#: One kill point in each step of a publish (the module docstring lists them).
KILLS = [
    "+1",  # the first data upload
    "+7",  # the middle of the uploads
    "key:datapackage.",  # every data object written, no data package yet
    "key:manifest.",  # the data package written, no manifest yet
    "key:catalog.json",  # the database flipped, no pointer written
    "key:site/",  # the site manifest marked, no page written
    "key:feed.xml",  # the middle of the pointers
    "key:search-index.json",  # the last page before the site manifest is final
]
AFTER_THE_FLIP = {"key:catalog.json", "key:site/", "key:feed.xml", "key:search-index.json"}
S3_KILLS = ["+7", "key:manifest.", "key:catalog.json", "key:feed.xml"]


#: Where a publish whose parts run in processes of their own dies (`--apart`): in a release's
#: part, in the publisher between the release parts and the site's, in a jurisdiction's site
#: part, and in the portal's part.
APART_KILLS = ["key:manifest.", "key:catalog.json", "key:site/projects/", "key:feed.xml"]


async def publish_killed_then_rerun(
    target: Store, db: str, kill_at: str, *, apart: bool = False
) -> str:
    """The killed publish's stderr."""
    built = await dataset.build(dataset.Plan(departments=1, projects=2))
    budget = built.releases[0]
    stderr = kill_during_publish(target, db, budget.id, kill_at, apart=apart)
    flipped = kill_at in AFTER_THE_FLIP or kill_at.startswith("key:site/")
    # Before the flip the dead worker holds the lease; the flip gives it back.
    assert bool((await models.Release.get(id=budget.id)).claimed_by) is not flipped

    # The rerun takes the dead worker's lease over at once (same host, process gone), or finds
    # the version published and writes the pointers the dead process did not.
    result = await Publisher(
        target.store, worker="rerun", clock=lambda: LATER, signer=dataset.SIGNER
    ).publish(budget.id)
    assert (result.outcome, result.version) == ("unchanged" if flipped else "published", 1)
    again = await Publisher(
        target.store, worker="rerun", clock=lambda: LATER, signer=dataset.SIGNER
    ).publish(budget.id)
    assert again.outcome == "unchanged"
    return stderr


async def reference_objects(databases: Databases, template: str, db: str) -> dict[str, bytes]:
    """What the same data set's release looks like published once, without a crash."""
    await database.close()
    url = await databases.copy(template)
    reference = open_store("memory://")
    try:
        async with database.connected(url):
            built = await dataset.build(dataset.Plan(departments=1, projects=2))
            publisher = Publisher(
                reference, worker="reference", clock=lambda: LATER, signer=dataset.SIGNER
            )
            await publisher.publish(built.releases[0].id)
        return {key: await reference.get(key) for key in await reference.keys()}
    finally:
        await databases.drop(url)
        await database.init(db, global_fallback=True)


def folder_entries(root: Path) -> set[str]:
    """Every file and folder under the root, the store's metadata and temporary files too."""
    entries = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            entries.add(str((Path(dirpath) / name).relative_to(root)))
    return entries


def expected_folder_entries(keys: set[str]) -> set[str]:
    """The files a local store keeps for `keys` (each with its metadata file) and their
    folders; nothing else."""
    files = keys | {f"{META_DIR}/{key}.json" for key in keys}
    folders = {str(parent) for f in files for parent in Path(f).parents if str(parent) != "."}
    return files | folders


@FOLDER_KILL_MATRIX
@pytest.mark.parametrize("kill_at", KILLS)
async def test_a_publish_killed_at_any_step_in_a_folder_is_finished_by_a_rerun(
    databases: Databases, migrated_template: str, db: str, tmp_path: Path, kill_at: str
) -> None:
    url = f"file://{tmp_path / 'store'}"
    target = Store(url, open_store(url), tmp_path / "store")
    await publish_killed_then_rerun(target, db, kill_at)

    objects = await current_objects(target)
    assert objects == await reference_objects(databases, migrated_template, db)
    assert folder_entries(tmp_path / "store") == expected_folder_entries(set(objects))


@S3_KILL_MATRIX
@pytest.mark.parametrize("kill_at", S3_KILLS)
async def test_a_publish_killed_at_any_step_on_s3_is_finished_by_a_rerun(
    databases: Databases, migrated_template: str, db: str, moto_endpoint: str, kill_at: str
) -> None:
    target = await versioned_bucket(moto_endpoint)
    await publish_killed_then_rerun(target, db, kill_at)

    objects = await current_objects(target)
    assert objects == await reference_objects(databases, migrated_template, db)
    # Every version of every key — delete markers included — belongs to a key of the release:
    # an upload the dead process made and the rerun did not need would show here.
    assert isinstance(target.store, S3ObjectStore)
    client, bucket = target.store.client, target.store.bucket
    listed = await asyncio.to_thread(
        lambda: list(client.list_objects(bucket, recursive=True, include_version=True))
    )
    assert {str(obj.object_name) for obj in listed} == set(objects)
    assert not [obj.object_name for obj in listed if obj.is_delete_marker]


@pytest.mark.parametrize("kill_at", APART_KILLS)
async def test_a_publish_in_parts_killed_takes_its_parts_with_it_and_is_finished_by_a_rerun(
    databases: Databases, migrated_template: str, db: str, tmp_path: Path, kill_at: str
) -> None:
    """kill -9 of a publisher whose jurisdiction's releases and pages are each published in a
    process of their own (publishers/apart.py): a part that is writing dies with it, leaving
    nothing that writes beside the rerun, and the rerun finishes the release as above."""
    url = f"file://{tmp_path / 'store'}"
    target = Store(url, open_store(url), tmp_path / "store")
    stderr = await publish_killed_then_rerun(target, db, kill_at, apart=True)

    parts = [int(line.split()[1]) for line in stderr.splitlines() if line.startswith("part ")]
    in_a_part = kill_at != "key:catalog.json"  # the publisher's own, between the parts
    assert len(parts) == in_a_part, stderr[-2000:]
    assert not [pid for pid in parts if running(pid)]
    objects = await current_objects(target)
    assert objects == await reference_objects(databases, migrated_template, db)
    assert folder_entries(tmp_path / "store") == expected_folder_entries(set(objects))
