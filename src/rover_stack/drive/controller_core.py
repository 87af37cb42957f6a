"""Decision logic of the drive controller, free of ROS: time is passed in (s, monotonic or ROS time).

One ``DriveControllerCore`` takes body-twist commands (v m/s along base_link x, w rad/s about z),
e-stop source states and joint feedback, and on every ``step(now)`` returns the ``WheelCommand``
(wheel joint -> rad/s, steering joint -> rad) to send to the hardware. Safety rules, in order:

1. E-stop latch: once any source (software topic, hardware e-stop, ...) reports active, the output is
   zero from the next step on and stays zero until ``reset_estop()``, which is refused while any
   source is still active. A reset also drops the last command: motion needs a fresh command.
2. Command validation: NaN/inf, or |v|/|w| beyond the configured reject thresholds, or (optionally)
   a stamp older than ``max_stamp_age`` is rejected, counted by reason and never used.
3. Command timeout: with no valid command for ``cmd_timeout`` s the target becomes zero, and the
   output ramps down through the deceleration limits.
4. Twist limits (velocity, acceleration, deceleration) from ``TwistLimiter``; wheel-speed saturation
   scales the whole twist by one factor so the turning radius is kept.
5. Corner steering: steering moves at most at ``max_steering_rate``; with ``wait_for_steering`` the
   wheels slow to a stop while any steering joint is more than ``steering_tolerance`` rad off target.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from rover_stack.description.geometry import RoverGeometry
from rover_stack.drive.kinematics import WheelCommand, make_kinematics, scale_to_limit
from rover_stack.drive.limits import AxisLimits, SteeringRateLimiter, TwistLimiter, wheels_should_wait

#: Longest time step (s) fed to the limiters; a stalled loop must not allow one huge jump.
MAX_STEP_DT = 0.1

REJECT_NOT_FINITE = 'not_finite'
REJECT_OUT_OF_RANGE = 'out_of_range'
REJECT_STALE = 'stale_stamp'
REJECT_FRAME = 'wrong_frame'
REJECT_ESTOP = 'estop_latched'


@dataclass(frozen=True)
class ControllerConfig:
    """Tuning of the controller. Speeds in m/s and rad/s, accelerations per s, times in s."""
    linear: AxisLimits = field(default_factory=lambda: AxisLimits(1.0, 1.0, 2.0))
    angular: AxisLimits = field(default_factory=lambda: AxisLimits(1.5, 3.0, 4.0))
    reject_linear_above: float = 2.0     # m/s; |v| above this is refused, not clamped
    reject_angular_above: float = 3.0    # rad/s
    cmd_timeout: float = 0.5             # s without a valid command -> ramp to zero
    max_stamp_age: float = 0.0           # s; 0 = do not check command stamps (else also refuse future ones)
    command_frames: tuple[str, ...] = ('base_link', 'base_footprint')   # body frames a twist may name
    # (the same planar twist in each); a stamped twist in another frame is refused
    wait_for_steering: bool = True
    steering_tolerance: float = 0.1      # rad
    feedback_timeout: float = 0.5        # s; older steering feedback is not trusted

    def __post_init__(self):
        for name in ('reject_linear_above', 'reject_angular_above', 'cmd_timeout', 'steering_tolerance',
                     'feedback_timeout'):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0.0:
                raise ValueError(f'{name} must be a positive number, got {value}')
        if not math.isfinite(self.max_stamp_age) or self.max_stamp_age < 0.0:
            raise ValueError(f'max_stamp_age must be >= 0, got {self.max_stamp_age}')
        if self.reject_linear_above < self.linear.max_velocity:
            raise ValueError('reject_linear_above must be at least the linear max_velocity')
        if self.reject_angular_above < self.angular.max_velocity:
            raise ValueError('reject_angular_above must be at least the angular max_velocity')


@dataclass(frozen=True)
class ControllerStatus:
    """Snapshot for diagnostics. Ages in s (None: never received)."""
    estop_latched: bool
    estop_active_sources: tuple[str, ...]
    command_fresh: bool
    command_age: float | None
    timeouts: int
    accepted: int
    rejected: dict[str, int]
    feedback_age: float | None
    v: float                      # m/s, last output twist (after limits and saturation)
    w: float                      # rad/s
    saturation_factor: float      # 1.0 = wheel speeds within the motor limit
    waiting_for_steering: bool


class DriveControllerCore:
    """Command -> wheel command, with latch, timeout, limits, saturation and steering rate limits."""

    def __init__(self, geometry: RoverGeometry, config: ControllerConfig | None = None):
        self.geometry = geometry
        self.config = config or ControllerConfig()
        self.kinematics = make_kinematics(geometry)
        self._limiter = TwistLimiter(self.config.linear, self.config.angular)
        self._steering = SteeringRateLimiter(geometry.max_steering_rate, geometry.max_steering_angle)
        self._steering_joints = geometry.steering_joints
        self._cmd: tuple[float, float] | None = None
        self._cmd_time: float | None = None
        self._was_fresh = False
        self._last_step: float | None = None
        self._estop_sources: dict[str, bool] = {}
        self._latched = False
        self._rejected: Counter[str] = Counter()
        self._accepted = 0
        self._timeouts = 0
        self._feedback_time: float | None = None
        self._steering_time: float | None = None
        self._steering_feedback: dict[str, float] = {}
        self._steering_out = {j: 0.0 for j in self._steering_joints}
        self._steering_target = dict(self._steering_out)
        self._v = self._w = 0.0
        self._factor = 1.0
        self._waiting = False

    # ---- inputs ---------------------------------------------------------------------------------
    def command(self, v: float, w: float, now: float, stamp: float | None = None,
                frame_id: str = '') -> str | None:
        """Offer a twist command received at ``now`` (``frame_id`` '' = unstated, i.e. base frame);
        returns the rejection reason, or None if taken."""
        known = frame_id == '' or frame_id in self.config.command_frames
        reason = self._check(v, w, now, stamp) if known else REJECT_FRAME
        if reason is not None:
            self._rejected[reason] += 1
            return reason
        self._cmd, self._cmd_time = (float(v), float(w)), now
        self._accepted += 1
        return None

    def _check(self, v, w, now, stamp) -> str | None:
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in (v, w)):
            return REJECT_NOT_FINITE
        if abs(v) > self.config.reject_linear_above or abs(w) > self.config.reject_angular_above:
            return REJECT_OUT_OF_RANGE
        if self.config.max_stamp_age > 0.0 and stamp is not None \
                and abs(now - stamp) > self.config.max_stamp_age:
            return REJECT_STALE
        if self._latched:
            return REJECT_ESTOP
        return None

    def set_estop(self, source: str, active: bool) -> None:
        """Report one e-stop source's state; an active source latches the e-stop."""
        self._estop_sources[source] = bool(active)
        if active:
            self._latch()

    def _latch(self) -> None:
        self._latched = True
        self._cmd = self._cmd_time = None
        self._was_fresh = False
        self._limiter.reset()

    def reset_estop(self) -> tuple[bool, str]:
        """Clear the latch if no source is active: (success, human-readable reason)."""
        active = self.active_estop_sources()
        if active:
            return False, f'e-stop source(s) still active: {", ".join(active)}'
        was = self._latched
        self._latched = False
        self._cmd = self._cmd_time = None
        self._was_fresh = False
        self._limiter.reset()
        return True, 'e-stop reset' if was else 'e-stop was not latched'

    def active_estop_sources(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, active in self._estop_sources.items() if active))

    @property
    def estop_latched(self) -> bool:
        return self._latched

    def feedback(self, now: float, steering_angles: dict[str, float] | None = None,
                 wheels: bool = True) -> None:
        """Record joint feedback received at ``now``: measured steering angles (rad), and whether it
        carried the wheels (only wheel feedback counts for the feedback age)."""
        if wheels:
            self._feedback_time = now
        if steering_angles:
            self._steering_time = now
            self._steering_feedback.update(
                {j: a for j, a in steering_angles.items() if j in self._steering_out and math.isfinite(a)})

    # ---- the control step -----------------------------------------------------------------------
    def step(self, now: float) -> WheelCommand:
        """Advance to ``now`` (s) and return the command for the joints."""
        dt = 0.0 if self._last_step is None else min(max(now - self._last_step, 0.0), MAX_STEP_DT)
        self._last_step = now
        if self._latched:
            return self._stopped()
        fresh = self._cmd_time is not None and now - self._cmd_time <= self.config.cmd_timeout
        if self._was_fresh and not fresh:
            self._timeouts += 1
        self._was_fresh = fresh
        v_target, w_target = self._cmd if fresh else (0.0, 0.0)
        v_target, w_target = self._saturate_twist(v_target, w_target)
        if self._steering_joints:
            return self._step_corner(v_target, w_target, dt, now)
        self._v, self._w = self._limiter.step(v_target, w_target, dt)
        return self._wheels(self._v, self._w)

    def _stopped(self) -> WheelCommand:
        self._v = self._w = 0.0
        self._waiting = False
        return self.zero_command()

    def zero_command(self) -> WheelCommand:
        """All wheels at 0 rad/s, steering held where it was last commanded."""
        return WheelCommand({j: 0.0 for j in self.geometry.wheel_joints}, dict(self._steering_out))

    def _saturate_twist(self, v: float, w: float) -> tuple[float, float]:
        """Scale (v, w) by one factor so no wheel exceeds the motor limit (keeps the radius)."""
        if v == 0.0 and w == 0.0:
            self._factor = 1.0
            return v, w
        _, self._factor = scale_to_limit(self.kinematics.inverse(v, w), self.geometry.max_wheel_speed)
        return v * self._factor, w * self._factor

    def _wheels(self, v: float, w: float) -> WheelCommand:
        # Guard: the limiter only lowers speeds, so this scaling is normally a no-op (factor 1).
        cmd, _ = scale_to_limit(self.kinematics.inverse(v, w), self.geometry.max_wheel_speed)
        return cmd

    def _step_corner(self, v_target: float, w_target: float, dt: float, now: float) -> WheelCommand:
        if v_target != 0.0 or w_target != 0.0:
            # Steer for the commanded arc; when stopping, keep the wheels where they are.
            self._steering_target = self.kinematics.inverse(v_target, w_target).steering_angles
        self._steering_out = self._steering.step(self._steering_target, dt)
        current = self._steering_out
        if self._steering_fresh(now) and all(j in self._steering_feedback for j in self._steering_joints):
            current = self._steering_feedback
        self._waiting = self.config.wait_for_steering and wheels_should_wait(
            current, self._steering_target, self.config.steering_tolerance)
        if self._waiting:
            v_target = w_target = 0.0     # slow down (within the deceleration limits) until steered
        self._v, self._w = self._limiter.step(v_target, w_target, dt)
        speeds = self._rolling_speeds(self._v, self._w, self._steering_out)
        cmd = WheelCommand(speeds, dict(self._steering_out))
        return scale_to_limit(cmd, self.geometry.max_wheel_speed)[0]

    def _rolling_speeds(self, v: float, w: float, angles: dict[str, float]) -> dict[str, float]:
        """Wheel speeds (rad/s) for twist (v, w) with the wheels steered at ``angles`` (rad), not at the
        ideal angles: each wheel rolls at the component of its contact-point velocity along its heading,
        so a wheel still turning toward its target never fights the others."""
        speeds = {}
        for wheel in self.geometry.wheels:
            angle = angles.get(wheel.steering_joint, 0.0) if wheel.steering_joint else 0.0
            along = v - w * wheel.y
            across = w * wheel.x
            rolling = math.cos(angle) * along + math.sin(angle) * across     # m/s along the wheel
            speeds[wheel.joint] = rolling / self.geometry.wheel_radius
        return speeds

    def _steering_fresh(self, now: float) -> bool:
        return self._steering_time is not None and now - self._steering_time <= self.config.feedback_timeout

    # ---- status ---------------------------------------------------------------------------------
    def status(self, now: float) -> ControllerStatus:
        age = None if self._cmd_time is None else now - self._cmd_time
        return ControllerStatus(
            estop_latched=self._latched,
            estop_active_sources=self.active_estop_sources(),
            command_fresh=age is not None and age <= self.config.cmd_timeout,
            command_age=age,
            timeouts=self._timeouts,
            accepted=self._accepted,
            rejected=dict(self._rejected),
            feedback_age=None if self._feedback_time is None else now - self._feedback_time,
            v=self._v,
            w=self._w,
            saturation_factor=self._factor,
            waiting_for_steering=self._waiting,
        )


