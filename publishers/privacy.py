"""The personal-data gate (DR-10): every text a release would publish, and the text of every file
it carries, is searched by `publishers.personal_data` before anything leaves the building.

What the guard finds becomes a check problem (rule ``DR-10``) naming the record (its key) or the
file (``file#ID``), the field (or the page), the kind and the datum masked, and the finding's
id. A problem stops `publish` like any other. It is cleared by
- the department correcting the text (the next check no longer finds it);
- an officer's exception: the finding is not personal data, with a reason (`PersonalDataException`);
- a redaction of the field (区分处理, 条例 Art. 37): it is published as a marked redaction with
  its legal basis (`FieldRedaction`), the rest of the record public;
- for a file, which cannot be edited here, an upload of a redacted file in its place.

`check_published` runs the same search over what is already public (a detector added later, a
name registered later); the officer then withdraws through the withdrawal path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from publishers import file_text
from publishers import personal_data as pd
from publishers.render import Record
from publishers.rules import Problem
from storage import models
from storage.enums import RecordType, ReleaseStatus

RULE = "DR-10"
#: The legal basis a redaction states when the officer gives none of their own.
DEFAULT_BASIS = "《中华人民共和国政府信息公开条例》第十五条、第三十七条（个人隐私）"

#: Fields that hold identifiers (keys, codes of departments and projects, paths, digests, enum
#: values), not prose anyone typed: never searched. A project code such as 130-2021-0001 has a
#: mobile number's shape.
_MACHINE_FIELDS = frozenset({"key", "code", "path", "sha256", "contentType", "language", "docKind"})
#: Text without a digit, an @ or a registered term cannot hold a finding: most of a release.
_DIGITS_OR_AT = frozenset("0123456789０１２３４５６７８９@＠")


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data at one place of a release."""

    location: str
    """The record's key, or ``file#ID`` for a file."""
    field: str
    """The field's path in the record (``rows[2].deviationReason``), or the file's page."""
    match: pd.Match
    id: str
    """Stable across runs while the text is unchanged: what an exception names."""

    def problem(self) -> Problem:
        return Problem(
            RULE,
            self.location,
            f"{self.field}: {self.match.kind.label} {self.match.masked} (finding {self.id}) — "
            "correct the text, redact the field, or mark it not personal data with a reason",
        )


@dataclass(frozen=True)
class Decisions:
    """What has been decided for a release: registered terms, exceptions, redactions."""

    terms: tuple[str, ...] = ()
    excepted: frozenset[str] = frozenset()
    redactions: Mapping[tuple[str, str], str] | None = None
    """(record key, field path) → legal basis."""

    @classmethod
    async def load(cls, release_id: int) -> Decisions:
        terms = await models.ProtectedTerm.filter(release_id=release_id).values_list(
            "term", flat=True
        )
        excepted = await models.PersonalDataException.filter(release_id=release_id).values_list(
            "finding", flat=True
        )
        redactions = await models.FieldRedaction.filter(release_id=release_id).values_list(
            "record_key", "field", "basis"
        )
        return cls(
            terms=tuple(sorted(str(t) for t in terms)),
            excepted=frozenset(str(f) for f in excepted),
            redactions={(str(k), str(f)): str(b) for k, f, b in redactions},
        )


class RunDecisions:
    """The decisions of every release, read once for a run (three queries, not three per
    release: a district publishes 369 releases, and decisions are few). Like the rest of a
    run's reads it must not outlive the data it read: a new run sees new decisions."""

    def __init__(self) -> None:
        self._all: asyncio.Task[dict[int, Decisions]] | None = None

    async def of(self, release_id: int) -> Decisions:
        if self._all is None:
            self._all = asyncio.ensure_future(self._load())
        return (await asyncio.shield(self._all)).get(release_id, Decisions(redactions={}))

    @staticmethod
    async def _load() -> dict[int, Decisions]:
        terms: dict[int, list[str]] = {}
        for rid, term in await models.ProtectedTerm.all().values_list("release_id", "term"):
            terms.setdefault(int(str(rid)), []).append(str(term))
        excepted: dict[int, set[str]] = {}
        for rid, finding in await models.PersonalDataException.all().values_list(
            "release_id", "finding"
        ):
            excepted.setdefault(int(str(rid)), set()).add(str(finding))
        redactions: dict[int, dict[tuple[str, str], str]] = {}
        for rid, key, field, basis in await models.FieldRedaction.all().values_list(
            "release_id", "record_key", "field", "basis"
        ):
            redactions.setdefault(int(str(rid)), {})[(str(key), str(field))] = str(basis)
        return {
            rid: Decisions(
                terms=tuple(sorted(terms.get(rid, ()))),
                excepted=frozenset(excepted.get(rid, ())),
                redactions=redactions.get(rid, {}),
            )
            for rid in set(terms) | set(excepted) | set(redactions)
        }


