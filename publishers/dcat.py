"""The catalog as DCAT-AP 3 (issue #15), in pages: `catalog.jsonld` and `catalog.ttl` list
the jurisdictions' catalogs, and each jurisdiction's catalog
(`site/catalogs/<jurisdiction>/catalog.jsonld` and `.ttl`) describes its published releases, so
that a portal's harvester (CKAN with ckanext-dcat, data.europa.eu, udata) reads every release.

Pure: the site's input (`SiteInput`: published releases with their current manifests) in,
`Rendered` objects out, the same bytes for the same input. A jurisdiction's catalog is rendered
with its pages (`publishers/site.py`, `render_shard`), so it is rewritten exactly when they are;
the first page with the objects above the jurisdictions.

Why pages (issue 18): one catalog of a whole city was 274 MB of JSON-LD and 196 MB of Turtle,
and rdflib took 5 GB and seven minutes to write it; ckanext-dcat refuses a response over 50 MB
by default. A jurisdiction's catalog is the size of its own releases. The pages are chained with
Hydra (`hydra:PagedCollection`, `hydra:next` and its older name `hydra:nextPage`, which
ckanext-dcat's and udata's harvesters follow): the first page's next is the first
jurisdiction's catalog, each jurisdiction's next the following one's, in code order, each in
the syntax of the page that links it; a harvester given `catalog.ttl` reads them all.

The graph (DCAT-AP 3.0, https://semiceu.github.io/DCAT-AP/releases/3.0.0/):

- the first page: one `dcat:Catalog` (the bucket's index page is its homepage) with a
  `dcat:catalog` per jurisdiction, and its `dcat:DatasetSeries`;
- a jurisdiction's catalog: that `dcat:Catalog` (the same IRI), with one `dcat:Dataset` per
  published release: title and description in Chinese (`@language` zh), the publisher (the
  department, or for a finance-annual release the finance authority, with its code as
  `dct:identifier`), `dct:temporal` the fiscal year, `dct:issued` the first version's and
  `dct:modified` the current version's publication time, themes from the EU data-theme
  vocabulary, keywords, the licence as a URI, a contact point and the release page as landing
  page; one `dcat:Distribution` per object of the current version (download URL, IANA media
  type, EU file type, byte size, `spdx:checksum` sha256); one `dcat:DatasetSeries` per kind of
  release, which each release is `dcat:inSeries` of; and its bulk file sets.

No blank nodes: every node has an IRI under the public base URL, so the Turtle is as stable as
the JSON-LD. Without a configured base URL (`GONGKAI_PUBLIC_BASE_URL`) the IRIs lie under
`https://gongkai.invalid/open`, a reserved name that says no address was configured.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import rdflib

from publishers.render import Rendered, dumps, sha256_hex
from publishers.site_data import FileLink, PublishedRelease, SiteInput
from publishers.site_paths import (
    INDEX_KEY,
    jurisdiction_catalog,
    quoted,
    release_page,
    segment,
    year_page,
)

JSONLD_KEY = "catalog.jsonld"
TURTLE_KEY = "catalog.ttl"
JSONLD_TYPE = "application/ld+json"
TURTLE_TYPE = "text/turtle; charset=utf-8"
#: Where the IRIs lie when no public base URL is configured (RFC 6761 reserves `.invalid`).
UNCONFIGURED_BASE = "https://gongkai.invalid/open"

CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "hydra": "http://www.w3.org/ns/hydra/core#",
}
#: The two syntaxes of every page: key suffix, media type.
SYNTAXES = {"jsonld": JSONLD_TYPE, "ttl": TURTLE_TYPE}
#: The first page in each syntax.
FIRST_PAGE = {"jsonld": JSONLD_KEY, "ttl": TURTLE_KEY}
EU = "http://publications.europa.eu/resource/authority/"
#: EU data themes (DCAT-AP's controlled vocabulary for `dcat:theme`): government and public
#: sector, economy and finance.
THEMES = (f"{EU}data-theme/GOVE", f"{EU}data-theme/ECON")
LANGUAGE = f"{EU}language/ZHO"
PUBLIC_ACCESS = f"{EU}access-right/PUBLIC"
FILE_TYPES = {
    "application/json": "JSON",
    "text/csv": "CSV",
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/zip": "ZIP",
    "application/vnd.sqlite3": "SQLITE",
}
LOCAL_AUTHORITY = "http://purl.org/adms/publishertype/LocalAuthority"
KIND_DESCRIPTIONS = {
    "BUDGET": "随部门预算公开的项目支出绩效目标、事前绩效评估结论及相关文件。",
    "FINAL_ACCOUNTS": "随部门决算公开的绩效自评结果、重点绩效评价结果及相关文件。",
    "FINANCE_ANNUAL": "财政部门公开的本级预算绩效管理情况说明及重点绩效评价报告。",
}


def license_uri(name: str) -> str:
    """A licence as a URI: itself when it is one, else an SPDX identifier's page."""
    if name.startswith(("http://", "https://")):
        return name
    return f"http://spdx.org/licenses/{name}"


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _typed(value: Any, datatype: str) -> dict[str, str]:
    return {"@value": str(value), "@type": datatype}


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


