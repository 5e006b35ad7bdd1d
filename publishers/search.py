"""Chinese search terms (D14): character bigrams, written at publish time and queried with the
same SQL on SQLite and PostgreSQL. A query matches a record that holds all of its bigrams, so
two-character words such as 绿化 are found; a one-character query matches that character."""

from __future__ import annotations

import re
import unicodedata

#: Runs of CJK ideographs, letters or digits: punctuation and spaces break words apart.
_RUNS = re.compile(r"[\w\u3400-\u9fff]+")


def _runs(text: str) -> list[str]:
    return _RUNS.findall(unicodedata.normalize("NFKC", text).lower().replace("_", " "))


def grams(text: str) -> set[str]:
    """Every bigram of every run, and the run itself when it is one character long."""
    found: set[str] = set()
    for run in _runs(text):
        if len(run) == 1:
            found.add(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def query_grams(query: str) -> tuple[set[str], set[str]]:
    """The bigrams a record must all hold, and single characters it must contain somewhere."""
    bigrams: set[str] = set()
    singles: set[str] = set()
    for run in _runs(query):
        if len(run) == 1:
            singles.add(run)
        bigrams.update(run[i : i + 2] for i in range(len(run) - 1))
    return bigrams, singles
