"""The web console at /console/: server-rendered pages (Jinja2, no JavaScript) for finance officers,
department editors, publishers and auditors, signed in with a local account.

Every read and every action executes the internal GraphQL schema in-process, with the signed-in
user as its caller — the same resolvers, permission checks, optimistic concurrency (each form
carries the record's version) and audit entries as `/internal/graphql`. The console adds no
rule of its own: a refusal is the API's refusal, shown in Chinese.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import strawberry
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.console import accounts
from api.console import indicators as indicator_form
from api.console.oidc import FLOW_COOKIE, FLOW_PATH, FLOW_SECONDS, OidcClient, OidcError
from api.console.sessions import COOKIE, CSRF_FIELD, Session, SessionCodec, new_session
from publishers import site
from publishers.releases import Publisher
from publishers.rules import SHANGHAI
from schema.internal.context import InternalContext
from schema.internal.permissions import Action, Caller, allows
from storage import models
from storage.files import Upload

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
#: what every mutation's result union answers besides success
OUTCOME = """__typename
  ... on InvalidInput { field rule message }
  ... on NotFound { message }
  ... on Forbidden { message }
  ... on Conflict { message currentVersion }"""
TYPENAMES_OK = frozenset(
    {"TargetSuccess", "FilingSuccess", "ReleaseSuccess", "ReleaseCheck", "ImportReport"}
)

STATUS_NAMES = {
    "DRAFT": "草稿",
    "SUBMITTED": "已提交",
    "DEPT_REVIEWED": "主管部门已审核",
    "THIRD_PARTY_REVIEWED": "第三方已审核",
    "FINANCE_APPROVED": "财政已批复",
    "REJECTED": "已退回",
    "SCHEDULED": "已排期",
    "PUBLISHED": "已公开",
    "WITHDRAWN": "已撤回",
    "FILED": "已备案",
    "ACCEPTED": "已接受",
    "REVOKED": "已撤销",
    "BUDGET": "部门预算",
    "FINAL_ACCOUNTS": "部门决算",
    "FINANCE_ANNUAL": "财政总预决算",
    "CLASSIFIED": "涉密",
    "SENSITIVE": "敏感",
    "WHOLE_DEPARTMENT": "整个部门",
    "PROJECTS": "所列项目",
    "PROJECT": "项目",
    "POLICY": "政策",
    "DEPARTMENT_OVERALL": "部门整体",
    "EXCELLENT": "优",
    "GOOD": "良",
    "AVERAGE": "中",
    "POOR": "差",
}
ROLE_NAMES = {
    "department_editor": "部门填报人",
    "finance_officer": "财政信息公开专员",
    "publisher": "发布员",
    "auditor": "审计员",
    "admin": "管理员",
}


log = logging.getLogger(__name__)


class ConsoleError(Exception):
    """The API answered with errors (a refused field, a bad argument): shown on the page."""


@dataclass
class Visit:
    """One signed-in request: who, their session, and the API as them."""

    request: Request
    user: models.ConsoleUser
    session: Session
    caller: Caller
    context: InternalContext | None = None


Handler = Callable[["Console", Visit], Awaitable[Response]]


class Console:
    def __init__(
        self,
        schema: strawberry.Schema,
        secret: str,
        publisher: Callable[[], Publisher] | None,
        clock: Callable[[], float] = time.time,
        max_upload_bytes: int = 20 * 1024 * 1024,
        oidc: OidcClient | None = None,
    ) -> None:
        self.schema = schema
        self.codec = SessionCodec(secret)
        self.oidc = oidc
        self.publisher = publisher
        self.clock = clock
        self.max_upload_bytes = max_upload_bytes
        accounts.dummy_hash()  # made now, so the first sign-in of a wrong name takes no longer
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["zh"] = lambda value: STATUS_NAMES.get(str(value), str(value))
        self.templates.filters["role"] = lambda value: ROLE_NAMES.get(str(value), str(value))
        self.templates.filters["when"] = _when

    # --- plumbing -------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        def signed_in(handler: Handler) -> Callable[..., Any]:
            async def endpoint(request: Request) -> Response:
                return await self._signed_in(request, handler)

            return endpoint

        pages: list[tuple[str, Handler, list[str]]] = [
            ("/", Console.desk, ["GET"]),
            ("/coverage", Console.coverage, ["GET"]),
            ("/review", Console.review, ["GET"]),
            ("/targets/{id}", Console.target, ["GET"]),
            ("/targets/{id}/{action}", Console.target_action, ["POST"]),
            ("/filings", Console.filings, ["GET", "POST"]),
            ("/filings/{id}/{action}", Console.filing_action, ["POST"]),
            ("/releases", Console.releases, ["GET"]),
            ("/releases/{id}", Console.release, ["GET"]),
            ("/releases/{id}/{action}", Console.release_action, ["POST"]),
            ("/departments", Console.departments, ["GET"]),
            ("/departments/{id}", Console.department, ["GET"]),
            ("/subjects/{id}", Console.subject, ["GET"]),
            ("/audit", Console.audit, ["GET"]),
            ("/import", Console.import_page, ["GET", "POST"]),
            ("/sign-out", Console.sign_out, ["POST"]),
        ]
        routes: list[BaseRoute] = [
            Route("/sign-in", self.sign_in, methods=["GET", "POST"]),
            Route("/sign-in/oidc", self.oidc_start),
            Route("/sign-in/oidc/callback", self.oidc_callback),
            Route("/site.css", _site_style),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="console-static"),
        ]
        routes += [Route(path, signed_in(h), methods=m) for path, h, m in pages]
        return [Mount(PREFIX, routes=routes)]

    def render(
        self,
        name: str,
        session: Session,
        *,
        user: models.ConsoleUser | None = None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        body = self.templates.get_template(name).render(
            prefix=PREFIX,
            csrf=session.csrf,
            csrf_field=CSRF_FIELD,
            user=user,
            can=(lambda action: allows(accounts.caller(user), Action(action))) if user else None,
            **values,
        )
        return _secured(HTMLResponse(body, status_code=status))

    def _refused(self, session: Session, message: str, status: int) -> HTMLResponse:
        response = self.render(
            "message.html", session, status=status, title="请求被拒绝", message=message
        )
        return response

    async def _signed_in(self, request: Request, handler: Handler) -> Response:
        now = self.clock()
        session = self.codec.load(request.cookies.get(COOKIE), now)
        user = None
        if session is not None and session.user_id is not None:
            user = await models.ConsoleUser.get_or_none(id=session.user_id)
            if user is None or user.disabled or user.session_epoch != session.epoch:
                user = None
        if session is None or user is None:
            response: Response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
            if request.cookies.get(COOKIE):
                self.codec.clear(response)
            return response
        if request.method == "POST":
            form = await self._form(request)
            if form is None or not session.csrf_matches(form.get(CSRF_FIELD)):
                if form is not None:
                    await form.close()
                return self._refused(session, "表单校验码缺失或不正确（CSRF），未做任何更改。", 403)
            request.state.console_form = form
        visit = Visit(request, user, session, accounts.caller(user))
        request.state.subject = user.username
        try:
            response = await handler(self, visit)
        except ConsoleError as error:
            response = self.render(
                "message.html", session, user=user, status=400, title="无法完成", message=str(error)
            )
        finally:
            form = getattr(request.state, "console_form", None)
            if form is not None:
                await form.close()
        if not getattr(request.state, "console_signed_out", False):
            self.codec.store(response, session, now)
        return response

    async def _form(self, request: Request) -> FormData | None:
        declared = request.headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_upload_bytes * 2
        ):
            return None
        try:
            return await request.form(max_files=1, max_fields=200)
        except Exception:  # a malformed body is refused like a missing token
            return None

    async def api(
        self,
        visit: Visit,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        publisher: bool = False,
    ) -> dict[str, Any]:
        """Execute the internal schema as the signed-in user. One context serves every call of
        a page, so what the user may see is computed once per request, as for one GraphQL
        request."""
        context = visit.context
        if context is None:
            context = visit.context = InternalContext(
                visit.caller,
                clock=lambda: datetime.fromtimestamp(self.clock(), UTC),
                request_id=getattr(visit.request.state, "request_id", None),
            )
        if publisher and self.publisher and context.publisher is None:
            context.publisher = self.publisher()
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            raise ConsoleError("；".join(_message(e.message) for e in result.errors))
        assert result.data is not None
        return dict(result.data)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), SHANGHAI).date()

    def outcome(
        self,
        visit: Visit,
        result: dict[str, Any],
        back: str,
        done: str,
        *,
        current: dict[str, Any] | None = None,
    ) -> HTMLResponse:
        """The page after an action: done, or the API's refusal (a conflict with the current
        values of the record)."""
        kind = result.get("__typename", "")
        if kind in TYPENAMES_OK:
            return self.render(
                "message.html",
                visit.session,
                user=visit.user,
                title="已完成",
                message=done,
                back=back,
                ok=True,
            )
        messages = {
            "InvalidInput": "输入有误",
            "NotFound": "记录不存在或无权查看",
            "Forbidden": "无权执行此操作",
            "Conflict": "记录已被他人修改",
        }
        detail = result.get("message", "")
        if kind == "InvalidInput":
            detail = f"{result.get('field')}: {detail}"
        status = {"Forbidden": 403, "NotFound": 404, "Conflict": 409}.get(kind, 400)
        return self.render(
            "message.html",
            visit.session,
            user=visit.user,
            status=status,
            title=messages.get(kind, "无法完成"),
            message=detail,
            back=back,
            current=current,
            current_version=result.get("currentVersion"),
        )

    def missing(self, visit: Visit, title: str, message: str = "") -> HTMLResponse:
        """404: no such record or action, or none the account may see (the API cannot tell)."""
        return self.render(
            "message.html",
            visit.session,
            user=visit.user,
            status=404,
            title=title,
            message=message,
        )

    def form(self, visit: Visit) -> FormData:
        form: FormData = visit.request.state.console_form
        return form

    # --- sign-in and sign-out -------------------------------------------------------------------

    async def sign_in(self, request: Request) -> Response:
        now = self.clock()
        session = self.codec.load(request.cookies.get(COOKIE), now) or new_session(now)
        if request.method == "GET":
            response = self.render(
                "sign_in.html", session, message="", username="", oidc=self.oidc is not None
            )
            self.codec.store(response, session, now)
            return response
        form = await self._form(request)
        if form is None or not session.csrf_matches(form.get(CSRF_FIELD)):
            response = self._refused(
                session, "表单校验码缺失或不正确（CSRF），请重新打开登录页。", 403
            )
            self.codec.store(response, session, now)
            return response
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        await form.close()
        attempt = await accounts.sign_in(username, password, now)
        if attempt.user is None:
            status = 429 if attempt.retry_after else 401
            response = self.render(
                "sign_in.html",
                session,
                status=status,
                message=attempt.message,
                username=username[:100],
                oidc=self.oidc is not None,
            )
            if attempt.retry_after:
                response.headers["Retry-After"] = str(attempt.retry_after)
            self.codec.store(response, session, now)
            return response
        fresh = new_session(now, attempt.user.pk, attempt.user.session_epoch)
        redirect = RedirectResponse(f"{PREFIX}/", status_code=303)
        self.codec.store(redirect, fresh, now)
        return redirect

    async def oidc_start(self, request: Request) -> Response:
        """To the organisation's provider, with a new flow cookie (api/console/oidc.py)."""
        if self.oidc is None:
            return self._oidc_refused(request, "未配置统一身份认证", 404)
        now = self.clock()
        try:
            url, flow = await self.oidc.start(now)
        except OidcError as error:
            log.warning("console OIDC sign-in not started: %s", error.reason)
            return self._oidc_refused(request, error.message, 503)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            FLOW_COOKIE,
            flow,
            max_age=FLOW_SECONDS,
            path=FLOW_PATH,
            secure=True,
            httponly=True,
            samesite="lax",  # the provider's redirect back is a cross-site navigation
        )
        return response

    async def oidc_callback(self, request: Request) -> Response:
        """Back from the provider: the user it verified signs in as the linked account. The
        session cookie is SameSite=Strict, which a redirect chain begun on the provider's site
        would not carry: a page of this site leads on to the desk instead."""
        if self.oidc is None:
            return self._oidc_refused(request, "未配置统一身份认证", 404)
        now = self.clock()
        try:
            verified = await self.oidc.finish(
                request.query_params, request.cookies.get(FLOW_COOKIE), now
            )
        except OidcError as error:
            await accounts.audit_refused_identity(error.reason)
            return self._oidc_refused(request, error.message, 400)
        attempt = await accounts.sign_in_identity(verified.issuer, verified.subject)
        if attempt.user is None:
            return self._oidc_refused(request, attempt.message, 403)
        fresh = new_session(now, attempt.user.pk, attempt.user.session_epoch)
        response = self.render(
            "signed_in.html", fresh, status=200, user=attempt.user, next=f"{PREFIX}/"
        )
        self.codec.store(response, fresh, now)
        response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=True, httponly=True)
        return response

    def _oidc_refused(self, request: Request, message: str, status: int) -> Response:
        now = self.clock()
        session = self.codec.load(request.cookies.get(COOKIE), now) or new_session(now)
        response = self.render(
            "sign_in.html",
            session,
            status=status,
            message=message,
            username="",
            oidc=self.oidc is not None,
        )
        self.codec.store(response, session, now)
        response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=True, httponly=True)
        return response

    async def sign_out(self, visit: Visit) -> Response:
        """Ends this session and, by raising the account's session epoch, every other one: a
        signed cookie copied before cannot be replayed."""
        await models.ConsoleUser.filter(id=visit.user.pk).update(
            session_epoch=visit.user.session_epoch + 1
        )
        visit.request.state.console_signed_out = True
        await models.AuditEntry.create(
            actor=visit.user.username,
            roles=list(visit.user.roles),
            department_code=visit.user.department,
            action="console.sign_out",
            record_type="ConsoleUser",
            record_id=str(visit.user.pk),
            classified=False,
        )
        response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
        self.codec.clear(response)
        return response

    # --- pages -----------------------------------------------------------------------------------

    async def _departments(self, visit: Visit) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        after = None
        for _ in range(20):
            data = await self.api(
                visit,
                "query($after: String) { departments(first: 100, after: $after) {"
                " nodes { id code name parentId version } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
            )
            page = data["departments"]
            found.update({d["id"]: d for d in page["nodes"]})
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return found

    async def _nodes(
        self, visit: Visit, kind: str, fields: str, ids: list[str | None]
    ) -> dict[str, dict[str, Any]]:
        """The records of these ids (of one type) that the account may read, by id."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(i for i in ids if i))
        for start in range(0, len(unique), 100):
            data = await self.api(
                visit,
                f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {kind} {{ id {fields} }} }} }}",
                {"ids": unique[start : start + 100]},
            )
            found.update({row["id"]: row for row in data["nodes"] if row})
        return found

    async def _department_names(
        self, visit: Visit, ids: list[str | None]
    ) -> dict[str, dict[str, Any]]:
        """The departments of a page (its few, not all)."""
        return await self._nodes(visit, "Department", "code name parentId", ids)

    def _year(self, visit: Visit) -> int:
        raw = visit.request.query_params.get("year", "")
        if raw.isdigit() and 2000 <= int(raw) <= 2100:
            return int(raw)
        return self.today().year

    async def desk(self, visit: Visit) -> Response:
        if not allows(visit.caller, Action.READ):
            raise ConsoleError("您的角色不能查看工作数据")
        year = self._year(visit)
        release = "id kind fiscalYear departmentId dueDate status late version publishAt"
        data = await self.api(
            visit,
            f"""query($year: Int!) {{ dashboard(fiscalYear: $year) {{
              releasesDue {{ {release} }} releasesLate {{ {release} }}
              targetsAwaitingReview rectificationsOverdue
              coverage {{ inScopeSubjects withApprovedTargets withSelfAssessments
                          approvedTargetShare selfAssessmentShare }} }} }}""",
            {"year": year},
        )
        board = data["dashboard"]
        today = self.today()
        soon = [
            r
            for r in board["releasesDue"]
            if 0 <= (date.fromisoformat(r["dueDate"]) - today).days <= 30
        ]
        return self.render(
            "desk.html",
            visit.session,
            user=visit.user,
            year=year,
            board=board,
            soon=soon,
            departments=await self._department_names(
                visit, [r["departmentId"] for r in board["releasesDue"] + board["releasesLate"]]
            ),
        )

    async def coverage(self, visit: Visit) -> Response:
        """Each jurisdiction's disclosure coverage and check problems for the year (the
        dashboard's `disclosure`: it checks every release of the year, so it has its page)."""
        year = self._year(visit)
        data = await self.api(
            visit,
            """query($year: Int!) { dashboard(fiscalYear: $year) {
              disclosure { jurisdictionCode departmentsDue departmentsPublished
                           departmentsMissing subjectsDue subjectsPublished subjectsMissing
                           problems } } }""",
            {"year": year},
        )
        return self.render(
            "coverage.html",
            visit.session,
            user=visit.user,
            year=year,
            disclosure=data["dashboard"]["disclosure"],
        )

    async def review(self, visit: Visit) -> Response:
        target = (
            "id subjectId fiscalYear overallGoal reviewStatus version indicators {"
            " name targetValueRaw unit }"
        )
        after = visit.request.query_params.get("after") or None
        data = await self.api(
            visit,
            f"""query($after: String) {{
              submitted: targets(first: 50, after: $after, filter: {{reviewStatus: SUBMITTED}}) {{
                nodes {{ {target} }} pageInfo {{ hasNextPage endCursor }} totalCount }}
              reviewed: targets(first: 50, filter: {{reviewStatus: DEPT_REVIEWED}}) {{
                nodes {{ {target} }} totalCount }} }}""",
            {"after": after},
        )
        queue = data["reviewed"]["nodes"] + data["submitted"]["nodes"]
        subjects = await self._subjects(visit, [t["subjectId"] for t in queue])
        return self.render(
            "review.html",
            visit.session,
            user=visit.user,
            queue=queue,
            subjects=subjects,
            total=data["submitted"]["totalCount"] + data["reviewed"]["totalCount"],
            next_page=data["submitted"]["pageInfo"],
        )

    async def _subjects(self, visit: Visit, ids: list[str]) -> dict[str, dict[str, Any]]:
        fields = "code name kind fiscalYear departmentId"
        return await self._nodes(visit, "Subject", fields, list(ids))

    async def _target(self, visit: Visit, target_id: str) -> dict[str, Any] | None:
        data = await self.api(
            visit,
            """query($id: ID!) { target(id: $id) { id subjectId fiscalYear horizon overallGoal
                 reviewStatus rejectionReason version
                 indicators { position level1 level2 name comparator targetValueRaw unit
                              weight isCore } } }""",
            {"id": target_id},
        )
        found: dict[str, Any] | None = data["target"]
        return found

    async def target(self, visit: Visit) -> Response:
        target = await self._target(visit, visit.request.path_params["id"])
        if target is None:
            return self.missing(visit, "记录不存在或无权查看", "")
        subjects = await self._subjects(visit, [target["subjectId"]])
        return self.render(
            "target.html",
            visit.session,
            user=visit.user,
            target=target,
            subject=subjects.get(target["subjectId"]),
            level1=indicator_form.LEVEL1,
            level2=indicator_form.LEVEL2,
            blank_rows=indicator_form.BLANK_ROWS,
        )

    async def target_action(self, visit: Visit) -> Response:
        target_id = visit.request.path_params["id"]
        action = visit.request.path_params["action"]
        form = self.form(visit)
        version = _int(form.get("version"), "version")
        variables: dict[str, Any] = {"id": target_id, "v": version}
        if action == "approve":
            mutation, done = "approveTarget(id: $id, version: $v)", "目标已批复"
        elif action == "reject":
            mutation, done = "rejectTarget(id: $id, version: $v, reason: $reason)", "目标已退回"
            variables["reason"] = str(form.get("reason") or "")
        elif action == "review":
            mutation, done = "reviewTarget(id: $id, version: $v)", "目标已审核"
        elif action == "submit":
            mutation, done = "submitTarget(id: $id, version: $v)", "目标已提交"
        elif action == "edit":
            mutation, done = "updateTarget(id: $id, version: $v, patch: $patch)", "目标已保存"
            patch: dict[str, Any] = {"overallGoal": str(form.get("overallGoal") or "")}
            try:
                indicators = indicator_form.rows_of(form)
            except indicator_form.RowsError as error:
                raise ConsoleError(str(error)) from None
            if indicators is not None:
                patch["indicators"] = indicators
            variables["patch"] = patch
        else:
            return self.missing(visit, "没有这个操作", action)
        declared = (
            "$id: ID!, $v: Int!"
            + (", $reason: String!" if "reason" in variables else "")
            + (", $patch: TargetPatch!" if "patch" in variables else "")
        )
        data = await self.api(
            visit, f"mutation({declared}) {{ r: {mutation} {{ {OUTCOME} }} }}", variables
        )
        current = None
        if data["r"]["__typename"] == "Conflict":
            current = await self._target(visit, target_id)
        back = visit.request.query_params.get("back") or f"{PREFIX}/targets/{target_id}"
        if not back.startswith(PREFIX + "/"):
            back = f"{PREFIX}/"
        return self.outcome(visit, data["r"], back, done, current=current)

    async def filings(self, visit: Visit) -> Response:
        if visit.request.method == "POST":
            return await self._file_filing(visit)
        year = self._year(visit)
        after = visit.request.query_params.get("after") or None
        data = await self.api(
            visit,
            """query($year: Int!, $after: String) { filings(first: 50, after: $after,
                 fiscalYear: $year) { totalCount pageInfo { hasNextPage endCursor }
                 nodes { id fiscalYear departmentId scope reason reference filedWith filedAt
                         status projectIds version releases { id kind status } } } }""",
            {"year": year, "after": after},
        )
        departments = await self._departments(visit)
        chosen = visit.request.query_params.get("department") or ""
        projects: list[dict[str, Any]] = []
        if chosen:
            subjects = await self.api(
                visit,
                """query($d: ID!, $year: Int!) { subjects(first: 100,
                     filter: {departmentId: $d, fiscalYear: $year, kind: PROJECT}) {
                     nodes { id code name } } }""",
                {"d": chosen, "year": year},
            )
            projects = subjects["subjects"]["nodes"]
        page = data["filings"]
        project_names = await self._subjects(
            visit, [p for f in page["nodes"] for p in f["projectIds"]]
        )
        return self.render(
            "filings.html",
            visit.session,
            user=visit.user,
            year=year,
            filings=page,
            departments=departments,
            chosen=chosen,
            projects=projects,
            project_names=project_names,
            today=self.today().isoformat(),
        )

    async def _file_filing(self, visit: Visit) -> Response:
        form = self.form(visit)
        filing = {
            "departmentId": str(form.get("departmentId") or ""),
            "fiscalYear": _int(form.get("fiscalYear"), "fiscalYear"),
            "scope": str(form.get("scope") or ""),
            "reason": str(form.get("reason") or ""),
            "reference": str(form.get("reference") or ""),
            "filedWith": str(form.get("filedWith") or ""),
            "filedAt": str(form.get("filedAt") or ""),
            "projectIds": [str(p) for p in form.getlist("projectIds")],
        }
        if filing["scope"] not in ("WHOLE_DEPARTMENT", "PROJECTS"):
            raise ConsoleError("请选择备案范围（整个部门或所列项目）")
        if filing["reason"] not in ("CLASSIFIED", "SENSITIVE"):
            raise ConsoleError("请选择备案原因（涉密或敏感）")
        try:
            date.fromisoformat(str(filing["filedAt"]))
        except ValueError:
            raise ConsoleError("备案日期应为 YYYY-MM-DD") from None
        data = await self.api(
            visit,
            f"mutation($i: FilingInput!) {{ r: fileFiling(input: $i) {{ {OUTCOME} }} }}",
            {"i": filing},
        )
        return self.outcome(
            visit, data["r"], f"{PREFIX}/filings?year={filing['fiscalYear']}", "备案已登记"
        )

    async def filing_action(self, visit: Visit) -> Response:
        action = visit.request.path_params["action"]
        if action not in ("withdraw", "revoke"):
            return self.missing(visit, "没有这个操作", action)
        version = _int(self.form(visit).get("version"), "version")
        mutation = "withdrawFiling" if action == "withdraw" else "revokeFiling"
        data = await self.api(
            visit,
            f"mutation($id: ID!, $v: Int!) {{ r: {mutation}(id: $id, version: $v) {{"
            f" {OUTCOME} }} }}",
            {"id": visit.request.path_params["id"], "v": version},
        )
        done = "备案已撤回" if action == "withdraw" else "备案已撤销"
        return self.outcome(visit, data["r"], f"{PREFIX}/filings", done)

    async def releases(self, visit: Visit) -> Response:
        year = self._year(visit)
        after = visit.request.query_params.get("after") or None
        data = await self.api(
            visit,
            """query($year: Int!, $after: String) { releases(first: 100, after: $after,
                 filter: {fiscalYear: $year}) { totalCount pageInfo { hasNextPage endCursor }
                 nodes { id kind fiscalYear departmentId dueDate status late version
                         publishAt publishedAt } } }""",
            {"year": year, "after": after},
        )
        return self.render(
            "releases.html",
            visit.session,
            user=visit.user,
            year=year,
            releases=data["releases"],
            departments=await self._department_names(
                visit, [r["departmentId"] for r in data["releases"]["nodes"]]
            ),
        )

    async def _release(self, visit: Visit, release_id: str) -> dict[str, Any] | None:
        data = await self.api(
            visit,
            """query($id: ID!) { release(id: $id) { id kind fiscalYear departmentId approvalDate
                 dueDate publishAt status publishedAt currentVersion late version } }""",
            {"id": release_id},
        )
        found: dict[str, Any] | None = data["release"]
        return found

    async def release(
        self, visit: Visit, *, check: dict[str, Any] | None = None, confirm: str = ""
    ) -> Response:
        release = await self._release(visit, visit.request.path_params["id"])
        if release is None:
            return self.missing(visit, "记录不存在或无权查看", "")
        departments = await self._department_names(visit, [release["departmentId"]])
        now = datetime.fromtimestamp(self.clock(), SHANGHAI).replace(microsecond=0, tzinfo=None)
        return self.render(
            "release.html",
            visit.session,
            user=visit.user,
            release=release,
            department=departments.get(release["departmentId"] or ""),
            check=check,
            confirm=confirm,
            now=now.isoformat(timespec="minutes"),
        )

    async def release_action(self, visit: Visit) -> Response:
        release_id = visit.request.path_params["id"]
        action = visit.request.path_params["action"]
        form = self.form(visit)
        back = f"{PREFIX}/releases/{release_id}"
        if action == "check":
            data = await self.api(
                visit,
                f"""mutation($id: ID!) {{ r: checkRelease(id: $id) {{ {OUTCOME}
                     ... on ReleaseCheck {{ ok records problems {{ rule record recordId message }}
                                           selected {{ recordType key name }} files
                                           protectedTerms }} }} }}""",
                {"id": release_id},
                publisher=True,
            )
            if data["r"]["__typename"] != "ReleaseCheck":
                return self.outcome(visit, data["r"], back, "")
            return await self.release(visit, check=data["r"])
        if action == "preview":
            data = await self.api(
                visit,
                f"mutation($id: ID!, $style: String) {{ r: checkRelease(id: $id) {{ {OUTCOME}"
                " ... on ReleaseCheck { page(stylesheet: $style) } } }",
                {"id": release_id, "style": f"{PREFIX}/site.css"},
                publisher=True,
            )
            if data["r"]["__typename"] != "ReleaseCheck":
                return self.outcome(visit, data["r"], back, "")
            return _secured(HTMLResponse(data["r"]["page"]))
        version = _int(form.get("version"), "version")
        if action in ("publish", "withdraw") and form.get("confirmed") != "yes":
            return await self.release(visit, confirm=action)
        if action == "schedule":
            raw = str(form.get("publishAt") or "")
            try:
                at = datetime.fromisoformat(raw)
            except ValueError:
                raise ConsoleError("发布时间应为 YYYY-MM-DDTHH:MM") from None
            at = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)
            mutation = "scheduleRelease(id: $id, version: $v, publishAt: $at)"
            declared = ", $at: DateTime!"
            variables: dict[str, str | None] = {"at": at.isoformat()}
            done = "已排期"
        elif action == "publish":
            note = str(form.get("note") or "") or None
            mutation = "publishRelease(id: $id, version: $v, note: $note)"
            declared, variables = ", $note: String", {"note": note}
            done = "已公开发布"
        elif action == "withdraw":
            mutation, declared, variables = "withdrawRelease(id: $id, version: $v)", "", {}
            done = "已撤回"
        else:
            return self.missing(visit, "没有这个操作", action)
        data = await self.api(
            visit,
            f"mutation($id: ID!, $v: Int!{declared}) {{ r: {mutation} {{ {OUTCOME}"
            " ... on ReleaseSuccess { release { status currentVersion } } } }",
            {"id": release_id, "v": version, **variables},
            publisher=True,
        )
        current = (
            await self._release(visit, release_id)
            if data["r"]["__typename"] == "Conflict"
            else None
        )
        return self.outcome(visit, data["r"], back, done, current=current)

    async def departments(self, visit: Visit) -> Response:
        departments = await self._departments(visit)
        tops = [d for d in departments.values() if d["parentId"] is None]
        return self.render(
            "departments.html",
            visit.session,
            user=visit.user,
            departments=sorted(tops, key=lambda d: d["code"]),
        )

    async def department(self, visit: Visit) -> Response:
        department_id = visit.request.path_params["id"]
        year = self._year(visit)
        data = await self.api(
            visit,
            """query($d: ID!, $year: Int!) {
                 department(id: $d) { id code name }
                 subjects(first: 100, filter: {departmentId: $d, fiscalYear: $year}) {
                   totalCount nodes { id code name kind classified } }
                 targets(first: 100, filter: {departmentId: $d, fiscalYear: $year}) {
                   totalCount nodes { id subjectId overallGoal reviewStatus rejectionReason
                                      version } } }""",
            {"d": department_id, "year": year},
        )
        if data["department"] is None:
            return self.missing(
                visit, "部门不存在或无权查看", "您只能查看本部门（及其所属单位）的记录。"
            )
        targets: dict[str, list[dict[str, Any]]] = {}
        for target in data["targets"]["nodes"]:
            targets.setdefault(target["subjectId"], []).append(target)
        return self.render(
            "department.html",
            visit.session,
            user=visit.user,
            year=year,
            department=data["department"],
            subjects=data["subjects"],
            targets=targets,
            target_count=data["targets"]["totalCount"],
        )

    async def subject(self, visit: Visit) -> Response:
        """A project, policy or department-overall subject with its targets and self-assessments:
        where a release check's problem about it links to."""
        data = await self.api(
            visit,
            """query($id: ID!) {
                 subject(id: $id) { id code name kind fiscalYear departmentId classified
                   inDisclosureScope publicationSelected amounts { fullYearTotal } }
                 targets(first: 20, filter: {subjectId: $id}) { nodes { id fiscalYear horizon
                   reviewStatus rejectionReason } }
                 selfAssessments(first: 20, subjectId: $id) { nodes { id fiscalYear
                   executionRate totalScore grade version } } }""",
            {"id": visit.request.path_params["id"]},
        )
        subject = data["subject"]
        if subject is None:
            return self.missing(visit, "记录不存在或无权查看", "")
        departments = await self._department_names(visit, [subject["departmentId"]])
        return self.render(
            "subject.html",
            visit.session,
            user=visit.user,
            subject=subject,
            department=departments.get(subject["departmentId"]),
            targets=data["targets"]["nodes"],
            assessments=data["selfAssessments"]["nodes"],
        )

    async def audit(self, visit: Visit) -> Response:
        params = visit.request.query_params
        filters: dict[str, Any] = {
            "recordId": params.get("record") or None,
            "actor": params.get("actor") or None,
            "since": params.get("since") or None,
            "until": params.get("until") or None,
            "after": params.get("after") or None,
        }
        for name in ("since", "until"):
            if filters[name] is not None:
                try:
                    date.fromisoformat(filters[name])
                except ValueError:
                    raise ConsoleError(f"{name} 应为 YYYY-MM-DD 日期") from None
        data = await self.api(
            visit,
            """query($recordId: ID, $actor: String, $since: Date, $until: Date, $after: String) {
                 auditLog(first: 50, after: $after, recordId: $recordId, actor: $actor,
                          since: $since, until: $until) {
                   totalCount pageInfo { hasNextPage endCursor }
                   nodes { id at actor roles action recordType recordId requestId } } }""",
            filters,
        )
        return self.render(
            "audit.html",
            visit.session,
            user=visit.user,
            log=data["auditLog"],
            filters={k: v or "" for k, v in filters.items()},
        )

    async def import_page(self, visit: Visit) -> Response:
        if visit.request.method == "GET":
            return self.render("import.html", visit.session, user=visit.user, report=None)
        form = self.form(visit)
        part = form.get("workbook")
        if isinstance(part, UploadFile):
            data = await part.read()
            filename = part.filename or "workbook.xlsx"
            check = True
        else:
            try:
                data = base64.b64decode(str(form.get("content") or ""), validate=True)
            except (binascii.Error, ValueError):
                raise ConsoleError("确认导入的工作簿内容无法读取，请重新上传") from None
            filename = str(form.get("filename") or "workbook.xlsx")
            check = form.get("confirmed") != "yes"
        if not data:
            raise ConsoleError("请选择要上传的工作簿（.xlsx、.xls 或 .ods）")
        if len(data) > self.max_upload_bytes:
            raise ConsoleError(f"工作簿超过 {self.max_upload_bytes} 字节的上限")
        result = await self.api(
            visit,
            f"""mutation($file: Upload!, $check: Boolean!) {{ r: importWorkbook(file: $file,
                 check: $check) {{ {OUTCOME} ... on ImportReport {{ stored forms created updated
                 unchanged problems {{ file sheet cell rule message }} }} }} }}""",
            {"file": Upload(filename=filename, data=data), "check": check},
        )
        report = result["r"]
        if report["__typename"] != "ImportReport":
            return self.outcome(visit, report, f"{PREFIX}/import", "")
        return self.render(
            "import.html",
            visit.session,
            user=visit.user,
            report=report,
            filename=filename,
            content=base64.b64encode(data).decode() if check and not report["problems"] else "",
            sha256=hashlib.sha256(data).hexdigest(),
        )


async def _site_style(request: Request) -> Response:
    """The public site's stylesheet, for the preview of a release's page."""
    return Response(site.style_bytes(), media_type="text/css")


def _secured(response: HTMLResponse) -> HTMLResponse:
    """A console page's headers: never cached, never framed, nothing but its own styles (and
    the empty `data:` icon the site's pages name, so a browser asks for no favicon)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _message(text: str) -> str:
    if text.startswith("forbidden"):
        return f"无权执行此操作（{text}）"
    return text


def _int(value: object, name: str) -> int:
    text = str(value or "")
    if not text.isdigit() or len(text) > 9:
        raise ConsoleError(f"表单字段 {name} 应为整数")
    return int(text)


def _when(value: object) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return moment.isoformat(sep=" ", timespec="minutes")
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def development_secret() -> str:
    """A secret for one development process (sessions end when it restarts)."""
    return secrets.token_urlsafe(48)
