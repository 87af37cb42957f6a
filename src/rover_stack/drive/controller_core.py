"""Decision logic of the drive controller, free of ROS: time is passed in (s, monotonic or ROS time).

One ``DriveControllerCore`` takes body-twist commands (v m/s along base_link x, w rad/s about z),
e-stop source states and joint feedback, and on every ``step(now)`` returns the ``WheelCommand``
(wheel joint -> rad/s, steering joint -> rad) to send to the hardware. Safety rules, in order:

1. E-stop latch: the core starts latched (a (re)started controller never moves before an operator's
   ``reset_estop()``); once any source (software topic, hardware e-stop, ...) reports active, the output
   is zero from the next step on and stays zero until ``reset_estop()``, which is refused while any
   source is still active. A source with a heartbeat timeout (``silent_estop_timeouts``: the hardware
   e-stop, 3 s) counts as active while it has not been heard for that long, or never. A reset also
   drops the last command: motion needs a fresh command.
2. Command validation: NaN/inf, |v|/|w| beyond the configured reject thresholds, a stamp older than
   ``max_stamp_age`` or more than ``max_stamp_future`` ahead is rejected, counted by reason, never used.
3. Command timeout: a command is fresh while at most ``cmd_timeout`` s old by its arrival AND at most
   ``max_stamp_age`` s old by its stamp; a negative age (the clock stepped back) is never fresh. Without
   a fresh command the target becomes zero, and the output ramps down through the deceleration limits.
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
REJECT_FUTURE = 'future_stamp'
STARTUP = 'startup'    # the latch reason of a core that was never reset


@dataclass(frozen=True)
class ControllerConfig:
    """Tuning of the controller. Speeds in m/s and rad/s, accelerations per s, times in s."""
    linear: AxisLimits = field(default_factory=lambda: AxisLimits(1.0, 1.0, 2.0))
    angular: AxisLimits = field(default_factory=lambda: AxisLimits(1.5, 3.0, 4.0))
    reject_linear_above: float = 2.0     # m/s; |v| above this is refused, not clamped
    reject_angular_above: float = 3.0    # rad/s
    cmd_timeout: float = 0.5             # s without a valid command -> ramp to zero
    max_stamp_age: float = 1.0           # s; older stamps are refused (0 = no stamp checks: unsynced clocks)
    max_stamp_future: float = 0.5        # s; stamps further ahead of now are refused (with max_stamp_age > 0)
    silent_estop_timeouts: tuple[tuple[str, float], ...] = (('hardware_estop', 3.0),)   # (source, s):
    # a source not heard for that long (or never) counts as active
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
        for name in ('max_stamp_age', 'max_stamp_future'):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0.0:
                raise ValueError(f'{name} must be >= 0, got {value}')
        for source, timeout in self.silent_estop_timeouts:
            if not math.isfinite(timeout) or timeout <= 0.0:
                raise ValueError(f'silent e-stop timeout of {source} must be positive, got {timeout}')
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
        self._cmd_time: float | None = None     # s, arrival of the last valid command
        self._cmd_stamp: float | None = None    # s, its header stamp (None: unstamped)
        self._was_fresh = False
        self._last_step: float | None = None
        self._estop_sources: dict[str, bool] = {}
        self._estop_heard: dict[str, float] = {}          # source -> s, last report (heartbeat sources)
        self._silent_timeouts = dict(self.config.silent_estop_timeouts)
        self._latched = True
        self._latch_reason = STARTUP
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

    def reconfigure(self, config: ControllerConfig) -> None:
        """New tuning at run time (limits changed with ``ros2 param set``): the output, the latch and the
        last command are kept; the next step ramps from the current output within the new limits."""
        self.config = config
        self._limiter.linear, self._limiter.angular = config.linear, config.angular
        self._silent_timeouts = dict(config.silent_estop_timeouts)

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
        self._cmd, self._cmd_time, self._cmd_stamp = (float(v), float(w)), now, stamp
        self._accepted += 1
        return None

    def _check(self, v, w, now, stamp) -> str | None:
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in (v, w)):
            return REJECT_NOT_FINITE
        if abs(v) > self.config.reject_linear_above or abs(w) > self.config.reject_angular_above:
            return REJECT_OUT_OF_RANGE
        if self.config.max_stamp_age > 0.0 and stamp is not None:
            if now - stamp > self.config.max_stamp_age:
                return REJECT_STALE
            if stamp - now > self.config.max_stamp_future:
                return REJECT_FUTURE
        if self._latched:
            return REJECT_ESTOP
        return None

    def set_estop(self, source: str, active: bool, now: float) -> None:
        """Report one e-stop source's state at ``now`` (s); an active source latches the e-stop."""
        self._estop_sources[source] = bool(active)
        self._estop_heard[source] = now
        if active:
            self._latch(source)

    def _latch(self, reason: str) -> None:
        if not self._latched:
            self._latch_reason = reason
        self._latched = True
        self._cmd = self._cmd_time = self._cmd_stamp = None
        self._was_fresh = False
        self._limiter.reset()

    def reset_estop(self, now: float) -> tuple[bool, str]:
        """Clear the latch at ``now`` (s) if no source is active: (success, human-readable reason)."""
        active = self.active_estop_sources(now)
        if active:
            return False, f'e-stop source(s) still active: {", ".join(active)}'
        was, reason = self._latched, self._latch_reason
        self._latched = False
        self._cmd = self._cmd_time = self._cmd_stamp = None
        self._was_fresh = False
        self._limiter.reset()
        return True, f'e-stop reset (latched by {reason})' if was else 'e-stop was not latched'

    def active_estop_sources(self, now: float) -> tuple[str, ...]:
        """Sources reporting active at ``now`` (s), and heartbeat sources silent for their timeout (or
        never heard, or heard 'after' now: the clock stepped back)."""
        active = {name for name, on in self._estop_sources.items() if on}
        for name, timeout in self._silent_timeouts.items():
            heard = self._estop_heard.get(name)
            if heard is None or not 0.0 <= now - heard <= timeout:
                active.add(name)
        return tuple(sorted(active))

    @property
    def estop_latched(self) -> bool:
        return self._latched

    @property
    def latch_reason(self) -> str:
        """What latched the e-stop ('startup' or a source name); meaningful while latched."""
        return self._latch_reason

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
        silent = [s for s in self.active_estop_sources(now) if not self._estop_sources.get(s)]
        if silent:
            self._latch(f'{silent[0]} silent')
        if self._latched:
            return self._stopped()
        fresh = self._command_fresh(now)
        if self._was_fresh and not fresh:
            self._timeouts += 1
        self._was_fresh = fresh
        v_target, w_target = self._cmd if fresh else (0.0, 0.0)
        v_target, w_target = self._saturate_twist(v_target, w_target)
        if self._steering_joints:
            return self._step_corner(v_target, w_target, dt, now)
        self._v, self._w = self._limiter.step(v_target, w_target, dt)
        return self._wheels(self._v, self._w)

    def _command_fresh(self, now: float) -> bool:
        """The last valid command is young enough by arrival and by stamp (never by a negative age)."""
        if self._cmd_time is None or not 0.0 <= now - self._cmd_time <= self.config.cmd_timeout:
            return False
        return (self._cmd_stamp is None or self.config.max_stamp_age <= 0.0
                or now - self._cmd_stamp <= self.config.max_stamp_age)

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
            estop_active_sources=self.active_estop_sources(now),
            command_fresh=self._command_fresh(now),
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
