"""The decisions on the personal-data guard's findings (DR-10, publishers/privacy.py): register
protected names and terms for a release, mark a finding as not personal data with a reason, or
redact a field with its legal basis (区分处理, 条例 Art. 37).

Each is a write like any other (`writes`): the role check, the release through the caller's
visibility, a compare-and-set on the release's version (a decision changes what the release
would publish), the new row and the audit entries in one transaction. A finding or field is
looked up in a fresh check of the release, so only what the guard reports now can be decided.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from publishers import privacy
from schema.internal import types as t
from schema.internal import writes
from schema.internal.context import Info, InternalContext
from schema.internal.input_rules import argument
from schema.internal.permissions import Action
from schema.internal.writes import need
from storage import models
from storage.errors import InvalidRecord

#: A registered term shorter than this would match inside ordinary words.
MIN_TERM = 2


def _view(ctx: InternalContext, row: models.Release) -> t.Release:
    return t.Release.from_model(row, ctx.today())


async def _check(ctx: InternalContext, release: models.Release) -> Any:
    if ctx.publisher is None:
        raise InvalidRecord("id", "no-object-store", "this server has no publisher to check with")
    return await ctx.publisher.check(release.id)


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Register a name or term this release must not publish (DR-10): every text "
        "and file of the release is searched for it. The term is never echoed back."
    )
    async def register_protected_term(
        self,
        info: Info,
        id: strawberry.ID,
        version: int,
        term: Annotated[str, argument(100)],
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.PROTECT_TERMS)
            row, _ = await writes.release(ctx, id, Action.PROTECT_TERMS)
            clean = term.strip()
            if len(clean) < MIN_TERM:
                raise InvalidRecord(
                    "term", "term-length", f"a protected term has at least {MIN_TERM} characters"
                )
            await writes.refuse_duplicate(
                models.ProtectedTerm,
                "term",
                "this term is registered for the release already",
                release_id=row.id,
                term=clean,
            )

            async def also() -> None:
                created = await models.ProtectedTerm.create(
                    release_id=row.id, term=clean, created_by=ctx.caller.subject
                )
                # The audit keeps that a term was registered, masked: the log is read more
                # widely than the release.
                await writes.created(
                    ctx,
                    "registerProtectedTerm",
                    created,
                    extra={"term": privacy.pd.mask(privacy.pd.Kind.PROTECTED_TERM, clean)},
                )

            fresh = await writes.update_versioned(
                ctx, row, version, {}, "registerProtectedTerm", also=also
            )
            return t.ReleaseSuccess(release=_view(ctx, fresh))

        return await writes.guarded(work)

    @strawberry.mutation(
        description="Mark one finding of the personal-data guard as not personal data, with the "
        "reason (DR-10). Audited, and listed with every check of the release."
    )
    async def mark_not_personal_data(
        self,
        info: Info,
        id: strawberry.ID,
        version: int,
        finding: Annotated[str, argument(16)],
        reason: Annotated[str, argument(2000, multiline=True)],
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.REVIEW_PERSONAL_DATA)
            row, _ = await writes.release(ctx, id, Action.REVIEW_PERSONAL_DATA)
            writes.check_version(row, version)
            if not reason.strip():
                raise InvalidRecord("reason", "reason-required", "say why it is not personal data")
            selection = await _check(ctx, row)
            found = next((f for f in selection.findings if f.id == finding), None)
            if found is None:
                raise InvalidRecord(
                    "finding", "finding-open", f"the release has no open finding {finding}"
                )

            async def also() -> None:
                created = await models.PersonalDataException.create(
                    release_id=row.id,
                    finding=found.id,
                    location=found.location,
                    field=found.field[:200],
                    kind=found.match.kind.value,
                    masked=found.match.masked,
                    reason=reason.strip(),
                    created_by=ctx.caller.subject,
                )
                await writes.created(ctx, "markNotPersonalData", created)

            fresh = await writes.update_versioned(
                ctx, row, version, {}, "markNotPersonalData", also=also
            )
            return t.ReleaseSuccess(release=_view(ctx, fresh))

        return await writes.guarded(work)

    @strawberry.mutation(
        description="Redact one text field of one record of the release (区分处理, DR-10): it is "
        "published as a marked redaction with `basis` as its redactionBasis, and the rest of "
        "the record stays public. `field` is the path a finding names, e.g. "
        "rows[2].deviationReason. A report file is replaced by uploading a redacted file."
    )
    async def redact_field(
        self,
        info: Info,
        id: strawberry.ID,
        version: int,
        record_key: Annotated[str, argument(200)],
        field: Annotated[str, argument(200)],
        basis: Annotated[str | None, argument(300)] = None,
    ) -> t.ReleaseResult:
        ctx = info.context

        async def work() -> t.ReleaseSuccess:
            need(ctx, Action.REVIEW_PERSONAL_DATA)
            row, _ = await writes.release(ctx, id, Action.REVIEW_PERSONAL_DATA)
            writes.check_version(row, version)
            stated = (basis or "").strip() or privacy.DEFAULT_BASIS
            selection = await _check(ctx, row)
            record = next((r for r in selection.records if r.key == record_key), None)
            if record is None:
                raise InvalidRecord(
                    "recordKey", "record-in-release", "the release carries no record with this key"
                )
            if not privacy.valid_field(record.data, field):
                raise InvalidRecord(
                    "field", "text-field", "the record has no text field with this path"
                )
            if await models.FieldRedaction.filter(
                release_id=row.id, record_key=record_key, field=field
            ).exists():
                raise InvalidRecord("field", "unique", "this field is redacted already")

            async def also() -> None:
                created = await models.FieldRedaction.create(
                    release_id=row.id,
                    record_key=record_key,
                    field=field,
                    basis=stated,
                    created_by=ctx.caller.subject,
                )
                await writes.created(ctx, "redactField", created)

            fresh = await writes.update_versioned(ctx, row, version, {}, "redactField", also=also)
            return t.ReleaseSuccess(release=_view(ctx, fresh))

        return await writes.guarded(work)


async def decisions(release_id: int) -> dict[str, Any]:
    """The decisions a check of the release shows (the console's view)."""
    exceptions = await models.PersonalDataException.filter(release_id=release_id).order_by("id")
    redactions = await models.FieldRedaction.filter(release_id=release_id).order_by("id")
    return {
        "personal_data_exceptions": [
            t.PersonalDataException(
                finding=e.finding,
                location=e.location,
                field=e.field,
                kind=e.kind,
                masked=e.masked,
                reason=e.reason,
                decided_by=e.created_by,
                decided_at=e.created_at,
            )
            for e in exceptions
        ],
        "redactions": [
            t.FieldRedaction(
                record_key=r.record_key,
                field=r.field,
                redaction_basis=r.basis,
                decided_by=r.created_by,
                decided_at=r.created_at,
            )
            for r in redactions
        ],
        "protected_terms": await models.ProtectedTerm.filter(release_id=release_id).count(),
    }
