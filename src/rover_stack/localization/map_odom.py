"""REP-105 map -> odom: the correction that makes odom -> base_link (wheel odometry, continuous)
agree with the filtered map pose, changed smoothly. Planar poses; pure Python, no ROS.

    target map->odom = filtered map pose (x) inverse(odom pose at the same stamp)

The published map->odom is slewed toward the target: each update the map pose it implies for
base_link (published map->odom (x) current odom pose) moves by at most ``max_translation_step`` m
and ``max_rotation_step`` rad, so consumers of map see no jumps (a large correction, e.g. when the
GNSS heading is first found, is spread over several updates). The first update snaps.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

from rover_stack.common.angles import wrap_angle


@dataclass(frozen=True)
class Pose2D:
    """Planar pose: x, y in m, yaw in rad (CCW). As a transform T_parent_child."""
    x: float
    y: float
    yaw: float

    def compose(self, other: Pose2D) -> Pose2D:
        """self (x) other: ``other`` expressed in self's child frame, mapped into self's parent."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return Pose2D(self.x + c * other.x - s * other.y, self.y + s * other.x + c * other.y,
                      wrap_angle(self.yaw + other.yaw))

    def inverse(self) -> Pose2D:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return Pose2D(-c * self.x - s * self.y, s * self.x - c * self.y, wrap_angle(-self.yaw))


IDENTITY = Pose2D(0.0, 0.0, 0.0)


class PoseHistory:
    """Recent planar poses of one frame in another (e.g. odom -> base_link, map -> base_link) by stamp
    (s), interpolated on request: the pose at a sensor reading's stamp rather than the newest one."""

    def __init__(self, horizon: float = 5.0):
        self.horizon = horizon
        self._times: deque[float] = deque()
        self._poses: deque[Pose2D] = deque()

    def add(self, t: float, pose: Pose2D) -> bool:
        """Store a pose; False (ignored) when not newer than the last one or not finite."""
        if not all(math.isfinite(v) for v in (t, pose.x, pose.y, pose.yaw)):
            return False
        if self._times and t <= self._times[-1]:
            return False
        self._times.append(t)
        self._poses.append(pose)
        while self._times and self._times[0] < t - self.horizon:
            self._times.popleft()
            self._poses.popleft()
        return True

    @property
    def latest(self) -> tuple[float, Pose2D] | None:
        return (self._times[-1], self._poses[-1]) if self._times else None

    def at(self, t: float, tolerance: float = 0.5) -> Pose2D | None:
        """Pose at ``t`` (linear interpolation); the end pose up to ``tolerance`` s outside the
        stored span; None when further away or empty."""
        if not self._times:
            return None
        times = list(self._times)
        if t <= times[0]:
            return self._poses[0] if times[0] - t <= tolerance else None
        if t >= times[-1]:
            return self._poses[-1] if t - times[-1] <= tolerance else None
        i = bisect.bisect_right(times, t)
        t0, t1 = times[i - 1], times[i]
        a, b = self._poses[i - 1], self._poses[i]
        f = (t - t0) / (t1 - t0)
        return Pose2D(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y),
                      wrap_angle(a.yaw + f * wrap_angle(b.yaw - a.yaw)))


class MapOdomSlew:
    """The published map -> odom, moved toward the target in bounded steps (see module docstring)."""

    def __init__(self, max_translation_step: float = 0.1, max_rotation_step: float = math.radians(0.5)):
        self.max_translation_step = max_translation_step
        self.max_rotation_step = max_rotation_step
        self.map_odom: Pose2D | None = None

    def update(self, map_base: Pose2D, odom_base: Pose2D) -> Pose2D:
        """New map -> odom given the filtered map pose and the odom pose of base_link (same stamp)."""
        target = map_base.compose(odom_base.inverse())
        if self.map_odom is None:
            self.map_odom = target
            return target
        current = self.map_odom.compose(odom_base)          # where base_link is now, as published
        dx, dy = map_base.x - current.x, map_base.y - current.y
        distance = math.hypot(dx, dy)
        scale = 1.0 if distance <= self.max_translation_step else self.max_translation_step / distance
        dyaw = wrap_angle(map_base.yaw - current.yaw)
        dyaw = max(-self.max_rotation_step, min(self.max_rotation_step, dyaw))
        stepped = Pose2D(current.x + scale * dx, current.y + scale * dy, wrap_angle(current.yaw + dyaw))
        self.map_odom = stepped.compose(odom_base.inverse())
        return self.map_odom
