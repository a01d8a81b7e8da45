"""Charts as inline SVG drawn on the server: nothing loaded from the internet, no script, and a
printer or a screenshot sees exactly what the browser shows.

Colours are paired with text (every bar carries its number, every series is named in a legend)
so a chart still reads in black and white.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe pairs (Okabe-Ito), dark enough to print.
GREEN = "#009e73"
BLUE = "#0072b2"
RED = "#d55e00"
GREY = "#7f7f7f"
FONT = "font-family:Arial,Helvetica,sans-serif"


@dataclass(frozen=True)
class Segment:
    label: str
    colour: str


def _legend(segments: Sequence[Segment], x: int, y: int) -> SafeString:
    parts = []
    for segment in segments:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                '<text x="{}" y="{}" font-size="12">{}</text>',
                x,
                y,
                segment.colour,
                x + 16,
                y + 11,
                segment.label,
            )
        )
        x += 28 + 7 * len(segment.label)
    return mark_safe("".join(parts))  # noqa: S308 - every part went through format_html


def _number(value: Decimal | float, places: int = 4) -> str:
    """A value as the tables beside the chart write it: the language's decimal separator
    (0,8241 in Vietnamese, 0.8241 in English)."""
    return number_format(value, decimal_pos=places)


# Tick steps a reader can count in: the axis reads 0 / 0,2 / 0,4 …, never 0,12 / 0,25 / 0,38.
_TICK_STEPS = (0.05, 0.1, 0.2, 0.25)


def _value_axis(high: float) -> tuple[float, float, int]:
    """(ceiling, step, decimals) for values 0..1 whose largest is ``high``: at most five steps
    of a round size, and room above the highest point for its label."""
    for step in _TICK_STEPS:
        count = math.floor(high / step + 1e-9) + 1
        if count <= 5:
            return min(1.0, count * step), step, 1 if step in (0.1, 0.2) else 2
    return 1.0, 0.2, 1


def _shorten(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[int]]],
    segments: Sequence[Segment],
    *,
    title: str,
    width: int = 760,
) -> SafeString:
    """Horizontal bars, one per row, split into ``segments`` (counts), with each count written
    on its part and the row's total at its end."""
    label_width, bar_height, gap, top = 250, 22, 10, 40
    plot = width - label_width - 50
    biggest = max((sum(values) for _, values in rows), default=0) or 1
    height = top + len(rows) * (bar_height + gap) + 10
    body = []
    for index, (label, values) in enumerate(rows):
        y = top + index * (bar_height + gap)
        body.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>',
                label_width - 8,
                y + 15,
                _shorten(label),
            )
        )
        x = float(label_width)
        for value, segment in zip(values, segments, strict=True):
            if not value:
                continue
            w = plot * value / biggest
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title>'
                    "</rect>",
                    f"{x:.1f}",
                    y,
                    f"{w:.1f}",
                    bar_height,
                    segment.colour,
                    segment.label,
                    value,
                )
            )
            # One segment: the total at the bar's end already says it.
            if w >= 18 and len(segments) > 1:
                body.append(
                    format_html(
                        '<text x="{}" y="{}" font-size="11" fill="#fff" text-anchor="middle">'
                        "{}</text>",
                        f"{x + w / 2:.1f}",
                        y + 15,
                        value,
                    )
                )
            x += w
        body.append(
            format_html(
                '<text x="{}" y="{}" font-size="12">{}</text>', f"{x + 6:.1f}", y + 15, sum(values)
            )
        )
    return _svg(title, width, height, _legend(segments, label_width, 20), body)


def paired_bars(
    rows: Sequence[tuple[str, Decimal | None, Decimal | None]],
    series: tuple[Segment, Segment],
    *,
    title: str,
    width: int = 760,
) -> SafeString:
    """Two bars per row (e.g. the province's value and the provinces' mean), values 0 to 1."""
    label_width, bar_height, top = 250, 11, 40
    plot = width - label_width - 60
    height = top + len(rows) * (2 * bar_height + 10) + 10
    body = []
    for index, (label, first, second) in enumerate(rows):
        y = top + index * (2 * bar_height + 10)
        body.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>',
                label_width - 8,
                y + 15,
                _shorten(label),
            )
        )
        for offset, (value, segment) in enumerate(zip((first, second), series, strict=True)):
            if value is None:
                continue
            w = plot * float(value)
            yy = y + offset * bar_height
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title>'
                    '</rect><text x="{}" y="{}" font-size="10">{}</text>',
                    label_width,
                    yy,
                    f"{w:.1f}",
                    bar_height - 1,
                    segment.colour,
                    segment.label,
                    _number(value),
                    f"{label_width + w + 4:.1f}",
                    yy + 9,
                    _number(value),
                )
            )
    return _svg(title, width, height, _legend(series, label_width, 20), body)