def texts(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (field path, string) of a record's data, nested lists and objects included."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, Mapping):
        for name, value in data.items():
            if name in _MACHINE_FIELDS or name.endswith(("Key", "Label", "Code")):
                continue
            yield from texts(value, f"{path}.{name}" if path else str(name))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from texts(value, f"{path}[{index}]")


@lru_cache(maxsize=65536)
def _find(text: str, terms: tuple[str, ...]) -> tuple[pd.Match, ...]:
    # The same strings recur across a district's records (indicator names, reasons): found once.
    return tuple(pd.find(text, terms))


def search(text: str, terms: tuple[str, ...]) -> tuple[pd.Match, ...]:
    if not terms and _DIGITS_OR_AT.isdisjoint(text):
        return ()
    return _find(text, terms)


def record_findings(record: Record, terms: tuple[str, ...]) -> list[Finding]:
    return [
        Finding(record.key, field, match, match.digest(record.key, field))
        for field, text in texts(record.data)
        for match in search(text, terms)
    ]


def file_findings(
    location: str, pages: Sequence[file_text.Page], terms: tuple[str, ...]
) -> list[Finding]:
    return [
        Finding(location, page.where, match, match.digest(location, page.where))
        for page in pages
        for match in search(page.text, terms)
    ]


def redact(record: Record, redactions: Mapping[tuple[str, str], str]) -> Record:
    """The record with each redacted field replaced by its marked redaction, and a
    ``redactions`` list saying which fields and on what basis (``redacted``,
    ``redactionBasis``, DR-10). A redaction whose field no longer exists changes nothing."""
    mine = {field: basis for (key, field), basis in redactions.items() if key == record.key}
    if not mine:
        return record
    data = _copy(record.data)
    done = []
    for field, basis in sorted(mine.items()):
        if _replace(data, _steps(field), pd.redacted_marker(basis)):
            done.append({"field": field, "redacted": True, "redactionBasis": basis})
    if not done:
        return record
    data["redactions"] = done
    return replace(record, data=data)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if name:
            steps.append(name)
        for index in filter(None, rest.replace("]", "").split("[")) if rest else ():
            steps.append(int(index))
    return steps


def _replace(data: Any, steps: list[str | int], marker: str) -> bool:
    *head, last = steps
    for step in head:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return False
    in_list = isinstance(last, int) and isinstance(data, list) and 0 <= last < len(data)
    in_dict = isinstance(last, str) and isinstance(data, dict) and last in data
    if not (in_list or in_dict) or not isinstance(data[last], str):
        return False
    data[last] = marker
    return True


def valid_field(record_data: Mapping[str, Any], field: str) -> bool:
    """Whether `field` names a text field of the record (what a redaction may target)."""
    return any(path == field for path, _ in texts(record_data))


class FileTexts:
    """The extracted text of files by sha256: read from `FileText` when a run before extracted
    it, else extracted (off the event loop) and stored there — bytes never change under a
    sha256. Within a run a file in several releases is looked up once."""

    def __init__(self) -> None:
        self._pages: dict[str, list[file_text.Page] | file_text.FileUnreadable] = {}

    async def pages(self, stored: models.StoredFile) -> list[file_text.Page]:
        found = self._pages.get(stored.sha256)
        if found is None:
            found = await self._load(stored)
            self._pages[stored.sha256] = found
        if isinstance(found, file_text.FileUnreadable):
            raise found
        return found

    async def _load(
        self, stored: models.StoredFile
    ) -> list[file_text.Page] | file_text.FileUnreadable:
        kept = await models.FileText.get_or_none(sha256=stored.sha256)
        if kept is not None:
            if kept.pages is None:
                return file_text.FileUnreadable(kept.error or "unreadable")
            return [file_text.Page(str(where), str(text)) for where, text in kept.pages]
        content = await models.FileContent.get(sha256=stored.sha256)
        found: list[file_text.Page] | file_text.FileUnreadable
        try:
            found = await asyncio.to_thread(
                file_text.pages, bytes(content.data), stored.content_type
            )
        except file_text.FileUnreadable as error:
            found = error
        pages = None if isinstance(found, Exception) else [[p.where, p.text] for p in found]
        reason = str(found) if isinstance(found, Exception) else None
        # Two runs may extract the same file at once: the second insert changes nothing.
        await models.FileText.get_or_create(
            sha256=stored.sha256, defaults={"pages": pages, "error": reason}
        )
        return found


async def guard(
    release_id: int,
    records: list[Record],
    files: Iterable[models.StoredFile],
    file_texts: FileTexts,
    run: RunDecisions | None = None,
) -> tuple[list[Record], list[Finding], list[Problem]]:
    """Apply the release's redactions to `records`, then search them and `files`. Returns the
    records as they would be published, the open findings (not excepted), and their problems
    (with one for each file that cannot be read). `run`: the decisions read once for a run."""
    decisions = await (run.of(release_id) if run else Decisions.load(release_id))
    published = [redact(r, decisions.redactions or {}) for r in records]
    findings = [f for r in published for f in record_findings(r, decisions.terms)]
    problems: list[Problem] = []
    for stored in files:
        location = f"file#{stored.id}"
        try:
            pages = await file_texts.pages(stored)
        except file_text.FileUnreadable as error:
            problems.append(
                Problem(RULE, location, f"「{stored.title}」: its text cannot be read ({error})")
            )
            continue
        findings += file_findings(location, pages, decisions.terms)
    open_ = [f for f in findings if f.id not in decisions.excepted]
    return published, open_, problems + [f.problem() for f in open_]


# --- after publication -------------------------------------------------------------------------


async def check_published(release_ids: Iterable[int] | None = None) -> list[tuple[int, Problem]]:
    """Findings in what is public now: the published snapshot rows and files of every published
    release (or of `release_ids`), searched with today's detectors and each release's registered
    terms; excepted findings are left out. Returns (release id, problem) pairs; writes nothing.
    A finding here is withdrawn through the withdrawal path (docs/withdrawal.md)."""
    query = models.Release.filter(status=ReleaseStatus.PUBLISHED)
    if release_ids is not None:
        query = query.filter(id__in=list(release_ids))
    found: list[tuple[int, Problem]] = []
    file_texts = FileTexts()
    for release_id in await query.order_by("id").values_list("id", flat=True):
        rid = int(str(release_id))
        decisions = await Decisions.load(rid)
        rows = await models.Disclosure.filter(release_id=rid).order_by("record_key")
        problems: list[Problem] = []
        for row in rows:
            record = Record(
                row.record_type,
                row.record_key,
                row.fiscal_year,
                row.department_code,
                row.name,
                row.data,
            )
            problems += [
                f.problem()
                for f in record_findings(record, decisions.terms)
                if f.id not in decisions.excepted
            ]
            if row.record_type == RecordType.FILE:
                stored = await models.StoredFile.filter(sha256=row.data["sha256"]).first()
                if stored is None:
                    continue
                try:
                    pages = await file_texts.pages(stored)
                except file_text.FileUnreadable as error:
                    problems.append(Problem(RULE, f"file#{stored.id}", f"unreadable: {error}"))
                    continue
                problems += [
                    f.problem()
                    for f in file_findings(f"file#{stored.id}", pages, decisions.terms)
                    if f.id not in decisions.excepted
                ]
        found += [(rid, p) for p in problems]
    return found
