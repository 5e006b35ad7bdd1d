"""The DCAT-AP 3 catalog (issue #15), in pages (issue 18): the first page and each
jurisdiction's catalog hold the same graph in JSON-LD and Turtle, conform to the repository's
SHACL shapes (publishers/shapes/), and together describe every published release and every
object of its current version; a harvester following the pages from either syntax reads every
jurisdiction once; a catalog broken on purpose does not conform. No network: both contexts and
the shapes are local."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any
from urllib.parse import unquote

import orjson
import pyshacl
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from publishers import dcat, site, site_paths
from storage import database, models
from storage.enums import ReleaseStatus
from storage.objects.memory import MemoryObjectStore
from tests.conftest import PublishedDemo
from tests.publishers import dataset
from tests.publishers.test_releases import everything, publisher

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")  # rdflib's lacks DCAT 3 terms
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
ROOT = dcat.UNCONFIGURED_BASE + "/"


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


def graphs(
    objects: dict[str, bytes], jsonld_key: str = dcat.JSONLD_KEY
) -> tuple[rdflib.Graph, rdflib.Graph]:
    """A page's two syntaxes, each parsed."""
    turtle_key = jsonld_key.removesuffix("jsonld") + "ttl"
    jsonld = rdflib.Graph().parse(data=objects[jsonld_key], format="json-ld")
    turtle = rdflib.Graph().parse(data=objects[turtle_key], format="turtle")
    return jsonld, turtle


def without_paging(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph without its page node, the one part the two syntaxes word differently (each
    links the next page in its own syntax)."""
    page = graph.value(predicate=RDF.type, object=HYDRA.PagedCollection)
    rest = rdflib.Graph()
    for triple in graph:
        if triple[0] != page:
            rest.add(triple)
    return rest


def next_page(graph: rdflib.Graph, key: str, root: str = ROOT) -> str | None:
    """The key of the next page, as ckanext-dcat's harvester finds it; the page's own node
    must be the document's."""
    pages = list(graph.subjects(RDF.type, HYDRA.PagedCollection))
    assert pages == [rdflib.URIRef(root + key)], key
    first = graph.value(pages[0], HYDRA.first)
    assert str(first) == root + "catalog." + key.rsplit(".", 1)[1]
    following = graph.value(pages[0], HYDRA.next)
    assert graph.value(pages[0], HYDRA.nextPage) == following  # the name ckanext-dcat 0.x reads
    return None if following is None else unquote(str(following).removeprefix(root))


async def test_the_catalog_conforms_and_describes_every_release_and_object(
    published_demo: PublishedDemo,
) -> None:
    objects = published_demo.recorded.objects
    first_ld, first_ttl = graphs(objects)
    assert isomorphic(without_paging(first_ld), without_paging(first_ttl))
    conforms, report = validate(first_ttl)
    assert conforms, report.serialize(format="turtle")
    assert results(report) == []
    # The first page: the jurisdictions' catalogs and series, no release.
    assert not set(first_ttl.subjects(RDF.type, DCAT.Dataset))
    (code,) = {k.split("/")[2] for k in objects if k.startswith("site/catalogs/")}
    key = site_paths.jurisdiction_catalog(code, "jsonld")
    assert next_page(first_ld, dcat.JSONLD_KEY) == key
    part = first_ttl.value(rdflib.URIRef(f"{ROOT}#catalog"), DCAT.catalog)
    assert set(first_ttl.objects(part, RDFS.seeAlso)) == {
        rdflib.URIRef(ROOT + site_paths.jurisdiction_catalog(code, s)) for s in ("jsonld", "ttl")
    }

    jsonld, turtle = graphs(objects, key)
    assert isomorphic(without_paging(jsonld), without_paging(turtle))  # one graph, two syntaxes
    assert next_page(jsonld, key) is None  # the town is the last page
    conforms, report = validate(turtle)
    assert conforms, report.serialize(format="turtle")
    assert results(report) == []  # not even a recommended property is missing
    # The jurisdiction's catalog is the node the first page lists, with its datasets too.
    assert set(turtle.subjects(RDF.type, DCAT.Catalog)) == {part}
    assert set(first_ttl.objects(part, DCAT.dataset)) == set(
        turtle.subjects(RDF.type, DCAT.DatasetSeries)
    )

    async with database.connected(published_demo.url):
        releases = await models.Release.filter(status=ReleaseStatus.PUBLISHED).count()
    every = set(turtle.subjects(RDF.type, DCAT.Dataset))
    assert set(turtle.objects(part, DCAT.dataset)) == every | set(
        turtle.subjects(RDF.type, DCAT.DatasetSeries)
    )
    datasets = {d for d in every if "/site/releases/" in str(d)}
    assert len(datasets) == releases > 0
    # The bulk file sets (issue #15): one dataset per jurisdiction and year, and for all years.
    bulk_sets = every - datasets
    assert bulk_sets and all("/bulk/" in str(d) for d in bulk_sets)
    for dataset_ in bulk_sets:
        accessed = {
            str(turtle.value(d, DCAT.accessURL))
            for d in turtle.objects(dataset_, DCAT.distribution)
        }
        assert accessed and all("/latest/" in url for url in accessed)  # the stable keys
    for dataset_ in datasets:
        titles = list(turtle.objects(dataset_, DCTERMS.title))
        assert [t.language for t in titles] == ["zh"], dataset_  # type: ignore[attr-defined]
        period = turtle.value(dataset_, DCTERMS.temporal)
        start = turtle.value(period, DCAT.startDate)
        assert start is not None and start.datatype == XSD.date  # type: ignore[attr-defined]
        assert str(start).endswith("-01-01")
        assert turtle.value(dataset_, DCAT.inSeries) in set(
            turtle.subjects(RDF.type, DCAT.DatasetSeries)
        )
    # Every distribution is an object in the bucket: its bytes, their size and sha256.
    distributions = list(turtle.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) > len(datasets)
    for distribution in distributions:
        url = str(turtle.value(distribution, DCAT.downloadURL))
        data = objects[unquote(url.removeprefix(ROOT))]
        assert int(turtle.value(distribution, DCAT.byteSize)) == len(data)  # type: ignore[arg-type]
        checksum = turtle.value(distribution, SPDX.checksum)
        assert str(turtle.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
    series = set(turtle.subjects(RDF.type, DCAT.DatasetSeries))
    kinds = {(str(d).split("/site/releases/")[1].split("/")[2]) for d in datasets}
    assert len(series) == len(kinds)  # a series per kind


async def test_a_harvester_following_the_pages_reads_every_jurisdiction_once(db: str) -> None:
    """Three jurisdictions, the middle one published last: from `catalog.ttl`, and from
    `catalog.jsonld`, the chain of next pages visits each jurisdiction's catalog once, in its
    own syntax, each page conforming; together they hold every published release. The first
    jurisdiction's catalog, whose releases did not change, now links the one published after
    it."""
    built = [
        await dataset.build(dataset.Plan(jurisdiction_code=code, departments=1, projects=1))
        for code in ("990101", "990103", "990102")
    ]
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for b in built[:2] for r in b.releases])
    await publisher(store).publish_many([r.id for r in built[2].releases])
    objects = await everything(store)
    async with database.connected(db):
        releases = await models.Release.filter(status=ReleaseStatus.PUBLISHED).count()
    for suffix, syntax in (("ttl", "turtle"), ("jsonld", "json-ld")):
        key: str | None = f"catalog.{suffix}"
        seen: list[str] = []
        datasets: set[rdflib.term.Node] = set()
        while key is not None:
            graph = rdflib.Graph().parse(data=objects[key], format=syntax)
            conforms, report = validate(graph)
            assert conforms and results(report) == [], key
            datasets |= {
                d for d in graph.subjects(RDF.type, DCAT.Dataset) if "/site/releases/" in str(d)
            }
            seen.append(key)
            key = next_page(graph, key)
        assert seen == [
            f"catalog.{suffix}",
            *(site_paths.jurisdiction_catalog(c, suffix) for c in ("990101", "990102", "990103")),
        ]
        assert len(datasets) == releases > 3


