"""Chinese search terms (D14, D28): a query matches a record whose searchable text holds every
run of the query (its words: letters, digits and Chinese characters between spaces and
punctuation) as written, on SQLite and PostgreSQL alike.

Two indexes serve it, both written at publish time. The character bigrams of each record
(`grams`, the `search_gram` table) find a one- or two-character run from one posting list,
the commonest Chinese query (绿化, 教育). The record's text as its runs (`runs_text` of
storage/search_text.py, the `disclosure.search_text` column) holds the longer runs: on
PostgreSQL a pg_trgm GIN index finds them directly; on SQLite the bigrams narrow the records
first and the text is then checked."""

from __future__ import annotations

from storage.search_text import runs


def query_runs(query: str) -> list[str]:
    """A query's runs, each once, in order."""
    return list(dict.fromkeys(runs(query)))


def grams(text: str) -> set[str]:
    """Every bigram of every run, and the run itself when it is one character long."""
    found: set[str] = set()
    for run in runs(text):
        if len(run) == 1:
            found.add(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def query_grams(query: str) -> tuple[set[str], set[str]]:
    """The bigrams a record must all hold, and single characters it must contain somewhere."""
    bigrams: set[str] = set()
    singles: set[str] = set()
    for run in runs(query):
        if len(run) == 1:
            singles.add(run)
        bigrams.update(run[i : i + 2] for i in range(len(run) - 1))
    return bigrams, singles
