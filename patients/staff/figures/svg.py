"""The figures page's month charts: one bar per complete month, both axes labelled (no JavaScript;
every piece of text escaped; a <title> and <desc> for screen readers).

The current month is not drawn: a month that has run six days is not comparable with a whole one
(a rate per pump-month jumps, a count looks low). The page's table shows it, marked "so far".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 56
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month(start: date) -> str:
    return f"{_MONTHS[start.month - 1]} {start.year}"


def _nice_top(value: float) -> float:
    """A round top for the y axis: 1, 2, 5 times a power of ten, at least the value."""
    if value <= 0:
        return 1.0
    power = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:g}"


def month_bars_svg(points: list[tuple[date, Decimal | int | None]], *, title: str, y_label: str) -> str:
    """One bar per month (`points`: first day of the month, value or None for no data), the
    y axis labelled with `y_label` and 0 / half / top ticks, the x axis with each month."""
    shown = [(start, value) for start, value in points if value is not None]
    desc = "; ".join(f"{_month(start)}: {_number(float(value))} {y_label}" for start, value in shown)
    if not shown:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" role="img" class="itb-chart">'
            f"<title>{escape(title)}</title><desc>No data yet.</desc>"
            '<text x="8" y="34" font-size="14" fill="#333">No data yet.</text></svg>'
        )
    values = [float(value) for _, value in shown]
    low = min(min(values), 0.0)
    top = _nice_top(max(values))
    base = HEIGHT - BOTTOM
    span = (top - low) or 1.0

    def y(value: float) -> float:
        return base - (value - low) / span * (base - TOP)

    slot = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'class="itb-chart">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    for tick in sorted({low, 0.0, top / 2, top}):
        parts.append(
            f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{WIDTH - RIGHT}" y2="{y(tick):.1f}" stroke="#ccc"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" fill="#333">'
            f"{escape(_number(tick))}</text>"
        )
    for i, (start, value) in enumerate(points):
        x = LEFT + i * slot
        label = _MONTHS[start.month - 1] + (f" {start:%y}" if start.month == 1 or i == 0 else "")
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{base + 16}" font-size="11" text-anchor="middle" fill="#333">'
            f"{escape(label)}</text>"
        )
        if value is None:
            continue
        v = float(value)
        y0, y1 = sorted((y(0.0), y(v)))
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y0:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(y1 - y0, 1):.1f}" '
            f'fill="#0b3d91"><title>{escape(f"{_month(start)}: {_number(v)} {y_label}")}</title></rect>'
        )
    parts += [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#555"/>',
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 8}" font-size="12" text-anchor="middle" '
        f'fill="#333">Month (complete months only)</text>',
        f'<text transform="translate(14 {(TOP + base) / 2:.1f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="#333">{escape(y_label)}</text>',
        "</svg>",
    ]
    return "".join(parts)
