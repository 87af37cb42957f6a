"""Wheel kinematics of the rover: body twist <-> wheel speeds and steering angles.

Frames and units (REP-103): base_link x forward, y left, z up. Body twist ``v`` in m/s along x and
``w`` in rad/s about z (positive = counter-clockwise, turning left). Wheel speeds in rad/s (positive
rolls the wheel forward). Steering angles in rad about z, 0 = straight ahead, positive = wheel heading
rotated toward +y; always in [-pi/2, pi/2].

Every wheel is modelled as a point at its contact position (x_i, y_i) of a rigid body. That point
moves with ``(v - w*y_i, w*x_i)``. A wheel steered by ``d`` rolls at ``r*omega = cos(d)*(v - w*y_i) +
sin(d)*(w*x_i)``; this one equation serves skid steer (``d = 0`` and ``y`` scaled by the effective
track factor, as the wheels scrub sideways) and corner steer (Ackermann about the instantaneous
centre of rotation, ICR, at (0, v/w)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from rover_stack.description.geometry import RoverGeometry

#: |w| below this (rad/s) is driving straight: no steering, no division by ~0.
STRAIGHT_W_EPS = 1e-9
#: Slack (rad) allowed on the steering-angle limit, for rounding.
ANGLE_SLACK = 1e-12


@dataclass(frozen=True)
class WheelCommand:
    """What the drive sends to the joints."""
    wheel_velocities: dict[str, float]                              # wheel joint -> rad/s
    steering_angles: dict[str, float] = field(default_factory=dict)  # steering joint -> rad (empty for skid)

    def peak_speed(self) -> float:
        """Largest |wheel speed| in rad/s (0.0 for no wheels)."""
        return max((abs(s) for s in self.wheel_velocities.values()), default=0.0)

    def scaled(self, factor: float) -> WheelCommand:
        """The same command with every wheel speed multiplied by ``factor`` (steering unchanged)."""
        return WheelCommand({j: s * factor for j, s in self.wheel_velocities.items()},
                            dict(self.steering_angles))


def check_finite(**values: float) -> None:
    """ValueError naming the first argument that is not a finite number."""
    for name, value in values.items():
        try:
            finite = math.isfinite(value)
        except TypeError:
            finite = False
        if not finite:
            raise ValueError(f'{name} must be a finite number, got {value!r}')


def wrap_steering(angle: float, speed: float) -> tuple[float, float]:
    """Fold a wheel heading ``angle`` (rad, in [-pi, pi]) into [-pi/2, pi/2], flipping ``speed``."""
    if angle > math.pi / 2:
        return angle - math.pi, -speed
    if angle < -math.pi / 2:
        return angle + math.pi, -speed
    return angle, speed


class _WheelKinematics:
    """Shared inverse/forward maths; subclasses say where each wheel acts and whether it steers."""

    def __init__(self, geometry: RoverGeometry):
        self.geometry = geometry
        self.radius = geometry.wheel_radius

    def _lateral_arm(self, wheel) -> float:
        """The wheel's y (m) as seen by the yaw rate."""
        return wheel.y

    def _steers(self, wheel) -> bool:
        return False

    def limit_twist(self, v: float, w: float) -> tuple[float, float]:
        """The twist (m/s, rad/s) that ``inverse(v, w)`` actually commands (before speed scaling)."""
        check_finite(v=v, w=w)
        return float(v), 0.0 if abs(w) < STRAIGHT_W_EPS else float(w)

    def inverse(self, v: float, w: float) -> WheelCommand:
        """Wheel speeds (rad/s) and steering angles (rad) for body twist v (m/s), w (rad/s)."""
        v, w = self.limit_twist(v, w)
        straight = w == 0.0
        speeds, angles = {}, {}
        for wheel in self.geometry.wheels:
            along = v if straight else v - w * self._lateral_arm(wheel)   # m/s along x
            if self._steers(wheel):
                across = 0.0 if straight else w * wheel.x                 # m/s along y
                angle, linear = wrap_steering(math.atan2(across, along), math.hypot(along, across))
                angles[wheel.steering_joint] = angle
            else:
                linear = along
            speeds[wheel.joint] = linear / self.radius
        return WheelCommand(speeds, angles)

    def forward(self, wheel_velocities: dict[str, float],
                steering_angles: dict[str, float]) -> tuple[float, float]:
        """Least-squares body twist (v m/s, w rad/s) from measured wheel speeds and steering angles.

        Wheels missing from the dicts (or reported as NaN/inf, or steered wheels without a steering
        angle) are left out. ValueError when the remaining wheels cannot determine both v and w
        (e.g. fewer than two wheels, or only wheels of one side driving straight).
        """
        rows = []
        for wheel in self.geometry.wheels:
            speed = wheel_velocities.get(wheel.joint)
            angle = steering_angles.get(wheel.steering_joint, None) if self._steers(wheel) else 0.0
            if speed is None or angle is None or not (math.isfinite(speed) and math.isfinite(angle)):
                continue
            c, s = math.cos(angle), math.sin(angle)
            # r*omega = a*v + b*w
            rows.append((c, s * wheel.x - c * self._lateral_arm(wheel), speed * self.radius))
        return _solve_least_squares(rows)


