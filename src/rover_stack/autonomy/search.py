"""Coverage patterns for finding a target near an approximate location (pure, map frame, metres).

Both patterns start at the centre and grow outward until they reach ``radius`` m; neighbouring
sweeps are ``spacing`` m apart, which ``sweep_spacing`` derives from the detection range so that
every point of the disk lies within the detection range of the path.
"""
from __future__ import annotations

import itertools
import math

Point = tuple[float, float]


def sweep_spacing(detection_range: float, overlap: float = 0.8) -> float:
    """Distance between neighbouring sweeps (m): 2 x detection range x overlap (< 1 leaves margin)."""
    if not (detection_range > 0 and 0 < overlap <= 1):
        raise ValueError(f'need detection_range > 0 and overlap in (0, 1], got {detection_range}, {overlap}')
    return 2.0 * detection_range * overlap


def spiral(center: Point, radius: float, spacing: float, step: float | None = None,
           start_angle: float = 0.0) -> list[Point]:
    """Archimedean spiral r = spacing * theta / (2 pi) from ``center`` out to ``radius`` (m).

    Waypoints are at most ``step`` m apart along the arc (default spacing / 2, so the straight
    chords between them stay close to the spiral). The spiral ends spacing / 2 beyond ``radius``, so
    its last full turn still sweeps the rim of the disk.
    """
    _check(radius, spacing)
    step = spacing / 2.0 if step is None else step
    if step <= 0:
        raise ValueError(f'step must be > 0, got {step}')
    b = spacing / (2.0 * math.pi)
    theta_end = (radius + spacing / 2.0) / b
    points, theta = [], 0.0
    while True:
        r = b * theta
        angle = theta + start_angle
        points.append((center[0] + r * math.cos(angle), center[1] + r * math.sin(angle)))
        if theta >= theta_end:
            return points
        # arc length element ds = sqrt(r^2 + b^2) dtheta
        # arc length <= hypot(r_max, b) dtheta; r grows by at most `step` over the increment
        theta = min(theta_end, theta + step / math.hypot(r + step, b))


def expanding_square(center: Point, radius: float, spacing: float) -> list[Point]:
    """Corners of an expanding square search (legs 1, 1, 2, 2, 3, 3, ... x spacing) out to ``radius``."""
    _check(radius, spacing)
    x, y = center
    points = [(x, y)]
    directions = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))
    leg, turn = 1, 0
    while True:
        for _ in range(2):
            dx, dy = directions[turn % 4]
            x, y = x + dx * leg * spacing, y + dy * leg * spacing
            points.append((x, y))
            turn += 1
        if leg * spacing / 2.0 >= radius + spacing / 2.0:   # the square's inner circle contains the disk
            return points
        leg += 1


def pattern(kind: str, center: Point, radius: float, detection_range: float, *, overlap: float = 0.8,
            start_angle: float = 0.0) -> list[Point]:
    """The named pattern ('spiral' or 'square') sized to the detection range."""
    spacing = sweep_spacing(detection_range, overlap)
    if kind == 'spiral':
        return spiral(center, radius, spacing, start_angle=start_angle)
    if kind == 'square':
        return expanding_square(center, radius, spacing)
    raise ValueError(f'unknown search pattern {kind!r}; use spiral or square')


def _check(radius: float, spacing: float) -> None:
    if not (math.isfinite(radius) and radius > 0 and math.isfinite(spacing) and spacing > 0):
        raise ValueError(f'need finite radius > 0 and spacing > 0, got {radius}, {spacing}')


def distance_to_path(point: Point, path: list[Point]) -> float:
    """Shortest distance (m) from ``point`` to the polyline ``path``."""
    if len(path) == 1:
        return math.dist(point, path[0])
    best = math.inf
    px, py = point
    for (ax, ay), (bx, by) in itertools.pairwise(path):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
        best = min(best, math.hypot(px - ax - t * dx, py - ay - t * dy))
    return best
