"""The demo data set published end to end to S3 (moto) — the district on PostgreSQL, the town on
SQLite — once per session, then checked: statuses, catalog, snapshot rows, a leak scan of every
object for each year's filings, and the data packages against frictionless."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path

import orjson

from publishers import coverage, rules
from publishers.records import department_key, subject_key
from publishers.releases import CATALOG_KEY, release_folder
from publishers.select import Selector
from publishers.verify import verify
from storage import database, models
from storage.enums import ReleaseStatus
from tests.conftest import PublishedDemo
from tests.publishers import dataset
from tests.publishers.test_releases import finder


async def test_every_release_is_published_or_exempt(published_demo: PublishedDemo) -> None:
    batch = published_demo.batch
    assert batch.failures == []
    exempt = {r.release_id for r in batch.results if r.outcome == "exempt"}
    assert exempt, "the demo files whole departments: their releases must stay unpublished"
    async with database.connected(published_demo.url):
        for release in await models.Release.all():
            expected = ReleaseStatus.SCHEDULED if release.id in exempt else ReleaseStatus.PUBLISHED
            assert release.status is expected
        published = await models.Release.filter(status=ReleaseStatus.PUBLISHED).count()
        assert await models.Disclosure.all().count() > published * 3
        # The year's whole obligation too (DR-3, DR-4e): what `publish --all` checks after.
        years = await coverage.check_years(await models.Jurisdiction.all())
        assert [p for y in years for p in y.problems] == []
        assert all(y.subjects.due > 0 and y.subjects.exempt > 0 for y in years)
    catalog = orjson.loads(await published_demo.store.get(CATALOG_KEY))
    assert len(catalog["releases"]) == published
    late = [r for r in catalog["releases"] if not r["onTime"]]
    assert 0 < len(late) < published / 4


async def _filed_markers() -> dict[int, tuple[set[str], set[str]]]:
    """Per fiscal year: the names only filed records carry, and the keys of filed subjects."""
    jurisdiction = await models.Jurisdiction.get()
    selector = Selector()
    years = sorted(set(await models.Release.all().values_list("fiscal_year", flat=True)))
    markers: dict[int, tuple[set[str], set[str]]] = {}
    for year in years:
        facts = await selector.year_facts(jurisdiction.id, year)
        covered = facts.coverage.covered_subject_ids()
        filed_departments = facts.coverage.covered_department_ids()
        names_filed = {facts.subjects[i].name for i in covered} | {
            facts.departments[d].name for d in filed_departments
        }
        names_public = {s.name for i, s in facts.subjects.items() if i not in covered} | {
            d.name for i, d in facts.departments.items() if i not in filed_departments
        }
        keys = {
            subject_key(
                jurisdiction.code,
                facts.departments[s.department_id].code,
                str(s.kind),
                s.code,
                s.fiscal_year,
            )
            for s in (facts.subjects[i] for i in covered)
        } | {
            department_key(jurisdiction.code, facts.departments[d].code) for d in filed_departments
        }
        markers[year] = (names_filed - names_public, keys)
    return markers


async def test_nothing_of_a_years_filings_is_in_that_years_objects(
    published_demo: PublishedDemo,
) -> None:
    async with database.connected(published_demo.url):
        markers = await _filed_markers()
    assert all(names for names, _ in markers.values()), "each year has distinctively named filings"
    objects = await published_demo.objects()
    texts = await published_demo.texts()
    by_year: dict[int, list[str]] = defaultdict(list)
    for key in objects:
        match = re.match(r"releases/[^/]+/(\d{4})/([^/]+)/", key)
        if match:
            year = int(match[1])
            by_year[year].append(key)
            if match[2] == "finance-annual":  # it carries the key reports of the year before
                by_year[year - 1].append(key)
    found = []
    for year, (names, keys) in markers.items():
        # One pass per year (`finder`): every filed name, and every filed key as a whole JSON string
        # or CSV cell. (A regular expression of the same alternatives took minutes: Python's
        # `re` tries each alternative at each position of ~300 MB.)
        markers_in = finder(
            {m: m for m in [*names, *(f'"{k}"' for k in keys), *(f",{k}," for k in keys)]}
        )
        for key in by_year[year]:
            found += [f"{m} in {key}" for m in sorted(markers_in(key + texts[key]))]
    catalog = orjson.loads(objects[CATALOG_KEY])
    for entry in catalog["releases"]:
        names, keys = markers.get(entry["fiscalYear"], (set(), set()))
        found += [f"{n} in the catalog" for n in names if n in orjson.dumps(entry).decode()]
    assert found == []


async def test_data_packages_list_every_resource_exactly(
    published_demo: PublishedDemo, tmp_path: Path
) -> None:
    """Every package's `bytes` and `hash` match its objects; frictionless validates one package
    of each kind and year in full (all of them would take minutes of the suite's budget; the
    small data set's test validates every package it publishes)."""
    from frictionless import Package

    objects = await published_demo.objects()
    packages = sorted(k for k in objects if "/datapackage.v" in k)
    assert len(packages) == len(orjson.loads(objects[CATALOG_KEY])["releases"])
    sample: dict[tuple[str, str], str] = {}
    for key in packages:
        folder = key.rsplit("/", 1)[0]
        for resource in orjson.loads(objects[key])["resources"]:
            data = objects[f"{folder}/{resource['path']}"]
            assert resource["bytes"] == len(data), resource["path"]
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        year, kind = re.match(r"releases/[^/]+/(\d{4})/([^/]+)/", key).groups()  # type: ignore[union-attr]
        sample.setdefault((year, kind), key)
    for key, data in objects.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(data)
    invalid = {}
    for key in sorted(sample.values()):
        report = Package(str(tmp_path / key)).validate()
        if not report.valid:
            invalid[key] = report.flatten(["type", "note"])[:3]
    assert len(sample) >= 6 and invalid == {}


async def test_the_published_demo_verifies(published_demo: PublishedDemo) -> None:
    """Every release published three at a time on PostgreSQL: the jurisdictions' chains are
    still single lines, every signature and object checks out (issue 16)."""
    report = await verify(published_demo.store)
    assert report.ok, report.failures[:10]
    assert report.listed and report.keys == [dataset.SIGNER.fingerprint]
    catalog = orjson.loads(await published_demo.store.get(CATALOG_KEY))
    versions = sum(len(r["versions"]) for r in catalog["releases"])
    assert report.manifests == versions > 0
    assert {c["jurisdictionCode"] for c in catalog["chains"]} == {
        r["jurisdictionCode"] for r in catalog["releases"]
    }


async def test_republishing_the_unchanged_demo_writes_nothing(
    published_demo: PublishedDemo,
) -> None:
    from publishers.releases import Publisher

    before = {k: hashlib.sha256(v).hexdigest() for k, v in (await published_demo.objects()).items()}
    recorded = published_demo.recorded
    writes = recorded.writes
    async with database.connected(published_demo.url):
        # One year's releases: the whole republish is what `make bench` measures.
        published = models.Release.filter(status=ReleaseStatus.PUBLISHED)
        year = (await published.first().values_list("fiscal_year", flat=True)) or 0
        ids = [r.id for r in await published.filter(fiscal_year=year)]
        release = await models.Release.get(id=ids[0]).prefetch_related("jurisdiction", "department")
        batch = await Publisher(recorded, signer=dataset.SIGNER).publish_many(ids)
    assert batch.stats.written == 0
    assert {r.outcome for r in batch.results} == {"unchanged"}
    # Not one put or delete reached the S3 store.
    assert recorded.writes == writes
    assert {k: hashlib.sha256(v).hexdigest() for k, v in recorded.objects.items()} == before
    assert release_folder(release) in " ".join(before)
    assert rules.due_date(release.approval_date) == release.due_date


async def test_no_planted_personal_datum_is_published(published_demo: PublishedDemo) -> None:
    """DR-10: the demo's planted ID and mobile number (a deviation reason) appear in no
    published byte — raw, JSON-unescaped, HTML-unescaped, percent-decoded, in any separator or
    width the detectors read, nor in the text layer of any published file — and their field is
    published as a marked redaction with its basis. The firm's landline, which the officer
    marked as not personal data, is published: the exception is what let it through."""
    from api.demo import leaks
    from publishers import file_text
    from publishers import personal_data as pd

    objects = await published_demo.objects()
    decoded_texts = await published_demo.texts()
    planted = set(leaks.PLANTED)
    texts: dict[str, str] = {}
    for key, data in objects.items():
        if key.endswith(".pdf"):  # its text layer; a workbook's cells are in `decoded_texts`
            texts[key] = "\n".join(p.text for p in file_text.pages(data, "application/pdf"))
        else:
            texts[key] = key + decoded_texts[key]
    # Every width and separator the detectors read: full width undone, then the separators a
    # number may be written with (space, hyphen, dot) removed.
    compact = {key: re.sub(r"[ .\-]", "", pd.normalise(text)) for key, text in texts.items()}
    found = [f"{p} in {key}" for key, text in compact.items() for p in planted if p in text]
    assert not found
    redacted = [t for t in texts.values() if pd.redacted_marker("")[:6] in t]
    assert redacted, "the redacted deviation reason is published as a marked redaction"
    assert any('"redactionBasis"' in t for t in redacted)
    landline = leaks.FIRM_LANDLINE
    assert any(landline in t for k, t in texts.items() if k.endswith(".pdf"))
    async with database.connected(published_demo.url):
        rows = await models.Disclosure.all().values_list("data", flat=True)
    snapshot = orjson.dumps(rows).decode()
    assert not [p for p in planted if p in snapshot]
