"""Outcome charts drawn on the server as small, hand-written SVG: no library, no
script, nothing fetched. Each chart is a line over the time points (the baseline
first) with its values written beside the dots, so it reads in black and white and
in print; the page shows the same numbers as a table, which is the text
alternative (the SVG carries a ``<title>`` and ``<desc>`` naming it).

Written by hand rather than with pygal: two line charts need about sixty lines, and
every label passes through Django's ``escape`` (the labels are admin data)."""

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 40, 40, 34, 36


def _number(value: int | Decimal) -> str:
    """42, 37.5: no trailing ".0"."""
    return f"{value:.1f}".removesuffix(".0")


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[int | Decimal | None],
    maximum: int,
    chart_id: str,
    better: str,
) -> SafeString:
    """``values`` on a 0..``maximum`` axis; a missing value leaves a gap."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step if len(labels) > 1 else LEFT + plot_w / 2

    def y(v: int | Decimal) -> float:
        return TOP + plot_h - float(v) / maximum * plot_h

    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{}-title {}-desc" class="outcome-chart" '
            'style="max-width:100%;height:auto">',
            WIDTH,
            HEIGHT,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html(
            '<desc id="{}-desc">{}</desc>',
            chart_id,
            gettext("%(title)s (%(better)s). The table below gives the same numbers.")
            % {"title": title, "better": better},
        ),
    ]
    parts.append(
        format_html(
            '<text x="{}" y="14" font-size="12" font-weight="bold" fill="#000">{}</text>'
            '<text x="{}" y="14" font-size="10" text-anchor="end" fill="#333">{}</text>',
            4,
            title,
            WIDTH - 4,
            better,
        )
    )
    for tick in (0, maximum // 2, maximum):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ccc" stroke-width="1"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#333">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                round(y(tick), 1),
                round(y(tick), 1),
                LEFT - 4,
                round(y(tick) + 3, 1),
                tick,
            )
        )
    segment: list[str] = []
    segments: list[list[str]] = [segment]
    for i, value in enumerate(values):
        if value is None:
            segment = []
            segments.append(segment)
            continue
        segment.append(f"{x(i):.1f},{y(value):.1f}")
        parts.append(
            format_html(
                '<circle cx="{}" cy="{}" r="4" fill="#0d6efd"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#000">{}</text>',
                round(x(i), 1),
                round(y(value), 1),
                round(x(i) + 8, 1),
                round(y(value) - 7, 1),
                _number(value),
            )
        )
    for points in segments:
        if len(points) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="#0d6efd" stroke-width="2"/>',
                    " ".join(points),
                )
            )
    for i, label in enumerate(labels):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#333">{}</text>',
                round(x(i), 1),
                HEIGHT - BOTTOM + 16,
                label,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(escape(p) if not isinstance(p, SafeString) else p for p in parts))  # noqa: S308