def lines(
    labels: Sequence[str],
    series: Sequence[tuple[Segment, Sequence[Decimal | None]]],
    *,
    title: str,
    notes: Sequence[str] = (),
    width: int = 760,
    height: int = 260,
) -> SafeString:
    """A line per series over ``labels`` (years), values 0 to 1, each point labelled; ``notes``
    are written under each label (e.g. the rank)."""
    # Margins wide enough for a centred note ("xếp hạng 12/34") under the first and last year.
    left, right, top, bottom = 60, 60, 45, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    ceiling, tick_step, tick_places = _value_axis(float(max(values, default=Decimal(1))))
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0

    def at(index: int, value: Decimal) -> tuple[float, float]:
        x = left + (index * step if len(labels) > 1 else plot_w / 2)
        return x, top + plot_h * (1 - float(value) / ceiling)

    body = []
    for tick in range(round(ceiling / tick_step) + 1):
        value = tick * tick_step
        y = top + plot_h * (1 - value / ceiling)
        body.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>',
                left,
                f"{y:.1f}",
                width - right,
                f"{y:.1f}",
                left - 4,
                f"{y + 3:.1f}",
                _number(value, tick_places),
            )
        )
    for index, label in enumerate(labels):
        x, _y = at(index, Decimal(0))
        body.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>',
                f"{x:.1f}",
                top + plot_h + 16,
                label,
            )
        )
        if index < len(notes) and notes[index]:
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" fill="#444" text-anchor="middle">{}</text>',
                    f"{x:.1f}",
                    top + plot_h + 32,
                    notes[index],
                )
            )
    # Where two series meet at a year their labels would overprint: the higher point's label
    # goes above it, the others' below theirs.
    highest = {
        index: max(v for _, vs in series if index < len(vs) and (v := vs[index]) is not None)
        for index in range(len(labels))
        if any(index < len(vs) and vs[index] is not None for _, vs in series)
    }
    for segment, points_ in series:
        coords = [(i, v) for i, v in enumerate(points_) if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(i, v) for i, v in coords))
            body.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"/>',
                    path,
                    segment.colour,
                )
            )
        for i, v in coords:
            x, y = at(i, v)
            above = v == highest[i] and segment is _first_at(series, i, v)
            body.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="4" fill="{}"/>'
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    segment.colour,
                    f"{x:.1f}",
                    f"{y - 8:.1f}" if above else f"{y + 16:.1f}",
                    _number(v),
                )
            )
    return _svg(title, width, height, _legend([s for s, _ in series], left, 22), body)


def _first_at(
    series: Sequence[tuple[Segment, Sequence[Decimal | None]]], index: int, value: Decimal
) -> Segment:
    """The first series holding ``value`` at ``index``: of equal points, one label goes above."""
    return next(s for s, vs in series if index < len(vs) and vs[index] == value)


def legend_items(segments: Sequence[Segment]) -> SafeString:
    """The legend as HTML, for tables that use the same colours."""
    return format_html_join(
        " ",
        '<span class="swatch" style="background:{}"></span> {}',
        ((s.colour, s.label) for s in segments),
    )


def _svg(title: str, width: int, height: int, legend: str, body: list[str]) -> str:
    """The chart's frame: size, title, legend, then its marks (each built with format_html)."""
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" '
        'viewBox="0 0 {} {}" width="{}" height="{}" style="{}">'
        '<text x="0" y="14" font-size="14" font-weight="bold">{}</text>{}{}</svg>',
        title,
        width,
        height,
        width,
        height,
        FONT,
        title,
        legend,
        mark_safe("".join(body)),  # noqa: S308 - every part went through format_html
    )
