"""Charts as inline SVG, so the report is one self-contained file (no script, no network).

Every label is escaped here: the returned markup is safe to embed as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from html import escape

PALETTE = ("#2f6db5", "#e07b39", "#3a9b5c", "#c43d4b", "#7c5cbf", "#8c6d31", "#d45fa6", "#5f7a8a", "#b5a22f", "#2fa8b5")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-12:
            return step * power
    return 10 * power


def format_number(value: float) -> str:
    """Thousands separated; up to two decimals, only when the value needs them."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def axis_scale(maximum: float, counts: bool = True) -> tuple[float, int]:
    """The top of an axis and its number of intervals; counts get whole-number ticks."""
    top = nice_ceiling(maximum)
    if counts and top < 5:
        return 5.0, 5
    lead = top / 10 ** math.floor(math.log10(top))
    return top, 4 if lead == 2 else 5


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _legend(names: Sequence[str], x: int, y: int, first_colour: int = 0) -> list[str]:
    parts, offset = [], 0
    for index, name in enumerate(names, start=first_colour):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x + offset}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + offset + 14}" y="{y}">{escape(name)}</text>')
        offset += 24 + 7 * len(name)
    return parts


def _y_grid(left: float, right: float, top: float, height: float, scale: float, steps: int) -> list[str]:
    """Horizontal grid lines with their values, from 0 at the bottom to ``scale`` at the top."""
    parts = []
    for tick in range(steps + 1):
        y = top + height * (1 - tick / steps)
        value = format_number(scale * tick / steps)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{value}</text>')
    return parts


def empty_chart(title: str, message: str = "No data yet.") -> str:
    """A placeholder with the chart's title, for figures without any row."""
    return _svg(640, 60, title, [f'<text x="10" y="35" fill="#666">{escape(message)}</text>'])


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], label_width: int = 200) -> str:
    """Horizontal bars, one row per label; several series are stacked in the order given."""
    if not labels:
        return empty_chart(title)
    width, row, top = 760, 22, 30 if len(series) > 1 else 10
    plot = width - label_width - 70
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    scale, steps = axis_scale(max(totals), counts=all(float(t).is_integer() for t in totals))
    height = top + row * len(labels) + 30
    body: list[str] = []
    if len(series) > 1:
        body += _legend(list(series), label_width, 16)
    for tick in range(steps + 1):
        x = label_width + plot * tick / steps
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}" stroke="#ddd"/>')
        text = format_number(scale * tick / steps)
        body.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{text}</text>')
    for i, label in enumerate(labels):
        y = top + i * row
        body.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(_shorten(label, label_width))}</text>'
        )
        x = float(label_width)
        for index, (name, values) in enumerate(series.items()):
            length = plot * values[i] / scale
            if length > 0:
                colour = PALETTE[index % len(PALETTE)]
                tip = f"{label} · {name}: {format_number(values[i])}"
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{colour}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
                x += length
        body.append(f'<text x="{x + 4:.1f}" y="{y + 15}" fill="#333">{format_number(totals[i])}</text>')
    return _svg(width, height, title, body)


def column_chart(title: str, labels: Sequence[str], values: Sequence[float], x_label: str = "") -> str:
    """Vertical columns (a histogram when the labels are bins)."""
    if not labels or not any(values):
        return empty_chart(title)
    width, height, left, bottom, top = 760, 260, 60, 50, 15
    plot_w, plot_h = width - left - 20, height - top - bottom
    scale, steps = axis_scale(max(values), counts=all(float(v).is_integer() for v in values))
    step = plot_w / len(labels)
    body: list[str] = _y_grid(left, width - 20, top, plot_h, scale, steps)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / scale
        x = left + i * step
        body.append(
            f'<rect x="{x + 2:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 4, 1):.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {format_number(value)}</title></rect>'
        )
        body.append(
            f'<text x="{x + step / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#555">'
            f"{escape(label)}</text>"
        )
    if x_label:
        body.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>')
    return _svg(width, height, title, body)


def line_chart(title: str, series: dict[str, Sequence[tuple[date, float]]]) -> str:
    """One line per series over dates (a single point shows as a dot)."""
    points = [point for values in series.values() for point in values]
    if not points:
        return empty_chart(title)
    width, left, right, top, bottom = 760, 60, 20, 30, 40
    legend_rows = math.ceil(len(series) / 4)
    height = 260 + 16 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom - 16 * legend_rows
    first, last = min(p[0] for p in points), max(p[0] for p in points)
    span = max((last - first).days, 1)
    scale, steps = axis_scale(max(p[1] for p in points), counts=all(float(p[1]).is_integer() for p in points))

    def position(day: date, value: float) -> tuple[float, float]:
        x = left + plot_w * ((day - first).days / span if last != first else 0.5)
        return x, top + plot_h * (1 - value / scale)

    body: list[str] = _y_grid(left, width - right, top, plot_h, scale, steps)
    for day, anchor in ((first, "start"), (last, "end")) if last != first else ((first, "middle"),):
        x, _ = position(day, 0)
        body.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}" fill="#555">{day.isoformat()}</text>'
        )
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        coordinates = [position(day, value) for day, value in sorted(values)]
        if len(coordinates) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), (day, value) in zip(coordinates, sorted(values), strict=True):
            tip = f"{name} {day.isoformat()}: {format_number(value)}"
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(tip)}</title></circle>'
            )
    names = list(series)
    for row in range(legend_rows):
        body += _legend(names[row * 4 : row * 4 + 4], left, height - 8 - 16 * (legend_rows - 1 - row), row * 4)
    return _svg(width, height, title, body)


def _shorten(label: str, width: int) -> str:
    limit = max(width // 7, 8)
    return label if len(label) <= limit else label[: limit - 1] + "…"
