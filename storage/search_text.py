"""A published record's searchable text (D14, D28): which fields of each record type a search
reads, and that text as its runs — letters, digits and Chinese characters between spaces and
punctuation, normalised (NFKC, lower case). Here, below the publishers, because migration 0013
computes the same text for the rows published before it (`publishers/search.py` builds the
search terms and queries from it)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from storage.enums import RecordType

#: The text of each record type that search covers: names and goals.
SEARCHABLE: dict[RecordType, tuple[str, ...]] = {
    RecordType.DEPARTMENT: ("name",),
    RecordType.SUBJECT: ("name", "departmentName"),
    RecordType.TARGET: ("overallGoal",),
    RecordType.EVALUATION: ("organiser",),
    RecordType.ANNUAL_STATEMENT: ("title",),
    RecordType.FILE: ("title",),
}

#: Runs of CJK ideographs, letters or digits: punctuation and spaces break words apart.
_RUNS = re.compile(r"[\w\u3400-\u9fff]+")


def searchable(record_type: RecordType, data: Mapping[str, Any]) -> str:
    """The text a search reads of a record in its public shape (a snapshot row's `data`)."""
    parts = [str(data.get(name) or "") for name in SEARCHABLE.get(record_type, ())]
    if record_type is RecordType.TARGET:
        parts += [str(i["name"]) for i in data["indicators"]]
    return " ".join(parts)


def runs(text: str) -> list[str]:
    """The runs of a text, in order (`_` reads as a space: a run holds no LIKE wildcard)."""
    return _RUNS.findall(unicodedata.normalize("NFKC", text).lower().replace("_", " "))


def runs_text(text: str) -> str:
    """A record's text as its runs, one space between: a query's run occurs in it exactly when
    the run occurs, as written, in one of the record's runs (a run holds no space)."""
    return " ".join(runs(text))
