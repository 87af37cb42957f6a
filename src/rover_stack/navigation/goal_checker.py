"""Has the rover reached its goal? Position within ``xy_tolerance`` (m) and, when asked, heading within
``yaw_tolerance`` (rad). Once the position is reached it stays reached for that goal (the rover then only
turns in place), so a little drift while turning does not restart the approach."""
from __future__ import annotations

import math
from dataclasses import dataclass

from rover_stack.common.angles import wrap_angle


@dataclass
class GoalChecker:
    xy_tolerance: float = 0.5        # m
    yaw_tolerance: float = 0.25      # rad
    use_heading: bool = False
    xy_reached: bool = False

    def __post_init__(self):
        for name in ('xy_tolerance', 'yaw_tolerance'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f'{name} must be finite and > 0, got {value}')

    def reset(self) -> None:
        self.xy_reached = False

    def check(self, pose: tuple[float, float, float], goal: tuple[float, float, float]) -> bool:
        """True when the goal is reached; ``pose`` and ``goal`` are (x m, y m, yaw rad) in one frame."""
        if math.hypot(goal[0] - pose[0], goal[1] - pose[1]) <= self.xy_tolerance:
            self.xy_reached = True
        if not self.xy_reached:
            return False
        return not self.use_heading or abs(wrap_angle(goal[2] - pose[2])) <= self.yaw_tolerance
