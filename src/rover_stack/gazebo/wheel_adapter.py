"""Split the contract's joint commands into Gazebo's one-topic-per-joint commands (pure, no rclpy).

``wheel_commands`` (JointState: name + velocity, rad/s) and ``steering_commands`` (name + position,
rad) arrive as one message for all joints; Gazebo's JointController / JointPositionController take one
Double per joint. ``CommandSplitter`` validates each message (known joint names, equal lengths,
finite values within the limits: a bad message is refused whole, with a reason) and, at every step,
gives the value to send per joint. It enforces the contract's rule that the backend stops the wheels
when no wheel command has arrived for ``timeout`` s (Gazebo's JointController would keep the last
velocity forever); steering holds its last angle (as the motor driver does).
"""
from __future__ import annotations

import math
from collections.abc import Sequence


class CommandSplitter:
    """Latest valid per-joint set-points with the wheel-command timeout. Times in s (any clock)."""

    def __init__(self, wheel_joints: Sequence[str], steering_joints: Sequence[str], *, timeout: float,
                 max_wheel_speed: float, max_steering_angle: float):
        if timeout <= 0.0 or max_wheel_speed <= 0.0 or max_steering_angle <= 0.0:
            raise ValueError('timeout, max_wheel_speed and max_steering_angle must be positive')
        self.wheel_joints = tuple(wheel_joints)
        self.steering_joints = tuple(steering_joints)
        self.timeout = timeout
        self.max_wheel_speed = max_wheel_speed
        self.max_steering_angle = max_steering_angle
        self._velocity = dict.fromkeys(self.wheel_joints, 0.0)
        self._angle = dict.fromkeys(self.steering_joints, 0.0)
        self._wheel_time: float | None = None

    @staticmethod
    def _check(names, values, known, limit: float, what: str) -> str | None:
        if len(names) != len(values):
            return f'{len(names)} names but {len(values)} {what} values'
        unknown = sorted(set(names) - set(known))
        if unknown:
            return f'unknown joint(s) {unknown}; expected some of {list(known)}'
        if len(set(names)) != len(names):
            return 'a joint is named twice'
        for name, value in zip(names, values, strict=True):
            if not math.isfinite(value):
                return f'{name}: {what} {value} is not finite'
            if abs(value) > limit * (1.0 + 1e-9):
                return f'{name}: |{what}| {value} exceeds the limit {limit}'
        return None

    def on_wheel_command(self, names: Sequence[str], velocities: Sequence[float], now: float) -> str | None:
        """Store wheel velocities (rad/s); returns why the message was refused, or None."""
        error = self._check(names, velocities, self.wheel_joints, self.max_wheel_speed, 'velocity')
        if error is None:
            if self.timed_out(now):   # joints a fresh partial command does not name start from 0
                self._velocity = dict.fromkeys(self.wheel_joints, 0.0)
            self._velocity.update(zip(names, (float(v) for v in velocities), strict=True))
            self._wheel_time = now
        return error

    def on_steering_command(self, names: Sequence[str], positions: Sequence[float]) -> str | None:
        """Store steering angles (rad); returns why the message was refused, or None."""
        error = self._check(names, positions, self.steering_joints, self.max_steering_angle, 'position')
        if error is None:
            self._angle.update(zip(names, (float(p) for p in positions), strict=True))
        return error

    def timed_out(self, now: float) -> bool:
        return self._wheel_time is None or now - self._wheel_time > self.timeout

    def wheel_setpoints(self, now: float) -> dict[str, float]:
        """Velocity to send per wheel joint (rad/s): the latest command, or 0 after the timeout."""
        if self.timed_out(now):
            return dict.fromkeys(self.wheel_joints, 0.0)
        return dict(self._velocity)

    def steering_setpoints(self) -> dict[str, float]:
        """Angle to send per steering joint (rad): the latest command (0 before any)."""
        return dict(self._angle)
