"""What a caller may see, as queryset filters: role scope first, then the CLASSIFIED rule (D6).
Lists, counts, lookups by id and `node(id:)` all start from these, so they agree on what exists
for the caller."""

from __future__ import annotations

from typing import TypeVar, cast

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from schema.internal.permissions import Action, Scope, Visibility, scope_of
from storage import models
from storage.files import DEPARTMENT_DOCUMENTS

M = TypeVar("M", bound=models.Model)


def _own(vis: Visibility) -> bool:
    return scope_of(vis.caller, Action.READ) is Scope.OWN


def departments_query(vis: Visibility) -> QuerySet[models.Department]:
    query = models.Department.all()
    if _own(vis):
        query = query.filter(id__in=list(vis.own_departments))
    return query.exclude(id__in=list(vis.hidden_departments()))


def subjects_query(vis: Visibility) -> QuerySet[models.Subject]:
    query = models.Subject.all()
    if _own(vis):
        query = query.filter(department_id__in=list(vis.own_departments))
    return query.exclude(id__in=list(vis.hidden_subjects()))


def content_subjects(vis: Visibility) -> QuerySet[models.Subject]:
    """Subjects whose content (targets, assessments) may be shown: no stubs at all (D6)."""
    return subjects_query(vis).exclude(id__in=list(vis.classified_subjects))


def content_subject_filter(vis: Visibility) -> Subquery:
    """`content_subjects` as a subquery for ``subject_id__in``: the database reads it, where a
    list of ids (every subject, for the finance bureau) is rendered into each statement."""
    return Subquery(content_subjects(vis).values("id"))


async def content_subject_ids(vis: Visibility) -> list[int]:
    return cast(list[int], await content_subjects(vis).values_list("id", flat=True))


async def filings_query(vis: Visibility) -> QuerySet[models.SensitivityFiling]:
    query = models.SensitivityFiling.all()
    if _own(vis):
        query = query.filter(department_id__in=list(vis.own_departments))
    pairs = await models.SensitivityFiling.all().values_list("id", "department_id")
    return query.exclude(id__in=list(vis.hidden_filings(pairs)))


def releases_query(vis: Visibility) -> QuerySet[models.Release]:
    query = models.Release.all()
    if _own(vis):
        query = query.filter(department_id__in=list(vis.own_departments))
    hidden = list(vis.hidden_departments())
    return query.filter(Q(department_id__isnull=True) | ~Q(department_id__in=hidden or [0]))


def _unclassified_documents(
    query: QuerySet[models.StoredFile], vis: Visibility
) -> QuerySet[models.StoredFile]:
    """Without the documents of a department-year under a CLASSIFIED whole-department filing:
    content of a stub, refused to everyone (D6)."""
    for year, covered in vis.classified_by_year.items():
        # Not `exclude(a=…, b=…)`: Tortoise negates each condition (NOT a AND NOT b).
        query = query.filter(~(Q(fiscal_year=year) & Q(department_id__in=list(covered))))
    return query


async def documents_query(vis: Visibility) -> QuerySet[models.StoredFile]:
    """Department documents (budget, final accounts …) of the departments the caller sees."""
    departments = await departments_query(vis).values_list("id", flat=True)
    query = models.StoredFile.filter(
        doc_kind__in=list(DEPARTMENT_DOCUMENTS), department_id__in=list(departments)
    )
    return _unclassified_documents(query, vis)


async def report_file_ids(subject_ids: list[int]) -> set[int]:
    """The main texts and annexes of the reports of evaluations of these subjects."""
    reports = models.EvaluationReport.filter(evaluation__subject_id__in=subject_ids)
    mains = cast(list[int], await reports.values_list("main_text_id", flat=True))
    annexes = cast(list[int | None], await reports.values_list("annexes__id", flat=True))
    return {i for i in [*mains, *annexes] if i is not None}


async def visible_file_ids(vis: Visibility, pks: list[int]) -> set[int]:
    """Of these stored files, those the caller may see: documents of its departments, and the
    report files of the evaluations it may see."""
    documents = await (await documents_query(vis)).filter(id__in=pks).values_list("id", flat=True)
    reports = await report_file_ids(await content_subject_ids(vis))
    return set(cast(list[int], documents)) | (reports & set(pks))


async def _ids(query: QuerySet[M]) -> set[int]:
    return set(cast(list[int], await query.values_list("id", flat=True)))


async def _hidden_files(vis: Visibility, subjects: set[int]) -> set[int]:
    hidden_departments = list(vis.hidden_departments())
    of_departments = await _ids(models.StoredFile.filter(department_id__in=hidden_departments))
    documents = models.StoredFile.filter(doc_kind__in=list(DEPARTMENT_DOCUMENTS))
    of_stubs = await _ids(documents) - await _ids(_unclassified_documents(documents, vis))
    return of_departments | of_stubs | await report_file_ids(list(subjects))


async def audit_query(vis: Visibility) -> QuerySet[models.AuditEntry]:
    """Entries about records the caller may not see are not there for it (D6), whatever their
    `classified` flag said when they were written (a filing can come after the write)."""
    query = models.AuditEntry.all()
    if vis.caller.classified:
        return query
    subjects = vis.hidden_subjects() | set(vis.classified_subjects)
    of_subjects = {"subject_id__in": list(subjects)}
    pairs = await models.SensitivityFiling.all().values_list("id", "department_id")
    hidden: dict[str, set[int]] = {
        "Department": vis.hidden_departments(),
        "Subject": subjects,
        "SensitivityFiling": vis.hidden_filings(pairs),
        "PerformanceTarget": await _ids(models.PerformanceTarget.filter(**of_subjects)),
        "SelfAssessment": await _ids(models.SelfAssessment.filter(**of_subjects)),
        "MonitoringRecord": await _ids(models.MonitoringRecord.filter(**of_subjects)),
        "ExAnteAssessment": await _ids(models.ExAnteAssessment.filter(**of_subjects)),
        "Evaluation": await _ids(models.Evaluation.filter(**of_subjects)),
        "EvaluationReport": await _ids(
            models.EvaluationReport.filter(evaluation__subject_id__in=list(subjects))
        ),
        "Rectification": await _ids(
            models.Rectification.filter(finding__evaluation__subject_id__in=list(subjects))
        ),
        "StoredFile": await _hidden_files(vis, subjects),
        "Release": await _ids(models.Release.filter(department_id__in=vis.hidden_departments())),
    }
    query = query.filter(classified=False)
    for record_type, ids in hidden.items():
        if ids:
            about = Q(record_type=record_type) & Q(record_id__in=[str(i) for i in ids])
            query = query.filter(~about)
    return query