async def test_turtle_written_a_few_nodes_at_a_time_is_the_same_graph(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`to_turtle` hands rdflib a page `TURTLE_NODES` top-level nodes at a time (its memory is
    a chunk's); the chunks' Turtle, one after the other, is the JSON-LD's graph, nested nodes
    (a distribution's checksum) included."""
    built = await dataset.build(dataset.Plan(departments=2, projects=2))
    store = MemoryObjectStore()
    await publisher(store).publish_many([r.id for r in built.releases])
    key = site_paths.jurisdiction_catalog(dataset.Plan().jurisdiction_code, "jsonld")
    document = orjson.loads((await everything(store))[key])
    nodes = len(document["@graph"])
    jsonld = rdflib.Graph().parse(data=orjson.dumps(document), format="json-ld")
    assert set(jsonld.objects(None, SPDX.checksum))  # nested nodes, written inside their parent
    serialized: list[int] = []
    serialize = rdflib.Graph.serialize

    def counted(graph: rdflib.Graph, *args: Any, **kwargs: Any) -> Any:
        serialized.append(len(graph))
        return serialize(graph, *args, **kwargs)

    monkeypatch.setattr(rdflib.Graph, "serialize", counted)
    for size, chunks in ((2, -(-nodes // 2)), (nodes - 1, 2), (nodes, 1)):
        monkeypatch.setattr(dcat, "TURTLE_NODES", size)
        serialized.clear()
        turtle = dcat.to_turtle(document)
        assert len(serialized) == chunks and sum(serialized) == len(jsonld)
        assert isomorphic(rdflib.Graph().parse(data=turtle, format="turtle"), jsonld)


async def test_a_broken_catalog_does_not_conform(published_demo: PublishedDemo) -> None:
    async with database.connected(published_demo.url):
        loaded = await site.load(published_demo.store)
    two = site.SiteInput(loaded.releases[:2])  # the demo's first two releases: a small graph
    code = two.jurisdictions()[0]
    rendered = {r.path: r.data for r in dcat.render_jurisdiction_dcat(two, code, None)}
    document = orjson.loads(rendered[site_paths.jurisdiction_catalog(code, "jsonld")])
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
    assert isomorphic(without_paging(jsonld), without_paging(turtle))
    # No jurisdiction: the only page.
    assert next_page(jsonld, dcat.JSONLD_KEY, "https://x.example/") is None
    conforms, report = validate(turtle)
    assert conforms
    # No dataset yet: the catalog's recommended dataset and modification date are missing.
    assert [(s, p) for s, _, p in results(report)] == sorted(
        [("Warning", str(DCAT.dataset)), ("Warning", str(DCTERMS.modified))]
    )