class _Graph:
    def __init__(self, data: SiteInput, root: str, data_license: str) -> None:
        self.root = root
        self.license = license_uri(data_license)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.authorities: dict[str, str] = {}
        self.jurisdiction_names: dict[str, str] = {}
        for release in data.releases:
            entry = release.entry
            code = str(entry["jurisdictionCode"])
            self.jurisdiction_names[code] = str(entry["jurisdictionName"])
            for row in release.rows:
                if row.record_type.value == "JURISDICTION":
                    self.authorities[code] = str(row.data.get("financeAuthority") or "")

    def url(self, key: str) -> str:
        return f"{self.root}/{quoted(key)}"

    def add(self, iri: str, **properties: Any) -> str:
        node = self.nodes.setdefault(iri, {"@id": iri})
        for name, value in properties.items():
            node[name.replace("__", ":")] = value
        return iri

    def authority(self, jurisdiction: str) -> str:
        name = self.jurisdiction_names[jurisdiction]
        return self.authorities.get(jurisdiction) or f"{name}财政部门"

    def agent(self, jurisdiction: str, code: str | None, name: str) -> str:
        """A publisher (DCAT-AP 3 §Agent: foaf:name mandatory, dct:type recommended)."""
        owner = code or "finance"
        return self.add(
            f"{self.root}/#agent/{quoted(jurisdiction)}/{quoted(owner)}",
            **{
                "@type": "foaf:Agent",
                "foaf__name": _zh(name),
                "dct__identifier": f"{jurisdiction}/{owner}",
                "dct__type": _ref(LOCAL_AUTHORITY),
            },
        )

    def contact(self, agent: str, name: str, landing: str) -> str:
        """A contact point (DCAT-AP 3 §Kind: the organisation, and where to reach it)."""
        return self.add(
            f"{agent}-contact",
            **{
                "@type": ["vcard:Organization", "vcard:Kind"],
                "vcard__fn": _zh(name),
                "vcard__hasURL": _ref(landing),
            },
        )

    def series(self, release: PublishedRelease) -> str:
        """DCAT-AP 3 §Dataset Series: one per jurisdiction and kind of release."""
        e = release.entry
        jurisdiction, kind = str(e["jurisdictionCode"]), str(e["kind"])
        name = self.jurisdiction_names[jurisdiction]
        iri = f"{self.root}/#series/{quoted(jurisdiction)}/{kind.lower()}"
        if iri not in self.nodes:
            publisher = self.agent(jurisdiction, None, self.authority(jurisdiction))
            self.add(
                iri,
                **{
                    "@type": "dcat:DatasetSeries",
                    "dct__title": _zh(f"{name}{e['kindLabel']}绩效信息（历年）"),
                    "dct__description": _zh(
                        f"{name}各年度{e['kindLabel']}预算绩效信息公开。{KIND_DESCRIPTIONS[kind]}"
                    ),
                    "dct__publisher": _ref(publisher),
                },
            )
        return iri

    def checksum(self, distribution: str, sha256: str) -> str:
        """DCAT-AP 3 §Checksum: algorithm and value, both mandatory."""
        return self.add(
            f"{distribution}-sha256",
            **{
                "@type": "spdx:Checksum",
                "spdx__algorithm": _ref("http://spdx.org/rdf/terms#checksumAlgorithm_sha256"),
                "spdx__checksumValue": _typed(sha256, "xsd:hexBinary"),
            },
        )

    def distribution(self, link: FileLink, owner_title: str) -> str:
        """DCAT-AP 3 §Distribution: access URL mandatory; download URL, format, media type,
        byte size, checksum, licence and description recommended or optional."""
        url = self.url(link.key)
        iri = f"{url}#distribution"
        media = link.content_type.split(";")[0].strip()
        title = link.title or link.path.rsplit("/", 1)[-1]
        node: dict[str, Any] = {
            "@type": "dcat:Distribution",
            "dct__title": _zh(title),
            "dct__description": _zh(f"{owner_title}：{title}"),
            "dcat__accessURL": _ref(url),
            "dcat__downloadURL": _ref(url),
            "dcat__mediaType": _ref(f"https://www.iana.org/assignments/media-types/{media}"),
            "dcat__byteSize": _typed(link.size, "xsd:nonNegativeInteger"),
            "spdx__checksum": _ref(self.checksum(iri, link.sha256)),
            "dct__license": _ref(self.license),
        }
        if media in FILE_TYPES:
            node["dct__format"] = _ref(f"{EU}file-type/{FILE_TYPES[media]}")
        return self.add(iri, **node)

    def dataset(self, release: PublishedRelease) -> str:
        """DCAT-AP 3 §Dataset: title and description mandatory; contact point, distribution,
        keyword, publisher, temporal coverage and theme recommended; the rest optional."""
        e = release.entry
        jurisdiction, year = str(e["jurisdictionCode"]), int(e["fiscalYear"])
        landing = self.url(release_page(release.key))
        iri = f"{landing}#dataset"
        department = e.get("departmentName")
        owner = str(department) if department else self.authority(jurisdiction)
        publisher = self.agent(jurisdiction, e.get("departmentCode"), owner)
        period = self.add(
            f"{iri}-period",
            **{
                "@type": "dct:PeriodOfTime",
                "dcat__startDate": _typed(f"{year}-01-01", "xsd:date"),
                "dcat__endDate": _typed(f"{year}-12-31", "xsd:date"),
            },
        )
        versions = sorted(e["versions"], key=lambda v: int(v["number"]))
        keywords = [
            str(e["kindLabel"]),
            "预算绩效",
            "绩效信息公开",
            f"{year}年度",
            self.jurisdiction_names[jurisdiction],
            owner,
        ]
        description = (
            f"{owner}{year}年度{e['kindLabel']}公开的预算绩效信息。{KIND_DESCRIPTIONS[e['kind']]}"
            "数据文件提供 JSON、CSV 与适用于 Excel 的 CSV 三种格式，金额单位为元。"
            + ("本数据为演示数据。" if e.get("demo") else "")
        )
        title = str(e["title"])
        distributions = [
            self.distribution(link, title) for link in sorted(release.objects, key=lambda o: o.key)
        ]
        return self.add(
            iri,
            **{
                "@type": "dcat:Dataset",
                "dct__title": _zh(title),
                "dct__description": _zh(description),
                "dct__identifier": release.key,
                "dct__publisher": _ref(publisher),
                "dcat__contactPoint": _ref(self.contact(publisher, owner, landing)),
                "dct__temporal": _ref(period),
                "dct__issued": _typed(_iso(versions[0]["publishedAt"]), "xsd:dateTime"),
                "dct__modified": _typed(_iso(versions[-1]["publishedAt"]), "xsd:dateTime"),
                "owl__versionInfo": str(versions[-1]["number"]),
                "dcat__theme": [_ref(t) for t in THEMES],
                "dcat__keyword": [_zh(k) for k in dict.fromkeys(keywords)],
                "dct__license": _ref(self.license),
                "dct__accessRights": _ref(PUBLIC_ACCESS),
                "dct__language": _ref(LANGUAGE),
                "dcat__landingPage": _ref(landing),
                "dcat__distribution": [_ref(d) for d in distributions],
                "dcat__inSeries": _ref(self.series(release)),
            },
        )

    def bulk_dataset(self, entry: Mapping[str, Any], modified: str | None) -> str:
        """A bulk file set (issue #15) as a `dcat:Dataset`: every release of a jurisdiction in
        one year (or all years), each file a distribution with its sha256."""
        jurisdiction = str(entry["jurisdictionCode"])
        year = entry["fiscalYear"]
        label = "all" if year is None else str(year)
        landing = self.url(INDEX_KEY if year is None else year_page(jurisdiction, int(year)))
        iri = f"{self.url(f'bulk/{segment(jurisdiction)}/{label}/')}#dataset"
        name = self.jurisdiction_names.get(jurisdiction, jurisdiction)
        authority = (
            self.authority(jurisdiction) if jurisdiction in self.jurisdiction_names else name
        )
        publisher = self.agent(jurisdiction, None, authority)
        title = str(entry["title"])
        node: dict[str, Any] = {
            "@type": "dcat:Dataset",
            "dct__title": _zh(title),
            "dct__description": _zh(
                f"{title}：全部公开文件的 ZIP、每个表一个 CSV、每个表一页的 Excel 文件和 SQLite "
                "数据库（附 Datasette 元数据）。latest/ 下的地址始终指向最新版本。金额单位为元。"
            ),
            "dct__identifier": f"bulk/{jurisdiction}/{label}",
            "dct__publisher": _ref(publisher),
            "dcat__contactPoint": _ref(self.contact(publisher, authority, landing)),
            "dcat__theme": [_ref(t) for t in THEMES],
            "dcat__keyword": [_zh(k) for k in ("预算绩效", "批量下载", name)],
            "dct__license": _ref(self.license),
            "dct__accessRights": _ref(PUBLIC_ACCESS),
            "dct__language": _ref(LANGUAGE),
            "dcat__landingPage": _ref(landing),
            "dcat__distribution": [
                _ref(
                    self.distribution(
                        FileLink(
                            f["key"],
                            f["name"],
                            f["title"],
                            f["contentType"],
                            f["bytes"],
                            f["sha256"],
                        ),
                        title,
                    )
                )
                for f in entry["files"]
            ],
        }
        years = entry.get("years") or ([year] if year is not None else [])
        if years:
            node["dct__temporal"] = _ref(
                self.add(
                    f"{iri}-period",
                    **{
                        "@type": "dct:PeriodOfTime",
                        "dcat__startDate": _typed(f"{min(years)}-01-01", "xsd:date"),
                        "dcat__endDate": _typed(f"{max(years)}-12-31", "xsd:date"),
                    },
                )
            )
        if modified is not None:
            node["dct__modified"] = _typed(modified, "xsd:dateTime")
        return self.add(iri, **node)

    def jurisdiction_catalog(
        self, code: str, releases: Sequence[PublishedRelease], datasets: Sequence[str]
    ) -> str:
        """A jurisdiction's catalog (DCAT-AP 3 §Catalogue), the same node on the first page
        (listing its series) and on its own (listing its datasets too). Its homepage is its
        latest year's page; `rdfs:seeAlso` names the documents that describe it whole."""
        name = self.jurisdiction_names[code]
        authority = self.authority(code)
        year = max(int(r.entry["fiscalYear"]) for r in releases)
        node: dict[str, Any] = {
            "@type": "dcat:Catalog",
            "dct__title": _zh(f"{name}预算绩效信息公开目录"),
            "dct__description": _zh(
                f"{name}各部门随预算、决算公开的预算绩效信息，以及{authority}的年度预算绩效"
                "管理情况，每次发布为一个数据集，每个文件为一个分发。"
            ),
            "dct__publisher": _ref(self.agent(code, None, authority)),
            "foaf__homepage": _ref(self.url(year_page(code, year))),
            "dct__language": _ref(LANGUAGE),
            "dct__license": _ref(self.license),
            "dcat__themeTaxonomy": _ref(f"{EU}data-theme"),
            "dct__modified": _typed(_latest(releases), "xsd:dateTime"),
            "dcat__dataset": [_ref(d) for d in datasets],
            "rdfs__seeAlso": [_ref(self.url(key)) for key in catalog_keys(code).values()],
        }
        return self.add(f"{self.root}/#catalog/{quoted(code)}", **node)

    def catalog(
        self, datasets: Sequence[str], modified: str | None, parts: Sequence[str] = ()
    ) -> str:
        """DCAT-AP 3 §Catalogue: description, publisher and title mandatory; datasets,
        homepage, language, licence, modified and theme taxonomy recommended; `parts`, the
        jurisdictions' catalogs (`dcat:catalog`, optional)."""
        codes = sorted(self.jurisdiction_names)
        publisher = (
            self.agent(codes[0], None, self.authority(codes[0]))
            if codes
            else self.add(
                f"{self.root}/#agent/gongkai",
                **{"@type": "foaf:Agent", "foaf__name": _zh("预算绩效信息公开")},
            )
        )
        node: dict[str, Any] = {
            "@type": "dcat:Catalog",
            "dct__title": _zh("预算绩效信息公开目录"),
            "dct__description": _zh(
                "各部门随预算、决算公开的预算绩效信息，以及财政部门的年度预算绩效管理情况，"
                "每次发布为一个数据集，每个文件为一个分发。"
            ),
            "dct__publisher": _ref(publisher),
            "foaf__homepage": _ref(self.url(INDEX_KEY)),
            "dct__language": _ref(LANGUAGE),
            "dct__license": _ref(self.license),
            "dcat__themeTaxonomy": _ref(f"{EU}data-theme"),
            "dcat__dataset": [_ref(d) for d in datasets],
        }
        if parts:
            node["dcat__catalog"] = [_ref(part) for part in parts]
        if modified is not None:
            node["dct__modified"] = _typed(modified, "xsd:dateTime")
        return self.add(f"{self.root}/#catalog", **node)


