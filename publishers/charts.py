"""Charts for the open-data site: inline SVG rendered at publish time (pure; no I/O, no floats).

Each chart is a `Chart`: the SVG (with ``role="img"``, a ``<title>`` and a ``<desc>``) and the
same numbers as a table, which the pages show beside it as the text alternative. Coordinates are
computed with `Decimal` and printed to one decimal place, so the same data always gives the same
bytes (invariant 4) and no money value ever passes through a float (decisions.md D1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 150
ROW_HEIGHT = 28
BAR_HEIGHT = 18
TOP = 8
#: Text colours chosen for contrast (WCAG AA) on each fill.
PALETTE = ("#1d5fa7", "#2e8540", "#b8860b", "#a23b3b", "#6a4c93", "#3c6e71", "#8a5a00")
GRADE_COLOURS = {"优": "#1b7837", "良": "#5aae61", "中": "#e08214", "差": "#b2182b"}
_DARK_TEXT_FILLS = frozenset({"#5aae61", "#e08214", "#b8860b"})


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its data table (the text alternative)."""

    title: str
    svg: Markup
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _n(value: Decimal | int) -> str:
    """A coordinate: one decimal place, half-up, trailing ".0" dropped."""
    text = str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text.removesuffix(".0")


def _svg(ident: str, title: str, description: str, height: int, body: Sequence[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text is escaped


def _text(x: Decimal | int, y: Decimal | int, text: str, **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(v)}"' for name, v in attributes.items())
    return f'<text x="{_n(x)}" y="{_n(y)}"{extra}>{escape(text)}</text>'


def _rect(x: Decimal | int, y: Decimal | int, w: Decimal | int, fill: str) -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{BAR_HEIGHT}" fill="{fill}"/>'


def horizontal_bars(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, Decimal]],
    value_label: Callable[[Decimal], str],
    unit: str,
) -> Chart:
    """One bar per row, longest first as given; `value_label` prints a value beside its bar."""
    height = TOP * 2 + ROW_HEIGHT * max(len(rows), 1)
    biggest = max((value for _, value in rows), default=Decimal(0))
    room = Decimal(WIDTH - LABEL_WIDTH - 110)
    body = []
    for i, (label, value) in enumerate(rows):
        y = TOP + i * ROW_HEIGHT
        width = room * value / biggest if biggest > 0 else Decimal(0)
        body.append(_text(LABEL_WIDTH - 6, y + 14, label, text_anchor="end"))
        body.append(_rect(LABEL_WIDTH, y, width, PALETTE[0]))
        body.append(_text(LABEL_WIDTH + width + 6, y + 14, value_label(value)))
    if not rows:
        body.append(_text(LABEL_WIDTH, TOP + 14, "暂无已公开数据"))
    description = "；".join(f"{label}：{value_label(value)}" for label, value in rows) or "无数据"
    return Chart(
        title,
        _svg(ident, title, f"{description}（单位：{unit}）", height, body),
        ("类别", f"数值（{unit}）"),
        tuple((label, value_label(value)) for label, value in rows),
    )


def columns(ident: str, title: str, bins: Sequence[tuple[str, int]], axis: str) -> Chart:
    """A histogram: one column per bin, its count above it and the bin's label below."""
    height = 200
    base = Decimal(height - 40)
    biggest = max((count for _, count in bins), default=0)
    step = Decimal(WIDTH - 20) / max(len(bins), 1)
    body = [f'<line x1="10" y1="{_n(base)}" x2="{WIDTH - 10}" y2="{_n(base)}" stroke="#555"/>']
    for i, (label, count) in enumerate(bins):
        x = 10 + step * i
        bar = (base - 30) * count / biggest if biggest else Decimal(0)
        body.append(
            f'<rect x="{_n(x + 4)}" y="{_n(base - bar)}" width="{_n(step - 8)}" '
            f'height="{_n(bar)}" fill="{PALETTE[0]}"/>'
        )
        middle = x + step / 2
        body.append(_text(middle, base - bar - 6, str(count), text_anchor="middle"))
        body.append(_text(middle, base + 18, label, text_anchor="middle"))
    body.append(_text(WIDTH // 2, height - 4, axis, text_anchor="middle", class_="axis"))
    description = "；".join(f"{label}：{count}个" for label, count in bins)
    return Chart(
        title,
        _svg(ident, title, f"{axis}。{description}", height, body),
        (axis, "数量（个）"),
        tuple((label, str(count)) for label, count in bins),
    )


def stacked_bars(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    colours: dict[str, str] | None = None,
) -> Chart:
    """One bar per row split into segments (e.g. a year's grades), each a share of the row's
    total, with a legend; counts are printed in segments wide enough to hold them."""
    segments = [name for name, _ in rows[0][1]] if rows else []
    colours = colours or {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(segments)}
    legend_height = 26
    height = TOP * 2 + legend_height + ROW_HEIGHT * max(len(rows), 1)
    body = []
    for i, name in enumerate(segments):
        key_x = LABEL_WIDTH + i * 90
        body.append(
            f'<rect x="{key_x}" y="{TOP}" width="14" height="14" fill="{colours[name]}"/>'
            + _text(key_x + 20, TOP + 12, name)
        )
    room = Decimal(WIDTH - LABEL_WIDTH - 60)
    for r, (label, parts) in enumerate(rows):
        y = TOP + legend_height + r * ROW_HEIGHT
        total = sum(count for _, count in parts)
        body.append(_text(LABEL_WIDTH - 6, y + 14, label, text_anchor="end"))
        x = Decimal(LABEL_WIDTH)
        for name, count in parts:
            width = room * count / total if total else Decimal(0)
            if count:
                body.append(_rect(x, y, width, colours[name]))
                if width >= 22:
                    fill = "#111" if colours[name] in _DARK_TEXT_FILLS else "#fff"
                    body.append(
                        _text(x + width / 2, y + 14, str(count), text_anchor="middle", fill=fill)
                    )
            x += width
        body.append(_text(x + 6, y + 14, f"共{total}"))
    if not rows:
        body.append(_text(LABEL_WIDTH, TOP + legend_height + 14, "暂无已公开数据"))
    description = "；".join(
        f"{label}：" + "，".join(f"{name}{count}个" for name, count in parts)
        for label, parts in rows
    )
    return Chart(
        title,
        _svg(ident, title, description or "无数据", height, body),
        ("", *segments, "合计"),
        tuple(
            (label, *(str(count) for _, count in parts), str(sum(c for _, c in parts)))
            for label, parts in rows
        ),
    )
