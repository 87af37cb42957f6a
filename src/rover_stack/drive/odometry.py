"""Wheel odometry: integrates the body twist measured by the wheels into a planar pose.

Pose (x, y in m, yaw in rad wrapped to [-pi, pi]) of base_link in the odom frame (REP-105); twist
v (m/s), w (rad/s) in base_link. The twist comes from wheel FEEDBACK (joint velocities, or joint
positions differenced between calls) through the kinematics' least-squares ``forward``.
"""
from __future__ import annotations

import math

from rover_stack.common.angles import wrap_angle
from rover_stack.drive.kinematics import CornerSteer, SkidSteer, check_finite

#: Below this half heading change (rad) sin(h)/h uses its Taylor series (no 0/0 at zero speed).
_SINC_TAYLOR_BELOW = 1e-4

Pose = tuple[float, float, float]   # x (m), y (m), yaw (rad)




def _sinc(h: float) -> float:
    if abs(h) < _SINC_TAYLOR_BELOW:
        h2 = h * h
        return 1.0 - h2 / 6.0 + h2 * h2 / 120.0
    return math.sin(h) / h


def integrate_arc(pose: Pose, v: float, w: float, dt: float) -> Pose:
    """Pose (x m, y m, yaw rad) after driving at constant v (m/s), w (rad/s) for dt (s), exactly.

    The rover moves along the chord of the arc: length v*dt*sin(h)/h in direction yaw + h, with
    h = w*dt/2. For tiny h this is the midpoint (2nd-order Runge-Kutta) step plus its O(h^2)
    correction, so w = 0 and v = 0 need no special case and never divide by ~0.
    """
    x, y, yaw = pose
    half = 0.5 * w * dt
    distance = v * dt * _sinc(half)
    heading = yaw + half
    return x + distance * math.cos(heading), y + distance * math.sin(heading), wrap_angle(yaw + w * dt)


class WheelOdometry:
    """Dead reckoning from wheel feedback.

    Wheel positions (rad) are differenced between calls. A change of any wheel by more than
    ``jump_speed_factor * max_wheel_speed * dt + jump_margin_rad`` is taken as a counter reset (or
    an unhandled wrap) and that step is skipped. If the driver reports positions modulo a period
    (e.g. 2*pi), pass ``wrap_period`` and differences are unwrapped first.

    Steering during a position interval: with ``average_steering`` (default) the mean of the angles
    reported at its start and end (right when the steering turns gradually while the wheels roll);
    without it, the angles reported at its end (right when the steering jumps, e.g. an ideal simulator).

    The update methods return True when the pose advanced; otherwise ``skip_reason`` says why.
    They raise ValueError when too few wheels are usable to compute the twist.
    """

    def __init__(self, kinematics: SkidSteer | CornerSteer, *, jump_speed_factor: float = 2.0,
                 jump_margin_rad: float = 0.5, wrap_period: float | None = None,
                 average_steering: bool = True):
        check_finite(jump_speed_factor=jump_speed_factor, jump_margin_rad=jump_margin_rad)
        if wrap_period is not None:
            check_finite(wrap_period=wrap_period)
            if wrap_period <= 0.0:
                raise ValueError(f'wrap_period must be positive, got {wrap_period}')
        self.kinematics = kinematics
        self.max_wheel_speed = kinematics.geometry.max_wheel_speed
        self.jump_speed_factor = float(jump_speed_factor)
        self.jump_margin_rad = float(jump_margin_rad)
        self.wrap_period = wrap_period
        self.average_steering = bool(average_steering)
        self.skip_reason = ''
        self.reset()
        self.forget_positions()

    def reset(self, x: float = 0.0, y: float = 0.0, yaw: float = 0.0) -> None:
        """Set the pose (m, m, rad) and zero the twist. The wheel-position reference is kept."""
        check_finite(x=x, y=y, yaw=yaw)
        self.x, self.y, self.yaw = float(x), float(y), wrap_angle(float(yaw))
        self.v = self.w = 0.0

    def forget_positions(self) -> None:
        """Drop the last wheel positions: the next position update only sets the reference."""
        self._positions: dict[str, float] | None = None
        self._steering: dict[str, float] = {}
        self._stamp = 0.0

    def integrate(self, v: float, w: float, dt: float) -> None:
        """Advance the pose by a constant twist v (m/s), w (rad/s) over dt (s)."""
        self.v, self.w = v, w
        self.x, self.y, self.yaw = integrate_arc((self.x, self.y, self.yaw), v, w, dt)

    def _skip(self, reason: str) -> bool:
        self.skip_reason = reason
        return False

    def update_from_velocities(self, wheel_velocities: dict[str, float], steering_angles: dict[str, float],
                               dt: float) -> bool:
        """Integrate measured wheel speeds (rad/s) and steering angles (rad) over dt (s)."""
        check_finite(dt=dt)
        if dt <= 0.0:
            return self._skip(f'dt {dt} s <= 0')
        v, w = self.kinematics.forward(wheel_velocities, steering_angles)
        self.integrate(v, w, dt)
        self.skip_reason = ''
        return True

    def update_from_positions(self, wheel_positions: dict[str, float], steering_angles: dict[str, float],
                              stamp_s: float) -> bool:
        """Integrate the wheel rotation (rad) since the previous call; ``stamp_s`` is its time (s)."""
        check_finite(stamp_s=stamp_s)
        positions = {j: float(p) for j, p in wheel_positions.items() if math.isfinite(p)}
        previous, previous_steering = self._positions, self._steering
        dt = stamp_s - self._stamp
        if previous is not None and dt == 0.0:
            return self._skip('repeated time stamp')
        self._positions, self._steering, self._stamp = positions, dict(steering_angles), float(stamp_s)
        if previous is None:
            return self._skip('first wheel positions (reference only)')
        if dt < 0.0:
            return self._skip(f'time went back by {-dt:.3f} s (new reference)')
        deltas = {}
        for joint, position in positions.items():
            if joint in previous:
                delta = position - previous[joint]
                if self.wrap_period is not None:
                    delta = math.remainder(delta, self.wrap_period)
                deltas[joint] = delta
        threshold = self.jump_speed_factor * self.max_wheel_speed * dt + self.jump_margin_rad
        jumped = [j for j, d in deltas.items() if abs(d) > threshold]
        if jumped:
            return self._skip(f'wheel position jump over {threshold:.2f} rad on {sorted(jumped)} (reset)')
        angles = dict(steering_angles)
        if self.average_steering:
            angles = {j: 0.5 * (a + previous_steering[j]) if j in previous_steering else a
                      for j, a in angles.items()}
        v, w = self.kinematics.forward({j: d / dt for j, d in deltas.items()}, angles)
        self.integrate(v, w, dt)
        self.skip_reason = ''
        return True
