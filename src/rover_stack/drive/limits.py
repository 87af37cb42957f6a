"""Rate and range limits for drive commands: body twist (v m/s, w rad/s) and steering angles (rad).

All limits are magnitudes. Time steps ``dt`` in s; a step with dt <= 0 changes nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rover_stack.drive.kinematics import check_finite

#: Relative slack when deciding that a target is reached within this step (absorbs float rounding).
_REACH_SLACK = 1e-9


@dataclass
class AxisLimits:
    """Limits of one axis: m/s and m/s^2 for linear, rad/s and rad/s^2 for angular.

    ``max_acceleration`` applies while |speed| grows, ``max_deceleration`` while it shrinks.
    ``math.inf`` means unlimited.
    """
    max_velocity: float
    max_acceleration: float
    max_deceleration: float

    def __post_init__(self):
        for name in ('max_velocity', 'max_acceleration', 'max_deceleration'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or math.isnan(value) or value <= 0.0:
                raise ValueError(f'{name} must be a positive number (or inf), got {value!r}')


def _move_toward(current: float, target: float, max_step: float) -> float:
    """current moved toward target by at most max_step (>= 0); lands exactly on target if within."""
    gap = target - current
    if abs(gap) <= max_step * (1.0 + _REACH_SLACK):
        return target
    return current + math.copysign(max_step, gap)


def limit_axis(current: float, target: float, limits: AxisLimits, dt: float) -> float:
    """One axis step: clamp ``target`` to +-max_velocity, then approach it from ``current`` within
    the acceleration limits. Crossing zero decelerates to 0 first, then accelerates for the rest of dt."""
    target = min(limits.max_velocity, max(-limits.max_velocity, target))
    if current == 0.0 or (current > 0.0) == (target > 0.0):
        if abs(target) > abs(current):            # speeding up on the same side
            return _move_toward(current, target, limits.max_acceleration * dt)
        return _move_toward(current, target, limits.max_deceleration * dt)
    if target == 0.0:
        return _move_toward(current, 0.0, limits.max_deceleration * dt)
    time_to_stop = abs(current) / limits.max_deceleration
    if time_to_stop >= dt:
        return _move_toward(current, 0.0, limits.max_deceleration * dt)
    return _move_toward(0.0, target, limits.max_acceleration * (dt - time_to_stop))


class TwistLimiter:
    """Limits a commanded body twist (v m/s, w rad/s) in range and rate, axis by axis.

    ``step`` returns the output to send now; the output is the state (starts at 0, 0).
    """

    def __init__(self, linear: AxisLimits, angular: AxisLimits):
        self.linear = linear
        self.angular = angular
        self.v = 0.0
        self.w = 0.0

    def reset(self, v: float = 0.0, w: float = 0.0) -> None:
        """Set the current output (e.g. to the measured twist, or to 0 after an emergency stop)."""
        check_finite(v=v, w=w)
        self.v, self.w = float(v), float(w)

    def step(self, v_cmd: float, w_cmd: float, dt: float) -> tuple[float, float]:
        """Advance by ``dt`` s toward the command; ValueError for NaN/inf inputs."""
        check_finite(v_cmd=v_cmd, w_cmd=w_cmd, dt=dt)
        if dt > 0.0:
            self.v = limit_axis(self.v, float(v_cmd), self.linear, dt)
            self.w = limit_axis(self.w, float(w_cmd), self.angular, dt)
        return self.v, self.w


class SteeringRateLimiter:
    """Moves steering angles (rad) toward their targets at most ``max_rate`` rad/s.

    Joints start at 0.0 rad (straight) unless ``reset`` gives their measured angles. Targets are
    clamped to +-``max_angle`` rad.
    """

    def __init__(self, max_rate: float, max_angle: float = math.pi / 2):
        check_finite(max_rate=max_rate, max_angle=max_angle)
        if max_rate <= 0.0 or max_angle <= 0.0:
            raise ValueError(f'max_rate and max_angle must be positive, got {max_rate}, {max_angle}')
        self.max_rate = float(max_rate)
        self.max_angle = float(max_angle)
        self.current: dict[str, float] = {}
        self.targets: dict[str, float] = {}

    def reset(self, angles: dict[str, float] | None = None) -> None:
        """Forget all state, optionally starting from the given (measured) angles."""
        angles = dict(angles or {})
        check_finite(**angles)
        self.current = {j: float(a) for j, a in angles.items()}
        self.targets = dict(self.current)

    def step(self, targets: dict[str, float], dt: float) -> dict[str, float]:
        """Angles to command now for the joints in ``targets`` (rad); ValueError on NaN/inf."""
        check_finite(dt=dt)
        check_finite(**targets)
        self.targets = {j: min(self.max_angle, max(-self.max_angle, float(a))) for j, a in targets.items()}
        for joint, target in self.targets.items():
            current = self.current.get(joint, 0.0)
            self.current[joint] = _move_toward(current, target, self.max_rate * dt) if dt > 0.0 else current
        return {joint: self.current[joint] for joint in self.targets}

    def max_error(self) -> float:
        """Largest |target - current| (rad) over the last targets; 0.0 before any step."""
        return max((abs(t - self.current.get(j, 0.0)) for j, t in self.targets.items()), default=0.0)


def wheels_should_wait(current: dict[str, float], target: dict[str, float], tolerance_rad: float) -> bool:
    """True while any steering joint in ``target`` is more than ``tolerance_rad`` from it (or its
    current angle is unknown): for the option "wheels wait until the steering is near its target"."""
    check_finite(tolerance_rad=tolerance_rad)
    if tolerance_rad < 0.0:
        raise ValueError(f'tolerance_rad must be >= 0, got {tolerance_rad}')
    for joint, angle in target.items():
        now = current.get(joint)
        if now is None or not math.isfinite(now) or abs(angle - now) > tolerance_rad:
            return True
    return False
