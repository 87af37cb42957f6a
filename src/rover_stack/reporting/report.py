"""report.json of a simulated mission run, from recorded tracks and the course (pure, no rclpy).

All positions map-frame (x east, y north) metres, times sim seconds. A leg is **reached** when the
executive reported it SUCCEEDED and the ground truth agrees: the rover's true position when it
arrived is within the leg's tolerance of the true target (posts, objects, gnss coordinates), or, for
a gate, the true path crossed the segment between the two posts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Point = tuple[float, float]


@dataclass
class Track:
    """Timestamped 2D positions: t (s), x, y (m)."""
    t: list = field(default_factory=list)
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)

    def add(self, t: float, x: float, y: float) -> None:
        if all(math.isfinite(v) for v in (t, x, y)):
            self.t.append(t)
            self.x.append(x)
            self.y.append(y)

    def __len__(self) -> int:
        return len(self.t)

    def at(self, t: float) -> Point | None:
        """Position of the sample nearest in time to ``t``."""
        if not self.t:
            return None
        i = int(np.argmin(np.abs(np.asarray(self.t) - t)))
        return (self.x[i], self.y[i])

    def array(self) -> np.ndarray:
        return np.column_stack([self.t, self.x, self.y]) if self.t else np.zeros((0, 3))


@dataclass(frozen=True)
class LegTruth:
    """What the ground truth says a leg is."""
    kind: str
    name: str
    tolerance: float              # m
    target: Point                 # m, true target (gate: midpoint)
    gate_posts: tuple[Point, Point] | None = None   # gate: (left, right) post positions


@dataclass(frozen=True)
class LegRun:
    """What the executive reported for a leg, plus when it ended (sim s; None if it never did)."""
    outcome: str                  # LegOutcome constant name
    time_s: float                 # s spent on the leg
    arrived_at: float | None      # sim s when the leg reached 'arrived' (or ended), None if never


def path_length(track: Track) -> float:
    """Length (m) of the polyline of a track."""
    if len(track) < 2:
        return 0.0
    xy = track.array()[:, 1:]
    return float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))


def rmse(estimate: Track, truth: Track, max_gap: float = 0.1) -> float:
    """Horizontal RMS error (m) of ``estimate`` against ``truth`` at the estimate's stamps.

    Each estimate sample is paired with the truth sample nearest in time; pairs more than
    ``max_gap`` s apart are skipped. NaN when nothing pairs.
    """
    if not len(estimate) or not len(truth):
        return math.nan
    truth_arr = truth.array()
    order = np.argsort(truth_arr[:, 0])
    truth_arr = truth_arr[order]
    est = estimate.array()
    idx = np.clip(np.searchsorted(truth_arr[:, 0], est[:, 0]), 1, len(truth_arr) - 1)
    left, right = truth_arr[idx - 1], truth_arr[idx]
    use_left = np.abs(est[:, 0] - left[:, 0]) <= np.abs(right[:, 0] - est[:, 0])
    nearest = np.where(use_left[:, None], left, right)
    ok = np.abs(nearest[:, 0] - est[:, 0]) <= max_gap
    if not np.any(ok):
        return math.nan
    errors = np.hypot(est[ok, 1] - nearest[ok, 1], est[ok, 2] - nearest[ok, 2])
    return float(np.sqrt(np.mean(errors ** 2)))


def gate_crossing(track: Track, left: Point, right: Point) -> Point | None:
    """Where the track first crosses the segment left-right (None if it never does)."""
    if len(track) < 2:
        return None
    a, b = np.asarray(left), np.asarray(right)
    xy = track.array()[:, 1:]
    d = b - a
    side = d[0] * (xy[:, 1] - a[1]) - d[1] * (xy[:, 0] - a[0])
    before, after = side[:-1], side[1:]
    for i in np.nonzero(((before <= 0) & (after > 0)) | ((before >= 0) & (after < 0)))[0]:
        p, q = xy[i], xy[i + 1]
        s = side[i] / (side[i] - side[i + 1])
        point = p + s * (q - p)
        along = float(np.dot(point - a, d) / np.dot(d, d))
        if 0.0 <= along <= 1.0:
            return (float(point[0]), float(point[1]))
    return None


def leg_report(truth: LegTruth, run: LegRun, track: Track) -> dict:
    """One entry of report['legs']."""
    crossing = None
    if truth.gate_posts is not None:
        crossing = gate_crossing(track, *truth.gate_posts)
        if crossing is not None:
            error = math.dist(crossing, truth.target)
        else:
            xy = track.array()[:, 1:]
            error = float(np.min(np.hypot(*(xy - np.asarray(truth.target)).T))) if len(xy) else math.nan
        within = crossing is not None
    else:
        where = track.at(run.arrived_at) if run.arrived_at is not None else None
        error = math.dist(where, truth.target) if where is not None else math.nan
        within = math.isfinite(error) and error <= truth.tolerance
    return {'name': truth.name, 'kind': truth.kind, 'outcome': run.outcome,
            'reached': bool(run.outcome == 'SUCCEEDED' and within),
            'final_error_m': _num(error), 'tolerance_m': truth.tolerance, 'time_s': _num(run.time_s),
            'target': [round(truth.target[0], 3), round(truth.target[1], 3)],
            **({'crossing': [round(c, 3) for c in crossing]} if crossing else {})}


def build_report(*, course: str, mission: str, seed: int, legs: list[LegTruth], runs: list[LegRun],
                 truth: Track, estimate: Track, collisions: list, sim_time_s: float, wall_time_s: float,
                 mission_success: bool, message: str = '', extra: dict | None = None) -> dict:
    """The report dictionary (json-ready; NaN written as null)."""
    entries = [leg_report(t, r, truth) for t, r in zip(legs, runs, strict=True)]
    success = bool(mission_success and entries and all(e['reached'] for e in entries))
    return {'success': success, 'mission_result_success': bool(mission_success), 'message': message,
            'course': course, 'mission': mission, 'seed': seed, 'legs': entries,
            'sim_time_s': _num(sim_time_s), 'wall_time_s': _num(wall_time_s),
            'localization_rmse_m': _num(rmse(estimate, truth)), 'path_length_m': _num(path_length(truth)),
            'collisions': len(collisions), 'collision_events': collisions, **(extra or {})}


def leg_truths(course, mission, plane) -> list[LegTruth]:
    """Ground-truth target of every mission leg on ``course`` (targets of other kinds: nearest match)."""
    result = []
    for leg, xy in zip(mission.legs, mission.to_local(plane), strict=True):
        posts = None
        if leg.kind == 'post':
            post = course.post(leg.tag_id)
            target = (post.x, post.y)
        elif leg.kind == 'gate':
            left, right = course.post(leg.left_tag), course.post(leg.right_tag)
            posts = ((left.x, left.y), (right.x, right.y))
            target = ((left.x + right.x) / 2.0, (left.y + right.y) / 2.0)
        elif leg.kind == 'object':
            candidates = [o for o in course.objects if o.kind == leg.object] or list(course.objects)
            best = min(candidates, key=lambda o: math.dist((o.x, o.y), xy))
            target = (best.x, best.y)
        else:
            target = (float(xy[0]), float(xy[1]))
        result.append(LegTruth(leg.kind, leg.name, leg.tolerance, target, posts))
    return result


def _num(value: float) -> float | None:
    return round(float(value), 4) if value is not None and math.isfinite(value) else None