def _iso(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _latest(releases: Iterable[PublishedRelease]) -> str:
    """When the newest of these releases' current versions was published."""
    return max(
        _iso(max(r.entry["versions"], key=lambda v: int(v["number"]))["publishedAt"])
        for r in releases
    )


def next_pages(jurisdictions: Iterable[str]) -> dict[str, str | None]:
    """Each jurisdiction's next page: the following jurisdiction's catalog, in code order."""
    codes = sorted(jurisdictions)
    return dict(zip(codes, [*codes[1:], None], strict=True))


def _document(graph: _Graph, key: str, following: str | None) -> dict[str, Any]:
    """The graph as the JSON-LD document `key`, a page of the catalog: a `@graph` of nodes
    sorted by IRI, with a node saying where the first and the next pages are (Hydra, as the
    harvesters read it; the deprecated `nextPage` too, for ckanext-dcat before 1.0)."""
    suffix = key.rsplit(".", 1)[1]
    page: dict[str, Any] = {
        "@id": graph.url(key),
        "@type": "hydra:PagedCollection",
        "hydra:first": _ref(graph.url(FIRST_PAGE[suffix])),
    }
    if following is not None:
        page["hydra:next"] = page["hydra:nextPage"] = _ref(
            graph.url(jurisdiction_catalog(following, suffix))
        )
    nodes = {**graph.nodes, page["@id"]: page}
    return {"@context": CONTEXT, "@graph": [nodes[iri] for iri in sorted(nodes)]}


def _graph(data: SiteInput, base_url: str | None, data_license: str) -> _Graph:
    return _Graph(data, (base_url or UNCONFIGURED_BASE).rstrip("/"), data_license)


def _portal_graph(data: SiteInput, base_url: str | None, data_license: str) -> _Graph:
    """The first page's graph, from the portal's input (`SiteInput.portal`: every release's
    catalog entry): the catalog, each jurisdiction's catalog with its series, no release."""
    graph = _graph(data, base_url, data_license)
    by_code: dict[str, list[PublishedRelease]] = defaultdict(list)
    for release in data.releases:
        by_code[str(release.entry["jurisdictionCode"])].append(release)
    series: list[str] = []
    parts = []
    for code, releases in sorted(by_code.items()):
        own = sorted({graph.series(release) for release in releases})
        parts.append(graph.jurisdiction_catalog(code, releases, own))
        series += own
    graph.catalog(series, _latest(data.releases) if data.releases else None, parts)
    return graph


def _jurisdiction_graph(
    data: SiteInput, code: str, base_url: str | None, data_license: str
) -> _Graph:
    """A jurisdiction's catalog, from its shard (`SiteInput.shard`): its releases, their
    series and its bulk file sets."""
    graph = _graph(data, base_url, data_license)
    releases = [r for r in data.releases if r.entry["jurisdictionCode"] == code]
    datasets = [graph.dataset(release) for release in releases]
    latest = _latest(releases)
    bulk = [b for b in data.bulk if b["jurisdictionCode"] == code]
    datasets += [graph.bulk_dataset(entry, latest) for entry in bulk]
    series = sorted({graph.series(release) for release in releases})
    graph.jurisdiction_catalog(code, releases, [*datasets, *series])
    return graph


#: rdflib turns a page into Turtle this many of its top-level nodes (a release, a distribution,
#: a series…) at a time, not the page's whole graph at once: rendering a city district's page
#: peaked at 327 MiB that way, 160 MiB in chunks (`bench.catalog`, the bare process 52 MiB).
#: The chunks' Turtle documents, one after the other, are one document of the same graph,
#: since no node is shared between two top-level nodes but by its IRI (a nested node has none,
#: and is written inside its parent).
TURTLE_NODES = 500


def to_turtle(document: Mapping[str, Any]) -> bytes:
    """The JSON-LD document's graph as Turtle (rdflib; the context is inline, nothing is
    fetched), `TURTLE_NODES` top-level nodes at a time."""
    nodes = document["@graph"]
    parts = []
    for start in range(0, max(len(nodes), 1), TURTLE_NODES):
        chunk = {"@context": document["@context"], "@graph": nodes[start : start + TURTLE_NODES]}
        graph = rdflib.Graph()
        with warnings.catch_warnings():
            # rdflib 7's JSON-LD parser builds a ConjunctiveGraph, which rdflib deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            graph.parse(data=dumps(chunk), format="json-ld")
        for prefix, namespace in CONTEXT.items():
            graph.bind(prefix, rdflib.Namespace(namespace), override=True)
        parts.append(graph.serialize(format="turtle", encoding="utf-8"))
    return b"\n".join(parts)


def _render(graph: _Graph, keys: Mapping[str, str], following: str | None) -> list[Rendered]:
    """A page in both syntaxes (`keys`: suffix → key), each linking the next page in its own."""
    out = []
    for suffix, key in keys.items():
        document = _document(graph, key, following)
        body = to_turtle(document) if suffix == "ttl" else dumps(document)
        out.append(Rendered(key, body, SYNTAXES[suffix], sha256_hex(body)))
    return out


def render_dcat(
    data: SiteInput, base_url: str | None = None, data_license: str = "CC-BY-4.0"
) -> list[Rendered]:
    """The first page, `catalog.jsonld` and `catalog.ttl`: the same graph in two syntaxes."""
    graph = _portal_graph(data, base_url, data_license)
    first = min(data.jurisdictions(), default=None)
    return _render(graph, FIRST_PAGE, first)


def render_jurisdiction_dcat(
    data: SiteInput,
    code: str,
    following: str | None,
    base_url: str | None = None,
    data_license: str = "CC-BY-4.0",
) -> list[Rendered]:
    """A jurisdiction's catalog in both syntaxes; `following`, the jurisdiction whose catalog
    is the next page (`next_pages`)."""
    graph = _jurisdiction_graph(data, code, base_url, data_license)
    return _render(graph, catalog_keys(code), following)


def catalog_keys(code: str) -> dict[str, str]:
    """The keys of a jurisdiction's catalog page, by syntax (`render_jurisdiction_dcat`)."""
    return {suffix: jurisdiction_catalog(code, suffix) for suffix in SYNTAXES}
