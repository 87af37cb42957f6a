"""Regulated pure pursuit for a skid-steer rover: path (m, planning frame) + pose -> (v m/s, w rad/s).

* The lookahead distance is ``lookahead_time`` x speed, clamped to [min_lookahead, max_lookahead].
* The speed is regulated down on tight curvature (radius below ``regulated_min_radius``), near obstacles
  (cost under the rover and at the lookahead point, from a ``cost_at(x, y)`` callable) and near the end
  of the path (``approach_distance``), never below ``min_speed`` while moving.
* When the lookahead point is more than ``rotate_threshold`` off the heading the rover turns in place
  (skid steer can) instead of driving an arc.
Outputs are always finite and within the limits.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PROJECTION_WINDOW = 5.0
"""m of path ahead of the current segment searched for the rover's projection (no skipping loops)."""


@dataclass(frozen=True)
class FollowerConfig:
    max_speed: float = 1.0              # m/s
    min_speed: float = 0.1              # m/s, floor while driving (so regulation cannot stall the rover)
    max_angular: float = 1.0            # rad/s
    lookahead_time: float = 1.5         # s
    min_lookahead: float = 0.6          # m
    max_lookahead: float = 2.0          # m
    regulated_min_radius: float = 1.0   # m, slow down on tighter turns
    approach_distance: float = 1.5      # m, slow down this close to the end of the path
    cost_slowdown: float = 0.6          # speed factor is 1 - cost_slowdown * cost (cost 0..1)
    rotate_threshold: float = 0.8       # rad, rotate in place above this heading error
    rotate_gain: float = 2.0            # rad/s per rad of heading error when rotating in place

    def __post_init__(self):
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f'{name} must be finite and >= 0, got {value}')
        if self.min_lookahead <= 0.0 or self.max_lookahead < self.min_lookahead:
            raise ValueError('need 0 < min_lookahead <= max_lookahead')
        if self.min_speed > self.max_speed:
            raise ValueError('min_speed must not exceed max_speed')




@dataclass
class Command:
    v: float            # m/s, forward
    w: float            # rad/s, CCW
    rotating: bool      # turning in place towards the path
    lookahead: tuple[float, float]   # the point pursued (m)


class PurePursuit:
    """Follows one path; ``set_path`` for a new one, ``step`` each control cycle."""

    def __init__(self, config: FollowerConfig = FollowerConfig()):
        self.config = config
        self.path = np.zeros((0, 2))
        self._seg_start = np.zeros(0)   # cumulative arc length at each vertex
        self.progress_index = 0        # segment the rover is on; never decreases for one path

    def set_path(self, points: np.ndarray) -> None:
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        if not np.all(np.isfinite(points)):
            raise ValueError('path has non-finite points')
        self.path = points
        lengths = np.hypot(*np.diff(points, axis=0).T) if len(points) > 1 else np.zeros(0)
        self._seg_start = np.concatenate([[0.0], np.cumsum(lengths)])
        self.progress_index = 0

    def remaining_path(self) -> np.ndarray:
        """The path from the current segment on (for the blocked-path check)."""
        return self.path[self.progress_index:]

    def _project(self, x: float, y: float) -> float:
        """Arc length (m) of the closest path point, searching forward from the current segment."""
        p = np.array([x, y])
        horizon = self._seg_start[self.progress_index] + PROJECTION_WINDOW
        end = max(self.progress_index + 1, int(np.searchsorted(self._seg_start, horizon, side='right')))
        end = min(end, len(self.path) - 1)
        a = self.path[self.progress_index:end]
        b = self.path[self.progress_index + 1:end + 1]
        d = b - a
        length2 = np.einsum('ij,ij->i', d, d)
        t = np.clip(np.einsum('ij,ij->i', p - a, d) / np.maximum(length2, 1e-12), 0.0, 1.0)
        closest = a + t[:, None] * d
        distance = np.hypot(*(closest - p).T)
        k = int(np.argmin(distance))
        self.progress_index += k
        return float(self._seg_start[self.progress_index] + t[k] * math.sqrt(length2[k]))

    def _point_at(self, s: float) -> tuple[float, float]:
        total = self._seg_start[-1]
        if s >= total:
            return float(self.path[-1, 0]), float(self.path[-1, 1])
        i = int(np.searchsorted(self._seg_start, s, side='right')) - 1
        i = min(max(i, 0), len(self.path) - 2)
        seg = self._seg_start[i + 1] - self._seg_start[i]
        t = 0.0 if seg <= 0 else (s - self._seg_start[i]) / seg
        p = self.path[i] + t * (self.path[i + 1] - self.path[i])
        return float(p[0]), float(p[1])

    def distance_to_end(self, x: float, y: float) -> float:
        """Arc length (m) from the rover's projection to the end of the path."""
        if len(self.path) < 2:
            return math.hypot(self.path[-1, 0] - x, self.path[-1, 1] - y) if len(self.path) else 0.0
        return max(0.0, float(self._seg_start[-1]) - self._project(x, y))

    def step(self, x: float, y: float, yaw: float, speed: float, *, max_speed: float | None = None,
             cost_at: Callable[[float, float], float] | None = None, end_is_goal: bool = True) -> Command:
        """The command for the rover at (x, y, yaw) (m, rad) moving at ``speed`` (m/s). With
        ``end_is_goal`` False (the path ends at a stand-in on the grid edge) there is no approach slowdown."""
        c = self.config
        top = c.max_speed if max_speed is None else min(max(max_speed, 0.0), c.max_speed)
        if len(self.path) == 0 or not all(math.isfinite(v) for v in (x, y, yaw)):
            return Command(0.0, 0.0, False, (x, y))
        speed = abs(speed) if math.isfinite(speed) else 0.0
        lookahead = min(max(c.lookahead_time * speed, c.min_lookahead), c.max_lookahead)
        if len(self.path) >= 2:
            s = self._project(x, y)
            remaining = max(0.0, float(self._seg_start[-1]) - s)
            target = self._point_at(s + lookahead)
        else:
            target = (float(self.path[0, 0]), float(self.path[0, 1]))
            remaining = math.hypot(target[0] - x, target[1] - y)
        dx, dy = target[0] - x, target[1] - y
        cos_y, sin_y = math.cos(yaw), math.sin(yaw)
        lx = cos_y * dx + sin_y * dy          # lookahead point in the rover frame
        ly = -sin_y * dx + cos_y * dy
        distance2 = lx * lx + ly * ly
        if distance2 < 1e-8:
            return Command(0.0, 0.0, False, target)
        heading_error = math.atan2(ly, lx)
        if abs(heading_error) > c.rotate_threshold:
            w = _clamp(c.rotate_gain * heading_error, c.max_angular)
            return Command(0.0, w, True, target)

        curvature = 2.0 * ly / distance2
        v = top
        radius = 1.0 / abs(curvature) if abs(curvature) > 1e-9 else math.inf
        if radius < c.regulated_min_radius:
            v *= radius / c.regulated_min_radius
        if cost_at is not None:
            cost = max(_safe_cost(cost_at(x, y)), _safe_cost(cost_at(*target)))
            v *= max(0.0, 1.0 - c.cost_slowdown * cost)
        if end_is_goal and c.approach_distance > 0.0 and remaining < c.approach_distance:
            v *= remaining / c.approach_distance
        v = min(max(v, min(c.min_speed, top)), top)
        w = v * curvature
        if abs(w) > c.max_angular:
            w = _clamp(w, c.max_angular)
            v = abs(w / curvature)
        return Command(v, w, False, target)


def _clamp(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


def _safe_cost(value) -> float:
    value = float(value)
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else 1.0
