"""Small inline-SVG charts for the HTML report: no JavaScript, no external files."""

import math
from html import escape

WIDTH, HEIGHT = 860, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 16, 40  # margins; the legend lives in the right margin


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2g}" if abs(value) < 1 else f"{value:,.1f}"


class Frame:
    """Maps data to pixels and draws the axes of one chart."""

    def __init__(self, x_range, y_range, x_label: str, y_label: str, log_x: bool = False):
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1
        if self.y1 <= self.y0:
            self.y1 = self.y0 + 1
        self.x_label, self.y_label, self.log_x = x_label, y_label, log_x
        self.w = WIDTH - LEFT - RIGHT
        self.h = HEIGHT - TOP - BOTTOM

    def x(self, value: float) -> float:
        if self.log_x:
            lo, hi = math.log10(self.x0), math.log10(self.x1)
            return LEFT + (math.log10(max(value, self.x0)) - lo) / (hi - lo) * self.w
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * self.w

    def y(self, value: float) -> float:
        return TOP + self.h - (value - self.y0) / (self.y1 - self.y0) * self.h

    def axes(self, x_ticks=None) -> list[str]:
        out = []
        for tick in nice_ticks(self.y0, self.y1):
            y = self.y(tick)
            out.append(f'<line x1="{LEFT}" x2="{LEFT + self.w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(tick)}</text>')
        if x_ticks is None:
            x_ticks = [(t, fmt(t)) for t in nice_ticks(self.x0, self.x1, 8)]
        for tick, label in x_ticks:
            x = self.x(tick)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + self.h}" y2="{TOP + self.h + 4}" class="axis"/>')
            out.append(f'<text x="{x:.1f}" y="{TOP + self.h + 16}" text-anchor="middle">{escape(label)}</text>')
        out.append(f'<line x1="{LEFT}" x2="{LEFT + self.w}" y1="{TOP + self.h}" y2="{TOP + self.h}" class="axis"/>')
        out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + self.h}" class="axis"/>')
        out.append(
            f'<text x="{LEFT + self.w / 2}" y="{HEIGHT - 6}" text-anchor="middle" class="label">'
            f"{escape(self.x_label)}</text>"
        )
        out.append(
            f'<text x="14" y="{TOP + self.h / 2}" text-anchor="middle" class="label" '
            f'transform="rotate(-90 14 {TOP + self.h / 2})">{escape(self.y_label)}</text>'
        )
        return out

    def marker(self, x_value: float, label: str) -> list[str]:
        x = self.x(x_value)
        right = x > LEFT + self.w * 0.85  # label on the left of the line, clear of the legend
        return [
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + self.h}" class="marker"/>',
            f'<text x="{x - 3 if right else x + 3:.1f}" y="{TOP + 10}" class="marker-label" '
            f'text-anchor="{"end" if right else "start"}">{escape(label)}</text>',
        ]


def legend(items: list[tuple[str, str]]) -> list[str]:
    out = []
    for i, (name, color) in enumerate(items):
        y = TOP + 6 + i * 18
        x = WIDTH - RIGHT + 14
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{x + 18}" y="{y + 10}">{escape(name)}</text>')
    return out


def svg(parts: list[str], title: str) -> str:
    body = "\n".join(parts)
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>\n{body}\n</svg>'
    )


def stacked_bars(starts, step, stacks, colors, title, x_label, y_label, scale=1.0, markers=()) -> str:
    """One bar per bucket, ``stacks`` (name -> values) stacked bottom-up; values multiplied by ``scale``."""
    if not starts:
        return "<p>no data</p>"
    totals = [sum(values[i] for values in stacks.values()) * scale for i in range(len(starts))]
    frame = Frame((starts[0], starts[-1] + step), (0, max(totals, default=1) * 1.05 or 1), x_label, y_label)
    parts = frame.axes()
    width = max(0.5, frame.x(starts[0] + step) - frame.x(starts[0]) - 0.5)
    for i, start in enumerate(starts):
        base = 0.0
        for name, values in stacks.items():
            value = values[i] * scale
            if value <= 0:
                continue
            y_top, y_base = frame.y(base + value), frame.y(base)
            parts.append(
                f'<rect x="{frame.x(start):.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{max(0.3, y_base - y_top):.1f}" fill="{colors[name]}"><title>{escape(name)} '
                f"{fmt(value)} at {start:.2f} s</title></rect>"
            )
            base += value
    for at, label in markers:
        parts += frame.marker(at, label)
    parts += legend([(name, colors[name]) for name in stacks])
    return svg(parts, title)


def lines(series, title, x_label, y_label, markers=(), y_min=0.0, step_lines=False) -> str:
    """``series``: (name, color, [(x, y), ...]); y values of None break the line."""
    xs = [x for _, _, pts in series for x, y in pts if y is not None]
    ys = [y for _, _, pts in series for _, y in pts if y is not None]
    if not xs:
        return "<p>no data</p>"
    frame = Frame(
        (min(xs + [m for m, _ in markers]), max(xs + [m for m, _ in markers])),
        (y_min, max(ys) * 1.05),
        x_label,
        y_label,
    )
    parts = frame.axes()
    for name, color, points in series:
        path, pen_up = [], True
        previous_y = None
        for x, y in points:
            if y is None:
                pen_up = True
                continue
            if step_lines and not pen_up and previous_y is not None:
                path.append(f"L{frame.x(x):.1f},{frame.y(previous_y):.1f}")
            path.append(f"{'M' if pen_up else 'L'}{frame.x(x):.1f},{frame.y(y):.1f}")
            pen_up, previous_y = False, y
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="1.8">'
            f"<title>{escape(name)}</title></path>"
        )
    for at, label in markers:
        parts += frame.marker(at, label)
    parts += legend([(name, color) for name, color, _ in series])
    return svg(parts, title)


def histogram(bins, title, x_label, markers=(), color="#4477aa") -> str:
    """``bins``: (low, high, count) on a log scale of seconds; shown in milliseconds."""
    if not bins:
        return "<p>no data</p>"
    frame = Frame(
        (bins[0][0] * 1000, bins[-1][1] * 1000), (0, max(c for *_, c in bins) * 1.05), x_label, "requests", log_x=True
    )
    decades = range(math.floor(math.log10(frame.x0)), math.ceil(math.log10(frame.x1)) + 1)
    ticks = [(10.0**d, fmt(10.0**d)) for d in decades if frame.x0 <= 10.0**d <= frame.x1]
    parts = frame.axes(ticks)
    for low, high, count in bins:
        x0, x1 = frame.x(low * 1000), frame.x(high * 1000)
        y = frame.y(count)
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(0.5, x1 - x0 - 1):.1f}" height="{frame.y(0) - y:.1f}" '
            f'fill="{color}"><title>{low * 1000:.2f} to {high * 1000:.2f} ms: {count}</title></rect>'
        )
    for at, label in markers:
        parts += frame.marker(at * 1000, label)
    return svg(parts, title)
