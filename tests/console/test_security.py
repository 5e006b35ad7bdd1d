"""The console's sign-in, session and CSRF rules (issue 17): each refused request changes
nothing; each limit is tried on both sides of its boundary."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from httpx import Response

from api.console import accounts, sessions
from publishers.rules import SHANGHAI
from schema.internal.ids import global_id
from storage import models, records
from storage.enums import Comparator, IndicatorNature, ReviewStatus
from tests import factories
from tests.console.conftest import PASSWORD, Console
from tests.internal.conftest import gid, indicator
from tests.storage.test_scoring import PUTUO_ROWS


async def reviewed_target(console: Console) -> models.PerformanceTarget:
    target = console.world.a_target
    await models.PerformanceTarget.filter(id=target.pk).update(
        review_status=ReviewStatus.DEPT_REVIEWED
    )
    return await models.PerformanceTarget.get(id=target.pk)


async def approve(console: Console, target: models.PerformanceTarget, page: str) -> Response:
    """POST the approval of `target` with the CSRF token of `page` (as the signed-in user)."""
    token = await console.csrf(page)
    return await console.client.post(
        f"/console/targets/{gid(target)}/approve",
        data={"csrf": token, "version": str(target.version)},
    )


async def test_sign_in_sets_a_strict_short_lived_cookie_and_sign_out_ends_it(
    console: Console,
) -> None:
    signed = await console.sign_in("officer")
    assert signed.status_code == 303 and signed.headers["location"] == "/console/"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE}=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/console"} <= flags
    assert f"max-age={sessions.IDLE_SECONDS}" in flags
    desk = await console.client.get("/console/")
    assert desk.status_code == 200 and "工作台" in desk.text
    token = await console.csrf("/console/")
    out = await console.client.post("/console/sign-out", data={"csrf": token})
    assert out.status_code == 303
    again = await console.client.get("/console/")
    assert again.status_code == 303 and again.headers["location"] == "/console/sign-in"


async def test_a_session_idle_too_long_ends(console: Console) -> None:
    await console.sign_in("officer")
    console.clock.now += sessions.IDLE_SECONDS - 1
    assert (await console.client.get("/console/")).status_code == 200  # and renewed
    console.clock.now += sessions.IDLE_SECONDS - 1
    assert (await console.client.get("/console/")).status_code == 200
    console.clock.now += sessions.IDLE_SECONDS
    assert (await console.client.get("/console/")).status_code == 303


async def test_a_forged_cookie_is_no_session(console: Console) -> None:
    await console.sign_in("officer")
    value = console.client.cookies[sessions.COOKIE]
    console.client.cookies.set(
        sessions.COOKIE, value[:-2] + "xx", domain="console.test", path="/console"
    )
    assert (await console.client.get("/console/")).status_code == 303


@pytest.mark.parametrize("sent", [None, "", "wrong-token"])
async def test_a_form_without_the_right_csrf_token_is_refused_and_changes_nothing(
    console: Console, sent: str | None
) -> None:
    target = await reviewed_target(console)
    await console.sign_in("officer")
    data = {"version": str(target.version)}
    if sent is not None:
        data["csrf"] = sent
    refused = await console.client.post(f"/console/targets/{gid(target)}/approve", data=data)
    assert refused.status_code == 403 and "CSRF" in refused.text
    after = await models.PerformanceTarget.get(id=target.pk)
    assert (after.review_status, after.version) == (ReviewStatus.DEPT_REVIEWED, target.version)
    # the same request with the session's token goes through
    data["csrf"] = await console.csrf("/console/review")
    done = await console.client.post(f"/console/targets/{gid(target)}/approve", data=data)
    assert done.status_code == 200 and "已完成" in done.text, done.text[-600:]
    after = await models.PerformanceTarget.get(id=target.pk)
    assert after.review_status == ReviewStatus.FINANCE_APPROVED


async def test_the_sign_in_form_needs_its_csrf_token(console: Console) -> None:
    refused = await console.client.post(
        "/console/sign-in", data={"username": "officer", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert not await models.AuditEntry.filter(action="console.sign_in").exists()


async def test_a_disabled_account_session_ends_at_its_next_request(console: Console) -> None:
    await console.sign_in("officer")
    assert (await console.client.get("/console/")).status_code == 200
    await accounts.disable_user("officer")
    ended = await console.client.get("/console/")
    assert ended.status_code == 303 and ended.headers["location"] == "/console/sign-in"
    refused = await console.sign_in("officer")
    assert refused.status_code == 401
    # a reset password enables the account again; the old session stays ended
    await accounts.reset_password("officer", PASSWORD + "!")
    assert (await console.sign_in("officer", PASSWORD + "!")).status_code == 303


async def fail(console: Console, times: int) -> None:
    for _ in range(times):
        response = await console.sign_in("officer", "wrong password, long enough")
        assert response.status_code == 401


async def test_nine_failed_sign_ins_do_not_slow_the_next(console: Console) -> None:
    await fail(console, accounts.FREE_FAILURES - 1)
    assert (await console.sign_in("officer")).status_code == 303
    # a success clears the count: nine more failures still cost nothing
    console.client.cookies.clear()
    await fail(console, accounts.FREE_FAILURES - 1)
    assert (await console.sign_in("officer")).status_code == 303


async def test_ten_failed_sign_ins_slow_the_next(console: Console) -> None:
    await fail(console, accounts.FREE_FAILURES)
    refused = await console.sign_in("officer")  # the right password, refused unchecked
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(accounts.FIRST_DELAY_SECONDS)
    console.clock.now += accounts.FIRST_DELAY_SECONDS - 1
    assert (await console.sign_in("officer")).status_code == 429
    console.clock.now += 1
    assert (await console.sign_in("officer")).status_code == 303
    actions = await models.AuditEntry.filter(record_type="ConsoleUser").values_list(
        "action", flat=True
    )
    assert actions.count("console.sign_in_failed") == accounts.FREE_FAILURES
    assert actions.count("console.sign_in_throttled") == 2
    assert actions.count("console.sign_in") == 1


async def test_each_failure_past_ten_doubles_the_wait(console: Console) -> None:
    assert accounts.delay_after(accounts.FREE_FAILURES - 1) == 0
    assert accounts.delay_after(accounts.FREE_FAILURES) == accounts.FIRST_DELAY_SECONDS
    assert accounts.delay_after(accounts.FREE_FAILURES + 1) == 2 * accounts.FIRST_DELAY_SECONDS
    assert accounts.delay_after(100) == accounts.MAX_DELAY_SECONDS
    await fail(console, accounts.FREE_FAILURES)
    console.clock.now += accounts.FIRST_DELAY_SECONDS
    await fail(console, 1)
    refused = await console.sign_in("officer")
    assert refused.headers["retry-after"] == str(2 * accounts.FIRST_DELAY_SECONDS)


def test_production_hashes_are_argon2id_with_rfc_9106_low_memory_parameters() -> None:
    hasher = accounts.DEFAULT_HASHER
    assert (hasher.type.name, hasher.memory_cost, hasher.time_cost) == ("ID", 65536, 3)
    assert hasher.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,")


async def test_a_password_is_never_logged_or_stored(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # a production server's level: no SQL parameters
    await console.sign_in("a-password-typed-as-a-name", PASSWORD)
    caplog.set_level(logging.DEBUG)  # every SQL statement and its parameters
    await console.sign_in("officer", "a-wrong-password-to-look-for")
    await console.sign_in("officer")
    user = await models.ConsoleUser.get(username="officer")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    dumped = (
        str(await models.AuditEntry.all().values())
        + str(await models.ConsoleSignInFailures.all().values())
        + str(await models.ConsoleUser.all().values())
    )
    for secret in (PASSWORD, "a-wrong-password-to-look-for", "a-password-typed-as-a-name"):
        assert secret not in dumped
        assert secret not in caplog.text


async def test_an_editor_sees_only_their_own_department(console: Console) -> None:
    await console.sign_in("editor")
    own = await console.client.get(f"/console/departments/{gid(console.world.a)}")
    assert own.status_code == 200 and "甲局" in own.text
    other = await console.client.get(f"/console/departments/{gid(console.world.b)}")
    assert other.status_code == 404 and "乙局" not in other.text
    target = await console.client.get(f"/console/targets/{gid(console.world.b_target)}")
    assert target.status_code == 404 and "乙目标" not in target.text
    listing = await console.client.get("/console/departments")
    assert "甲局" in listing.text and "乙局" not in listing.text


async def test_an_editor_cannot_approve_the_api_refuses_it(console: Console) -> None:
    target = await reviewed_target(console)
    await console.sign_in("editor")
    refused = await approve(console, target, "/console/")
    assert refused.status_code == 403
    after = await models.PerformanceTarget.get(id=target.pk)
    assert after.review_status == ReviewStatus.DEPT_REVIEWED


async def test_a_stale_edit_shows_the_conflict_and_the_current_values(console: Console) -> None:
    target = console.world.a_target
    await console.sign_in("editor")
    token = await console.csrf(f"/console/targets/{gid(target)}")
    first = await console.client.post(
        f"/console/targets/{gid(target)}/edit",
        data={"csrf": token, "version": str(target.version), "overallGoal": "新的目标一"},
    )
    assert first.status_code == 200, first.text
    stale = await console.client.post(
        f"/console/targets/{gid(target)}/edit",
        data={"csrf": token, "version": str(target.version), "overallGoal": "新的目标二"},
    )
    assert stale.status_code == 409
    assert "新的目标一" in stale.text and f"版本为 {target.version + 1}" in stale.text
    assert (await models.PerformanceTarget.get(id=target.pk)).overall_goal == "新的目标一"
    # the editor submits the draft at its current version
    submitted = await console.client.post(
        f"/console/targets/{gid(target)}/submit",
        data={"csrf": token, "version": str(target.version + 1)},
    )
    assert submitted.status_code == 200 and "目标已提交" in submitted.text
    after = await models.PerformanceTarget.get(id=target.pk)
    assert after.review_status == ReviewStatus.SUBMITTED


async def test_the_audit_log_filters_by_record_actor_and_date(console: Console) -> None:
    target = await reviewed_target(console)
    await console.sign_in("officer")
    approved = await approve(console, target, "/console/review")
    assert approved.status_code == 200, approved.text
    console.client.cookies.clear()
    await console.sign_in("auditor")
    record = str(global_id("PerformanceTarget", target.pk))
    by_record = await console.client.get("/console/audit", params={"record": record})
    assert by_record.status_code == 200
    assert "approve" in by_record.text and "console.sign_in" not in by_record.text
    by_actor = await console.client.get("/console/audit", params={"actor": "auditor"})
    assert "console.sign_in" in by_actor.text and "approve" not in by_actor.text
    entry = await models.AuditEntry.filter(action="approveTarget").first()
    assert entry is not None
    day = entry.at.astimezone(SHANGHAI).date()
    for since, until, shown in [
        (day, day, True),
        (day + timedelta(days=1), None, False),
        (None, day - timedelta(days=1), False),
    ]:
        params = {
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        }
        page = await console.client.get("/console/audit", params=params)
        assert ("approveTarget" in page.text) is shown, params
    bad = await console.client.get("/console/audit", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.text


async def test_the_filings_register_names_affected_releases_and_revokes_once(
    console: Console,
) -> None:
    world = console.world
    await console.sign_in("officer")
    page = await console.client.get("/console/filings", params={"year": "2024"})
    assert page.status_code == 200
    assert "敏备-101" in page.text and f"/console/releases/{gid(world.a_release)}" in page.text
    token = await console.csrf("/console/filings?year=2024")
    data = {"csrf": token, "version": str(world.a_filing.version)}
    revoked = await console.client.post(f"/console/filings/{gid(world.a_filing)}/revoke", data=data)
    assert revoked.status_code == 200 and "备案已撤销" in revoked.text
    again = await console.client.post(f"/console/filings/{gid(world.a_filing)}/revoke", data=data)
    assert again.status_code == 400 and "已完成" not in again.text  # the API: no longer active
    filing = await models.SensitivityFiling.get(id=world.a_filing.pk)
    assert (filing.status.value, filing.version) == ("REVOKED", world.a_filing.version + 1)


async def test_a_session_ends_ten_hours_after_sign_in_however_busy(console: Console) -> None:
    await console.sign_in("officer")
    started = console.clock.now
    step = sessions.IDLE_SECONDS - 1
    while console.clock.now + step < started + sessions.MAX_SECONDS - 1:
        console.clock.now += step
        assert (await console.client.get("/console/")).status_code == 200
    console.clock.now = started + sessions.MAX_SECONDS - 1
    assert (await console.client.get("/console/")).status_code == 200
    console.clock.now = started + sessions.MAX_SECONDS
    assert (await console.client.get("/console/")).status_code == 303


def test_password_and_cookie_limits() -> None:
    accounts.check_password("p" * accounts.MAX_PASSWORD)
    with pytest.raises(accounts.AccountError, match="12–1024"):
        accounts.check_password("p" * (accounts.MAX_PASSWORD + 1))
    codec = sessions.SessionCodec("s" * 32)
    session = sessions.new_session(0.0)
    value = codec.serializer.dumps(session.as_json())
    assert codec.load(str(value), 1.0) == session
    assert codec.load(str(value) + "x" * (1025 - len(str(value))), 1.0) is None


async def test_a_user_name_has_at_most_100_characters_and_no_spaces(db: str) -> None:
    await accounts.add_user("n" * accounts.MAX_USERNAME, PASSWORD, ["auditor"])
    for name in ("n" * (accounts.MAX_USERNAME + 1), "two words", ""):
        with pytest.raises(accounts.AccountError, match="user name"):
            await accounts.add_user(name, PASSWORD, ["auditor"])


async def test_a_check_problem_links_to_its_subject_and_on_to_its_target(
    console: Console,
) -> None:
    """A budgeted project of 甲局 whose target is a draft: DR-7. The problem's row links to the
    subject's page, which shows the target's state and links to it; the editor of 101 may open
    that page too, not the page of another department's subject."""
    world = console.world
    project = await factories.project(world.a, code="101-P9", name="甲新项目")
    target = await records.create_target(project, "新目标", [indicator()])
    await console.sign_in("officer")
    token = await console.csrf(f"/console/releases/{gid(world.a_release)}")
    checked = await console.client.post(
        f"/console/releases/{gid(world.a_release)}/check", data={"csrf": token}
    )
    assert checked.status_code == 200, checked.text
    link = f'<a href="/console/subjects/{gid(project)}">subject#{project.pk}</a>'
    assert f"<td>DR-7</td><td>{link}</td>" in checked.text
    page = await console.client.get(f"/console/subjects/{gid(project)}")
    assert page.status_code == 200
    assert "101-P9 甲新项目" in page.text and "草稿" in page.text
    assert f'href="/console/targets/{gid(target)}"' in page.text
    assert "尚无绩效自评" in page.text
    await records.create_self_assessment(
        project, PUTUO_ROWS, full_year_budget=Decimal("250000.00"), executed=Decimal("215457.60")
    )
    assessed = await console.client.get(f"/console/subjects/{gid(project)}")
    assert "<td>2024</td><td>86.18%</td><td>98.62</td><td>优</td>" in assessed.text
    await console.client.post("/console/sign-out", data={"csrf": await console.csrf("/console/")})
    await console.sign_in("editor")
    own = await console.client.get(f"/console/subjects/{gid(project)}")
    assert own.status_code == 200 and "甲新项目" in own.text
    other = await console.client.get(f"/console/subjects/{gid(world.b_project)}")
    assert other.status_code == 404 and "乙项目" not in other.text