@dataclass(frozen=True)
class JointFeedback:
    """Wheel and steering state picked out of one joint-state message (rad/s, rad).

    ``has_wheels`` is False for a message that carries only steering joints (a backend may publish
    wheels and steering separately); ``steering_angles`` holds the steering joints present.
    """
    wheel_velocities: dict[str, float]
    wheel_positions: dict[str, float] | None
    steering_angles: dict[str, float]

    @property
    def has_wheels(self) -> bool:
        return bool(self.wheel_velocities) or self.wheel_positions is not None


def parse_joint_feedback(names, positions, velocities, wheel_joints, steering_joints) -> JointFeedback | str:
    """Pick the drive joints out of a JointState (names with parallel position/velocity arrays).

    Wheels: all or none of the wheel joints must be present; when present, each needs a finite
    position (then positions are used) or every one a finite velocity. Steering joints are optional
    (taken from finite positions). Returns a JointFeedback, or an error string.
    """
    names = list(names)
    if len(set(names)) != len(names):
        return 'duplicate joint names'
    index = {n: i for i, n in enumerate(names)}
    steering = {}
    if len(positions) == len(names):
        steering = {j: float(positions[index[j]]) for j in steering_joints
                    if j in index and math.isfinite(positions[index[j]])}
    present = [j for j in wheel_joints if j in index]
    if not present:
        if steering:
            return JointFeedback({}, None, steering)
        return 'no wheel or steering joint of this rover'
    if len(present) != len(wheel_joints):
        return f'wheel joint(s) missing: {", ".join(j for j in wheel_joints if j not in index)}'

    def pick(values):
        if len(values) != len(names):
            return None
        out = {j: float(values[index[j]]) for j in wheel_joints}
        return out if all(math.isfinite(x) for x in out.values()) else None

    wheel_positions, wheel_velocities = pick(positions), pick(velocities)
    if wheel_positions is None and wheel_velocities is None:
        return 'wheel joints have neither finite positions nor finite velocities for every wheel'
    return JointFeedback(wheel_velocities or {}, wheel_positions, steering)
