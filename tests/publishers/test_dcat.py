"""The DCAT-AP 3 catalog (issue #15): `catalog.jsonld` and `catalog.ttl` of the published town
demo hold the same graph, conform to the repository's SHACL shapes (publishers/shapes/), and
describe every published release and every object of its current version; a catalog broken on
purpose does not conform. No network: both contexts and the shapes are local."""

from __future__ import annotations

import hashlib
from importlib import resources
from urllib.parse import unquote

import orjson
import pyshacl
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, XSD

from publishers import dcat, site
from storage import database, models
from storage.enums import ReleaseStatus
from tests.conftest import PublishedDemo

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")  # rdflib's lacks DCAT 3 terms
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def shapes() -> rdflib.Graph:
    graph = rdflib.Graph()
    text = (resources.files("publishers") / "shapes" / "dcat-ap-3.ttl").read_text()
    return graph.parse(data=text, format="turtle")


def validate(data: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    """Conformance with warnings allowed (the spec's recommended properties), and the report."""
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes(), allow_warnings=True, inference="none"
    )
    assert isinstance(report, rdflib.Graph)
    return bool(conforms), report


def results(report: rdflib.Graph) -> list[tuple[str, str, str]]:
    """Each result as (severity, focus node, path)."""
    return sorted(
        (
            str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
            str(report.value(r, SH.focusNode)),
            str(report.value(r, SH.resultPath)),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    )


def graphs(objects: dict[str, bytes]) -> tuple[rdflib.Graph, rdflib.Graph]:
    jsonld = rdflib.Graph().parse(data=objects[dcat.JSONLD_KEY], format="json-ld")
    turtle = rdflib.Graph().parse(data=objects[dcat.TURTLE_KEY], format="turtle")
    return jsonld, turtle


async def test_the_catalog_conforms_and_describes_every_release_and_object(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    jsonld, turtle = graphs(objects)
    assert isomorphic(jsonld, turtle)  # the two syntaxes hold one graph
    conforms, report = validate(turtle)
    assert conforms, report.serialize(format="turtle")
    assert results(report) == []  # not even a recommended property is missing

    async with database.connected(published_demo.url):
        releases = await models.Release.filter(status=ReleaseStatus.PUBLISHED).count()
    every = set(turtle.subjects(RDF.type, DCAT.Dataset))
    datasets = {d for d in every if "/site/releases/" in str(d)}
    assert len(datasets) == releases > 0
    # The bulk file sets (issue #15): one dataset per jurisdiction and year, and for all years.
    bulk_sets = every - datasets
    assert bulk_sets and all("/bulk/" in str(d) for d in bulk_sets)
    for dataset in bulk_sets:
        accessed = {
            str(turtle.value(d, DCAT.accessURL)) for d in turtle.objects(dataset, DCAT.distribution)
        }
        assert accessed and all("/latest/" in url for url in accessed)  # the stable keys
    for dataset in datasets:
        titles = list(turtle.objects(dataset, DCTERMS.title))
        assert [t.language for t in titles] == ["zh"], dataset  # type: ignore[attr-defined]
        period = turtle.value(dataset, DCTERMS.temporal)
        start = turtle.value(period, DCAT.startDate)
        assert start is not None and start.datatype == XSD.date  # type: ignore[attr-defined]
        assert str(start).endswith("-01-01")
        assert turtle.value(dataset, DCAT.inSeries) in set(
            turtle.subjects(RDF.type, DCAT.DatasetSeries)
        )
    # Every distribution is an object in the bucket: its bytes, their size and sha256.
    distributions = list(turtle.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) > len(datasets)
    root = dcat.UNCONFIGURED_BASE + "/"
    for distribution in distributions:
        url = str(turtle.value(distribution, DCAT.downloadURL))
        data = objects[unquote(url.removeprefix(root))]
        assert int(turtle.value(distribution, DCAT.byteSize)) == len(data)  # type: ignore[arg-type]
        checksum = turtle.value(distribution, SPDX.checksum)
        assert str(turtle.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
    series = set(turtle.subjects(RDF.type, DCAT.DatasetSeries))
    kinds = {(str(d).split("/site/releases/")[1].split("/")[2]) for d in datasets}
    assert len(series) == len(kinds)  # the town is one jurisdiction: a series per kind


async def test_a_broken_catalog_does_not_conform(published_demo: PublishedDemo) -> None:
    async with database.connected(published_demo.url):
        loaded = await site.load(published_demo.store)
    two = site.SiteInput(loaded.releases[:2])  # the demo's first two releases: a small graph
    rendered = {r.path: r.data for r in dcat.render_dcat(two)}
    document = orjson.loads(rendered[dcat.JSONLD_KEY])
    nodes = document["@graph"]
    dataset = next(n for n in nodes if n["@type"] == "dcat:Dataset")
    distribution = next(n for n in nodes if n["@type"] == "dcat:Distribution")
    del dataset["dct:title"]
    del distribution["dcat:accessURL"]
    broken = rdflib.Graph().parse(data=orjson.dumps(document), format="json-ld")
    conforms, report = validate(broken)
    assert not conforms
    assert results(report) == sorted(
        [
            ("Violation", dataset["@id"], str(DCTERMS.title)),
            ("Violation", distribution["@id"], str(DCAT.accessURL)),
        ]
    )
    # A missing recommended property is a warning: conformant, and reported.
    keyword = next(n for n in nodes if n["@type"] == "dcat:Dataset" and n is not dataset)
    del keyword["dcat:keyword"]
    dataset["dct:title"] = {"@value": "标题", "@language": "zh"}
    distribution["dcat:accessURL"] = distribution["dcat:downloadURL"]
    warned = rdflib.Graph().parse(data=orjson.dumps(document), format="json-ld")
    conforms, report = validate(warned)
    assert conforms
    assert results(report) == [("Warning", keyword["@id"], str(DCAT.keyword))]


@pytest.mark.parametrize(
    ("name", "uri"),
    [
        ("CC-BY-4.0", "http://spdx.org/licenses/CC-BY-4.0"),
        ("https://example.org/licence", "https://example.org/licence"),
    ],
)
def test_a_licence_is_a_uri(name: str, uri: str) -> None:
    assert dcat.license_uri(name) == uri


def test_an_empty_site_has_a_conformant_catalog() -> None:
    objects = {r.path: r.data for r in dcat.render_dcat(site.SiteInput(()), "https://x.example/")}
    jsonld, turtle = graphs(objects)
    assert isomorphic(jsonld, turtle)
    conforms, report = validate(turtle)
    assert conforms
    # No dataset yet: the catalog's recommended dataset and modification date are missing.
    assert [(s, p) for s, _, p in results(report)] == sorted(
        [("Warning", str(DCAT.dataset)), ("Warning", str(DCTERMS.modified))]
    )