async def test_the_preview_is_the_site_page_of_what_would_publish(console: Console) -> None:
    """The page as the public site would show it, with the console's headers and its copy of
    the site's stylesheet; the filed 甲项目 is not on it. An editor may not preview."""
    world = console.world
    await factories.project(world.a, code="101-P9", name="甲新项目")
    await console.sign_in("officer")
    path = f"/console/releases/{gid(world.a_release)}"
    token = await console.csrf(path)
    page = await console.client.post(f"{path}/preview", data={"csrf": token})
    assert page.status_code == 200
    assert "<strong>预览</strong>" in page.text and "甲新项目" in page.text
    assert "甲项目" not in page.text
    assert '<link rel="stylesheet" href="/console/site.css">' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    style = await console.client.get("/console/site.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert ".preview" in style.text
    await console.client.post("/console/sign-out", data={"csrf": await console.csrf("/console/")})
    await console.sign_in("editor")
    refused = await console.client.post(
        f"{path}/preview", data={"csrf": await console.csrf("/console/")}
    )
    assert refused.status_code == 403 and "甲新项目" not in refused.text


async def edit_page_rows(console: Console, target: models.PerformanceTarget) -> dict[str, str]:
    """The target's edit form as a browser would send it untouched: every row's fields."""
    page = await console.client.get(f"/console/targets/{gid(target)}")
    assert page.status_code == 200
    fields = dict(re.findall(r'<input name="(i\d+\.\w+)" value="([^"]*)"', page.text))
    for name in re.findall(r'<select name="(i\d+\.\w+)"', page.text):
        chosen = re.search(
            rf'<select name="{re.escape(name)}"[^>]*>.*?<option value="(\w+)" selected', page.text
        )
        first = re.search(
            rf'<select name="{re.escape(name)}"[^>]*><option value="(\w+)"', page.text
        )
        assert first is not None
        fields[name] = (chosen or first)[1]
    fields.update(
        (name, "on")
        for name in re.findall(
            r'<input type="checkbox" name="(i\d+\.core)"[^>]* checked', page.text
        )
    )
    return fields


async def test_an_editor_edits_adds_and_deletes_indicators_of_a_draft(console: Console) -> None:
    """The form holds the target's one indicator and two blank rows: the editor changes the
    first, fills a blank row with a qualitative one; then clears the first row's name to delete
    it. The values are read as the workbook import reads them."""
    target = console.world.a_target
    await console.sign_in("editor")
    token = await console.csrf(f"/console/targets/{gid(target)}")
    rows = await edit_page_rows(console, target)
    assert {k for k in rows if k.endswith(".name")} == {"i0.name", "i1.name", "i2.name"}
    assert rows["i0.name"] == "完成率" and rows["i0.value"] == "≥90%" and "i0.core" not in rows
    rows.update({"i0.value": "≥95%", "i0.core": "on"})
    rows.update({"i1.level1": "SATISFACTION", "i1.level2": "SERVICE_RECIPIENT_SATISFACTION"})
    rows.update({"i1.name": "群众满意", "i1.value": "基本满意", "i1.weight": "50"})
    form = {"csrf": token, "version": str(target.version), "overallGoal": "目标", **rows}
    saved = await console.client.post(f"/console/targets/{gid(target)}/edit", data=form)
    assert saved.status_code == 200 and "目标已保存" in saved.text, saved.text
    stored = await models.Indicator.filter(target_id=target.pk).order_by("position")
    assert [(i.name, i.comparator, i.target_value_number, i.is_core) for i in stored] == [
        ("完成率", Comparator.GE, Decimal(95), True),
        ("群众满意", Comparator.QUALITATIVE, None, False),
    ]
    assert stored[1].nature is IndicatorNature.QUALITATIVE and stored[1].weight == Decimal(50)
    rows = await edit_page_rows(console, target)
    rows["i0.name"] = ""
    form = {"csrf": token, "version": str(target.version + 1), "overallGoal": "目标", **rows}
    deleted = await console.client.post(f"/console/targets/{gid(target)}/edit", data=form)
    assert deleted.status_code == 200, deleted.text
    stored = await models.Indicator.filter(target_id=target.pk)
    assert [i.name for i in stored] == ["群众满意"]


async def test_an_indicator_row_without_a_value_is_refused_and_nothing_changes(
    console: Console,
) -> None:
    target = console.world.a_target
    await console.sign_in("editor")
    token = await console.csrf(f"/console/targets/{gid(target)}")
    rows = await edit_page_rows(console, target)
    rows.update({"i1.name": "新指标", "i1.value": "  "})
    form = {"csrf": token, "version": str(target.version), "overallGoal": "改了", **rows}
    refused = await console.client.post(f"/console/targets/{gid(target)}/edit", data=form)
    assert refused.status_code == 400 and "第 2 行「新指标」：指标值为空" in refused.text
    after = await models.PerformanceTarget.get(id=target.pk)
    assert (after.version, after.overall_goal) == (target.version, target.overall_goal)
    assert [i.name for i in await models.Indicator.filter(target_id=target.pk)] == ["完成率"]
