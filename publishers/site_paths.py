"""Where the site's objects live: their keys, and the page of each thing it shows.

Keys name files explicitly (``…/index.html``, D16): S3 and MinIO have no directory index::

    index.html                                     jurisdictions, years, releases, search, news
    feed.xml  calendar.ics                         Atom feed, due dates
    search-index.json                              the search box's index: its parts, listed
    site/search/<jurisdiction>.json                a part: one jurisdiction's names and pages
    site/style.css
    site/years/<jurisdiction>/<year>/index.html    a year's charts and releases
    site/releases/<jurisdiction>/<year>/<kind>/<department>/index.html
    site/departments/<jurisdiction>/<code>/index.html
    site/projects/<jurisdiction>/<code>/index.html   a subject (project, policy, overall) by code
    site/catalogs/<jurisdiction>/catalog.jsonld      its DCAT-AP 3 catalog (also catalog.ttl)
    site/dictionary/index.html                     the data dictionary: every field's title
    site-manifest.json                             the site's keys (not linked from any page)
"""

from __future__ import annotations

import re
from urllib.parse import quote

INDEX_KEY = "index.html"
FEED_KEY = "feed.xml"
CALENDAR_KEY = "calendar.ics"
SEARCH_KEY = "search-index.json"
STYLE_KEY = "site/style.css"
DICTIONARY_KEY = "site/dictionary/index.html"
SITE_MANIFEST_KEY = "site-manifest.json"
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def segment(code: str) -> str:
    """A code as one key segment: itself when plain, else ``~`` and the hex of its UTF-8 (no
    plain code starts with ``~``, so the two never collide)."""
    if _SAFE_SEGMENT.fullmatch(code) and ".." not in code:
        return code
    return "~" + code.encode().hex()


def release_page(release_key: str) -> str:
    return f"site/releases/{release_key}/index.html"


def department_page(jurisdiction: str, code: str) -> str:
    return f"site/departments/{segment(jurisdiction)}/{segment(code)}/index.html"


def project_page(jurisdiction: str, code: str) -> str:
    return f"site/projects/{segment(jurisdiction)}/{segment(code)}/index.html"


#: The folders of a jurisdiction's own pages: ``site/<folder>/<jurisdiction>/…``.
SHARD_FOLDERS = ("years", "releases", "departments", "projects", "catalogs")


def shard_of(key: str) -> str | None:
    """The jurisdiction (as its key segment) whose pages a site key is one of; None for the
    objects above the jurisdictions (the index, the feed, the stylesheet…)."""
    parts = key.split("/")
    if len(parts) == 3 and parts[:2] == ["site", "search"] and parts[2].endswith(".json"):
        return parts[2].removesuffix(".json")
    if len(parts) > 3 and parts[0] == "site" and parts[1] in SHARD_FOLDERS:
        return parts[2]
    return None


def search_part(jurisdiction: str) -> str:
    return f"site/search/{segment(jurisdiction)}.json"


def jurisdiction_catalog(jurisdiction: str, suffix: str) -> str:
    """A jurisdiction's DCAT catalog (`publishers/dcat.py`); `suffix` "jsonld" or "ttl"."""
    return f"site/catalogs/{segment(jurisdiction)}/catalog.{suffix}"


def year_page(jurisdiction: str, year: int) -> str:
    return f"site/years/{segment(jurisdiction)}/{year}/index.html"


def quoted(key: str) -> str:
    """A key as the path of a URL. Not cached: a key of plain characters (nearly all are) is
    half a microsecond, and a cache big enough for a city district's links held ~18 MiB from
    one jurisdiction to the next."""
    return quote(key, safe="/-._~")
