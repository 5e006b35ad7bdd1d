"""The site's feeds: an Atom feed of publications and correction notices (`feed.xml`) and an
iCalendar of publication due dates (`calendar.ics`), rendered from published rows only, the
same bytes for the same data (no clock: times are publication times).

Links are relative to the site's root, where both files sit, unless a `base_url` is given (the
deployment's `GONGKAI_PUBLIC_BASE_URL`, D17): then the feed's links are absolute, as feed readers
need, and every calendar event of a published release carries the absolute URL of its page
(iCalendar has no relative URLs, so without a base there is none). Entry and feed IDs stay
`tag:` URIs whatever the base: an Atom ID must never change (RFC 4287 §4.2.6), and a site can
move to another address.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event

from publishers.display import TOTALS_NOTE, day, to_utc, when
from publishers.site_data import Published
from publishers.site_paths import FEED_KEY, INDEX_KEY, quoted, release_page

ATOM_TYPE = "application/atom+xml; charset=utf-8"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
#: The newest entries the feed carries.
FEED_ENTRIES = 100


def _tag(specific: str) -> str:
    return f"tag:gongkai,2024:{specific}"


def href(key: str, base_url: str | None) -> str:
    """The link to an object of the site from the feed or the calendar."""
    return key if base_url is None else f"{base_url.rstrip('/')}/{quoted(key)}"


def feed_bytes(p: Published, base_url: str | None = None) -> bytes:
    """Atom: the first publication of every release and every correction notice, newest first;
    `updated` is the latest publication time, so the same data gives the same bytes."""
    entries = []
    for release in p.releases.values():
        e = release.entry
        on_time = "按时" if e["onTime"] else "逾期"
        entries.append(
            (
                to_utc(e["publishedAt"]),
                _tag(f"release/{release.key}"),
                f"公开：{e['title']}",
                release_page(release.key),
                f"{e['kindLabel']}，{e['fiscalYear']}年度；批准日期{e['approvalDate']}，"
                f"公开截止日{e['dueDate']}，{on_time}公开。",
            )
        )
    for notice in p.notices:
        title = (
            p.releases[notice.release_key].entry["title"]
            if notice.release_key
            else f"{p.jurisdiction_name(notice.jurisdiction_code)}{notice.fiscal_year}年度"
        )
        entries.append(
            (
                to_utc(notice.published_at),
                _tag(f"notice/{notice.id}"),
                f"{notice.kind_label}：{title}",
                release_page(notice.release_key) if notice.release_key else INDEX_KEY,
                notice.note,
            )
        )
    entries.sort(key=lambda item: (item[0], item[1]), reverse=True)
    feed = FeedGenerator()
    feed.id(_tag("feed"))
    feed.title("预算绩效信息公开：公开与更正")
    feed.subtitle("各部门预算绩效信息公开批次和更正公告。" + TOTALS_NOTE)
    feed.author({"name": "预算绩效信息公开"})
    feed.link(href=href(INDEX_KEY, base_url), rel="alternate", type="text/html")
    feed.link(href=href(FEED_KEY, base_url), rel="self", type="application/atom+xml")
    feed.language("zh-CN")
    feed.generator("gongkai")
    epoch = entries[0][0] if entries else datetime(2000, 1, 1, tzinfo=UTC)
    feed.updated(epoch)
    for moment, ident, title, page, summary in entries[:FEED_ENTRIES]:
        item = feed.add_entry(order="append")
        item.id(ident)
        item.title(title)
        item.updated(moment)
        item.published(moment)
        item.link(href=href(page, base_url), rel="alternate", type="text/html")
        item.summary(summary)
    return bytes(feed.atom_str(pretty=True))


def calendar_bytes(p: Published, base_url: str | None = None) -> bytes:
    """iCalendar: the due date (approval + 20 days) of every published and scheduled release,
    as all-day events; DTSTAMP is a publication time, never the clock."""
    calendar = Calendar()
    calendar.add("prodid", "-//gongkai//预算绩效信息公开//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "预算绩效信息公开截止日")
    times = [to_utc(r.entry["publishedAt"]) for r in p.releases.values()]
    epoch = max(times, default=datetime(2000, 1, 1, tzinfo=UTC))
    events: list[tuple[date, str, str, str, datetime, str | None]] = []
    for release in p.releases.values():
        e = release.entry
        status = "已按时公开" if e["onTime"] else "已逾期公开"
        events.append(
            (
                date.fromisoformat(str(e["dueDate"])),
                release.key,
                f"公开截止：{e['title']}（{status}）",
                f"批准日期{e['approvalDate']}；公开截止日{e['dueDate']}；"
                f"首次公开{day(e['publishedAt'])}。",
                to_utc(e["versions"][-1]["publishedAt"]),
                release_page(release.key),
            )
        )
    for s in p.scheduled:
        owner = (
            p.department_name(s.jurisdiction_code, s.department_code, s.fiscal_year)
            if s.department_code
            else str(p.jurisdictions[s.jurisdiction_code]["financeAuthority"])
        )
        if owner is None:
            continue
        demo = "【演示数据】" if p.is_demo(s.jurisdiction_code) else ""
        folder = f"{s.jurisdiction_code}/{s.fiscal_year}/{s.kind.value}/{s.department_code}"
        embargo = f"；定于{when(s.publish_at.astimezone(UTC))}（UTC）公开" if s.publish_at else ""
        events.append(
            (
                s.due_date,
                folder,
                f"公开截止：{demo}{owner}{s.fiscal_year}年度{s.kind.label}（待公开）",
                f"公开截止日{s.due_date.isoformat()}{embargo}。",
                epoch,
                None,  # not published yet: no page
            )
        )
    for due, ident, summary, description, stamp, page in sorted(events, key=lambda e: e[:2]):
        event = Event()
        event.add("uid", f"{ident}@gongkai")
        event.add("dtstamp", stamp)
        event.add("dtstart", due)
        event.add("summary", summary)
        event.add("description", description)
        if page is not None and base_url is not None:
            event.add("url", href(page, base_url))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
