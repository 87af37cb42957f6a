"""Stuck detection and the recovery sequence (back up, turn, re-plan), as two small state machines
driven by time (s) and the planar pose (m, rad). No ROS here.

``StuckDetector``: while motion is commanded, the rover must either get ``progress_distance`` closer
to the goal or move ``progress_distance`` away from where it last made progress within ``stuck_time``;
otherwise it is stuck. Time spent not commanding motion (waiting, turning in place) does not count.

``Recovery``: BACKING_UP (reverse ``backup_distance`` or ``backup_timeout``; skipped when the space
behind is blocked) -> TURNING (``turn_angle`` in place, alternating direction, or ``turn_timeout``) ->
DONE (the caller re-plans). ``step`` returns the (v, w) to command.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rover_stack.common.angles import wrap_angle


@dataclass(frozen=True)
class StuckConfig:
    stuck_time: float = 6.0          # s without progress while commanding motion
    progress_distance: float = 0.3   # m
    backup_distance: float = 0.5     # m
    backup_speed: float = 0.25       # m/s (magnitude; reversing)
    backup_timeout: float = 4.0      # s
    turn_angle: float = 0.8          # rad
    turn_speed: float = 0.6          # rad/s
    turn_timeout: float = 4.0        # s
    max_recoveries: int = 3          # per goal; one more stuck -> the goal fails

    def __post_init__(self):
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f'{name} must be finite and >= 0, got {value}')


class StuckDetector:
    def __init__(self, config: StuckConfig = StuckConfig()):
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._since: float | None = None
        self._best_distance = math.inf
        self._anchor = (0.0, 0.0)
        self._last_time: float | None = None

    def update(self, t: float, x: float, y: float, distance_to_goal: float, commanding_motion: bool) -> bool:
        """True when stuck. Call every control cycle."""
        c = self.config
        if self._since is None:
            self._since, self._anchor, self._best_distance = t, (x, y), distance_to_goal
        if not commanding_motion and self._last_time is not None:
            self._since += t - self._last_time   # pause the clock
        self._last_time = t
        moved = math.hypot(x - self._anchor[0], y - self._anchor[1])
        if distance_to_goal <= self._best_distance - c.progress_distance or moved >= c.progress_distance:
            self._since, self._anchor = t, (x, y)
            self._best_distance = min(self._best_distance, distance_to_goal)
            return False
        return t - self._since >= c.stuck_time


IDLE, BACKING_UP, TURNING, DONE = 'idle', 'backing_up', 'turning', 'done'


class Recovery:
    def __init__(self, config: StuckConfig = StuckConfig()):
        self.config = config
        self.state = IDLE
        self.count = 0
        self._direction = 1.0
        self._t0 = 0.0
        self._start = (0.0, 0.0, 0.0)

    @property
    def active(self) -> bool:
        return self.state in (BACKING_UP, TURNING)

    @property
    def exhausted(self) -> bool:
        """True when every allowed recovery has been used."""
        return self.count >= self.config.max_recoveries

    def reset(self) -> None:
        self.state, self.count, self._direction = IDLE, 0, 1.0

    def start(self, t: float, x: float, y: float, yaw: float, rear_blocked: bool = False) -> None:
        """Begin one recovery (counts towards ``max_recoveries``)."""
        self.count += 1
        self._begin(BACKING_UP if not rear_blocked else TURNING, t, x, y, yaw)

    def _begin(self, state: str, t: float, x: float, y: float, yaw: float) -> None:
        self.state, self._t0, self._start = state, t, (x, y, yaw)

    def step(self, t: float, x: float, y: float, yaw: float) -> tuple[float, float]:
        """(v m/s, w rad/s) for this cycle; advances the state."""
        c = self.config
        elapsed = t - self._t0
        if self.state == BACKING_UP:
            if (math.hypot(x - self._start[0], y - self._start[1]) >= c.backup_distance
                    or elapsed >= c.backup_timeout):
                self._begin(TURNING, t, x, y, yaw)
            else:
                return -c.backup_speed, 0.0
        if self.state == TURNING:
            turned = abs(wrap_angle(yaw - self._start[2]))
            if turned >= c.turn_angle or t - self._t0 >= c.turn_timeout:
                self._direction = -self._direction
                self.state = DONE
            else:
                return 0.0, self._direction * c.turn_speed
        return 0.0, 0.0
