"""Server-rendered SVG charts (no JavaScript), so a page and a PDF show the same picture.

Pure functions: points in, an SVG string out. Every piece of text is escaped; each chart has a
<title> and <desc> for screen readers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


def _scale(values: list[float], lo: float, hi: float, out_lo: float, out_hi: float) -> list[float]:
    span = (hi - lo) or 1.0
    return [out_lo + (v - lo) / span * (out_hi - out_lo) for v in values]


def _empty(title: str, message: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" role="img" class="itb-chart">'
        f"<title>{escape(title)}</title><desc>{escape(message)}</desc>"
        f'<text x="8" y="34" font-size="14" fill="#333">{escape(message)}</text></svg>'
    )


def _frame(title: str, desc: str) -> list[str]:
    base = HEIGHT - BOTTOM
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'role="img" class="itb-chart">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#555"/>',
    ]


def _y_labels(values: list[float], lo: float, hi: float, unit: str) -> list[str]:
    parts = [f'<text x="4" y="{TOP + 4}" font-size="11" fill="#333">{escape(unit)}</text>']
    for value in sorted(set(values)):
        (y,) = _scale([value], lo, hi, HEIGHT - BOTTOM, TOP)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#333">'
            f"{escape(f'{value:g}')}</text>"
        )
    return parts


def _x_labels(px: list[float], points: list) -> list[str]:
    ends = (
        [(px[0], points[0], "start"), (px[-1], points[-1], "end")]
        if len(px) > 1
        else [(px[0], points[0], "middle")]
    )
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" font-size="11" text-anchor="{anchor}" fill="#333">'
        f"{escape(f'{p[0]:%b %Y}')}</text>"
        for x, p, anchor in ends
    ]


def _line(px: list[float], py: list[float], points: list, unit: str, step: bool) -> list[str]:
    coords = []
    for i, (x, y) in enumerate(zip(px, py, strict=True)):
        if step and i:
            coords.append(f"{x:.1f},{py[i - 1]:.1f}")
        coords.append(f"{x:.1f},{y:.1f}")
    parts = [f'<polyline fill="none" stroke="#0b3d91" stroke-width="2" points="{" ".join(coords)}"/>']
    for x, y, p in zip(px, py, points, strict=True):
        label = escape(f"{p[0]:%d %b %Y}: {p[1]} {unit}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#0b3d91"><title>{label}</title></circle>'
        )
    return parts


def line_chart_svg(
    points: list[tuple[datetime, Decimal]],
    *,
    title: str,
    unit: str,
    band: tuple[float, float] | None = None,
    step: bool = False,
) -> str:
    """A line chart of (when, value); `band` shades a safe range; `step` draws a staircase."""
    points = sorted(points, key=lambda p: p[0])
    if not points:
        return _empty(title, "No data yet.")
    xs = [p[0].timestamp() for p in points]
    ys = [float(p[1]) for p in points]
    lo, hi = min(ys + ([band[0]] if band else [])), max(ys + ([band[1]] if band else []))
    pad = (hi - lo) * 0.1 or max(abs(hi) * 0.1, 1.0)
    px = _scale(xs, min(xs), max(xs), LEFT, WIDTH - RIGHT) if len(xs) > 1 else [(LEFT + WIDTH - RIGHT) / 2]
    py = _scale(ys, lo - pad, hi + pad, HEIGHT - BOTTOM, TOP)
    desc = "; ".join(f"{p[0]:%d %b %Y}: {p[1]} {unit}" for p in points)
    parts = _frame(title, desc)
    if band:
        top, bottom = _scale([band[1], band[0]], lo - pad, hi + pad, HEIGHT - BOTTOM, TOP)
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{WIDTH - RIGHT - LEFT}" height="{bottom - top:.1f}" '
            'fill="#d1e7dd" opacity="0.6"/>'
        )
    parts += _y_labels([lo, hi], lo - pad, hi + pad, unit)
    parts += _line(px, py, points, unit, step)
    parts += _x_labels(px, points)
    parts.append("</svg>")
    return "".join(parts)


def dose_chart_svg(points: list[tuple[datetime, Decimal]], *, title: str = "Daily dose over time") -> str:
    """Daily dose (mcg/day) at each program change, drawn as steps."""
    return line_chart_svg(points, title=title, unit="mcg/day", step=True)


def residual_chart_svg(
    points: list[tuple[datetime, Decimal]], *, title: str = "Residual volume: actual minus expected"
) -> str:
    """Actual − expected residual (mL) per visit; the shaded band is the ±2 mL tolerance."""
    return line_chart_svg(points, title=title, unit="mL", band=(-2.0, 2.0))