def _solve_least_squares(rows: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Solve min sum (a*v + b*w - u)^2 over rows (a, b, u) by the 2x2 normal equations."""
    if len(rows) < 2:
        raise ValueError(f'need at least 2 usable wheels to compute the body twist, got {len(rows)}')
    saa = sum(a * a for a, _, _ in rows)
    sbb = sum(b * b for _, b, _ in rows)
    sab = sum(a * b for a, b, _ in rows)
    sau = sum(a * u for a, _, u in rows)
    sbu = sum(b * u for _, b, u in rows)
    det = saa * sbb - sab * sab
    if det <= 1e-9 * saa * sbb or det == 0.0:
        raise ValueError('the usable wheels cannot tell v from w (e.g. all on one side)')
    return (sbb * sau - sab * sbu) / det, (saa * sbu - sab * sau) / det


class SkidSteer(_WheelKinematics):
    """Skid (differential) steer: fixed wheels, all wheels of a side at one speed.

    Sideways scrub makes the rover turn as if its track were ``effective_track_factor * track``; the
    yaw rate uses that effective track both ways (inverse and forward), so they round-trip exactly.
    """

    def _lateral_arm(self, wheel) -> float:
        return wheel.y * self.geometry.effective_track_factor


class CornerSteer(_WheelKinematics):
    """Corner steer (rocker-bogie, e.g. JPL's Open Source Rover): four steered corners, fixed middle.

    Ackermann: every wheel points perpendicular to the line to the ICR at (0, v/w) and rolls at
    |w| times its distance from the ICR. |w| < STRAIGHT_W_EPS drives straight; v = 0 turns in place
    (corners tangent to a circle around base_link, middle wheels spinning opposite ways).

    Steering limit: if the requested arc would need a corner wheel beyond ``max_steering_angle``,
    the rover drives the tightest feasible arc that is not tighter than requested, on the same side
    (the ICR moves outward from base_link until every corner angle is within the limit), keeping
    the linear speed v (so w = v / R). A turn in place that the steering cannot reach therefore
    keeps the wheels stopped, with the corners steered for the tightest arc toward w's side.
    ``limit_twist`` returns the twist actually commanded.
    """

    def __init__(self, geometry: RoverGeometry):
        super().__init__(geometry)
        tan_max = math.tan(min(geometry.max_steering_angle, math.pi / 2))
        # ICR positions (0, R) with |R - y_i| < |x_i| / tan(max) need more than the steering limit.
        self._forbidden = [(w.y - abs(w.x) / tan_max, w.y + abs(w.x) / tan_max)
                           for w in geometry.wheels if w.steering_joint]

    def _steers(self, wheel) -> bool:
        return bool(wheel.steering_joint)

    def _feasible(self, v: float, w: float) -> bool:
        limit = self.geometry.max_steering_angle + ANGLE_SLACK
        for wheel in self.geometry.wheels:
            if wheel.steering_joint:
                angle, _ = wrap_steering(math.atan2(w * wheel.x, v - w * wheel.y), 1.0)
                if abs(angle) > limit:
                    return False
        return True

    def limit_twist(self, v: float, w: float) -> tuple[float, float]:
        v, w = super().limit_twist(v, w)
        if w == 0.0 or self._feasible(v, w):
            return v, w
        if v == 0.0:
            return 0.0, 0.0          # unreachable turn in place: stay put
        side = math.copysign(1.0, v) * math.copysign(1.0, w)
        return v, v / self.tightest_radius(v / w, side)

    def tightest_radius(self, radius: float, side: float = 1.0) -> float:
        """The ICR y (m) nearest to ``radius`` that the steering can reach, moving away from
        base_link toward ``side`` (+1 left, -1 right); ``radius`` itself when already reachable."""
        side = math.copysign(1.0, side)
        moved = True
        while moved:
            moved = False
            for low, high in self._forbidden:
                if low < radius < high:
                    radius = high if side > 0 else low
                    moved = True
        return radius

    def inverse(self, v: float, w: float) -> WheelCommand:
        v_lim, w_lim = self.limit_twist(v, w)
        if v_lim == 0.0 and w_lim == 0.0 and abs(w) >= STRAIGHT_W_EPS:
            # Unreachable turn in place: wheels stopped, corners set for the tightest arc toward w.
            radius = self.tightest_radius(0.0, w)
            angles = super().inverse(radius, 1.0).steering_angles
            return WheelCommand({j: 0.0 for j in self.geometry.wheel_joints}, self._clamp(angles))
        cmd = super().inverse(v_lim, w_lim)
        return WheelCommand(cmd.wheel_velocities, self._clamp(cmd.steering_angles))

    def _clamp(self, angles: dict[str, float]) -> dict[str, float]:
        """Remove rounding excess (~1e-16 rad) beyond the steering limit at the edge of the range."""
        limit = self.geometry.max_steering_angle
        return {j: min(limit, max(-limit, a)) for j, a in angles.items()}


def make_kinematics(geometry: RoverGeometry) -> SkidSteer | CornerSteer:
    """The kinematics class that matches ``geometry.kinematics`` ('skid' or 'corner')."""
    if geometry.kinematics == 'skid':
        return SkidSteer(geometry)
    if geometry.kinematics == 'corner':
        return CornerSteer(geometry)
    raise ValueError(f'unknown kinematics {geometry.kinematics!r}')


def scale_to_limit(cmd: WheelCommand, max_wheel_speed: float) -> tuple[WheelCommand, float]:
    """Scale all wheel speeds by one factor so none exceeds ``max_wheel_speed`` (rad/s).

    One factor for all wheels keeps the turning radius (and the steering angles). Returns the
    (possibly) scaled command and the factor, 1.0 when nothing had to change.
    """
    check_finite(max_wheel_speed=max_wheel_speed)
    if max_wheel_speed <= 0.0:
        raise ValueError(f'max_wheel_speed must be positive, got {max_wheel_speed}')
    peak = cmd.peak_speed()
    if not math.isfinite(peak):
        raise ValueError('wheel command holds a non-finite speed')
    if peak <= max_wheel_speed:
        return cmd, 1.0
    factor = max_wheel_speed / peak
    return cmd.scaled(factor), factor
