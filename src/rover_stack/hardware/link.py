"""Host side of the motor-controller link: a state machine (pure, time passed in) and a serial port.

``MotorLink`` decides what to send and what the link's state is; it never touches a device and
never reads a clock, so it unit-tests with made-up times. ``SerialPort`` is the only I/O: a
non-blocking pyserial wrapper. Times in s (any monotonic origin), velocities rad/s, angles rad.

States:
* ``LINK_LOST``: no valid frame for ``link_timeout`` (also the state before the first frame).
* ``ERROR``: frames arrive but something is wrong: the MCU does not acknowledge heartbeats (it does
  not hear us), its joint counts differ from the configuration, or the serial port failed.
* ``OK``: otherwise. Only in OK are fresh commands forwarded; in any other state, when a command
  is older than ``command_timeout``, and while the e-stop gate (``EstopGate``) is closed, the wheels
  are commanded to 0 rad/s and the steering is told to hold where it is.
"""
from __future__ import annotations

import enum
import logging
import math
import os
from collections import deque
from dataclasses import dataclass

import serial

from rover_stack.hardware.protocol import (
    MCU_TO_HOST,
    DriveCommand,
    Feedback,
    Frame,
    FrameDecoder,
    FrameEncoder,
    Heartbeat,
    HeartbeatAck,
    ProtocolError,
)

LOG = logging.getLogger(__name__)
LINK_ERROR_KINDS = ('joint_count_mismatch', 'stale_ack', 'io_error')


class LinkState(enum.Enum):
    OK = 'OK'
    LINK_LOST = 'LINK_LOST'
    ERROR = 'ERROR'


@dataclass(frozen=True)
class LinkConfig:
    """Link timing and the joint counts the MCU must report (from the robot configuration)."""
    wheel_count: int
    steering_count: int = 0
    link_timeout: float = 0.2        # s without a valid frame -> LINK_LOST
    heartbeat_period: float = 0.1    # s between HEARTBEATs
    ack_timeout: float = 0.5         # s without a HEARTBEAT_ACK while frames arrive -> ERROR
    command_timeout: float = 0.25    # s; older commands are not forwarded

    def __post_init__(self):
        for name in ('link_timeout', 'heartbeat_period', 'ack_timeout', 'command_timeout'):
            if not getattr(self, name) > 0.0:
                raise ValueError(f'LinkConfig.{name} must be positive, got {getattr(self, name)}')
        if self.ack_timeout <= self.heartbeat_period:
            raise ValueError('LinkConfig.ack_timeout must be longer than heartbeat_period')


class EstopGate:
    """Whether wheel commands may reach the motors: the motor driver's own copy of the e-stop latch.

    Closed at start and on every stop event (``estop_state`` true from the drive controller, a source
    such as the software ``estop`` topic or the MCU's hardware button going active); opened only by
    ``estop_state`` false (the controller's latch was reset) received after the last stop event, and
    only while no source is active. So a publisher of ``wheel_commands`` other than a reset drive
    controller never moves the wheels.
    """

    def __init__(self):
        self._reset_seen = False
        self._active: set[str] = set()
        self.reason = 'no e-stop reset reported by the drive controller yet'

    def report(self, source: str, active: bool) -> None:
        """A stop source's state (true = stop); a rising edge closes the gate until the next reset."""
        if active and source not in self._active:
            self._reset_seen = False
            self.reason = f'{source} pressed; waiting for the drive controller\'s e-stop reset'
        (self._active.add if active else self._active.discard)(source)

    def controller_latched(self, latched: bool) -> None:
        """The drive controller's ``estop_state``: false (reset) opens the gate once no source is active."""
        if latched:
            self._reset_seen = False
            self.reason = 'drive controller e-stop latched'
        else:
            self._reset_seen = True

    @property
    def open(self) -> bool:
        return self._reset_seen and not self._active

    def why_closed(self) -> str:
        if self._active:
            return f'{", ".join(sorted(self._active))} active'
        return '' if self._reset_seen else self.reason


class MotorLink:
    """The host end of the protocol: feed it received bytes and call ``step`` periodically.

    ``receive(data, now)`` decodes and records feedback; ``step(now)`` updates the state and returns
    the bytes to write (a DRIVE_COMMAND every step, a HEARTBEAT every ``heartbeat_period``).
    """

    def __init__(self, config: LinkConfig):
        self.config = config
        self.decoder = FrameDecoder(MCU_TO_HOST)
        self.encoder = FrameEncoder()
        self.link_errors = dict.fromkeys(LINK_ERROR_KINDS, 0)
        self.state = LinkState.LINK_LOST
        self.reason = 'no frame received yet'
        self.feedback: Feedback | None = None       # latest feedback with the configured joint counts
        self.feedback_time: float | None = None
        self.round_trip: float | None = None        # s, HEARTBEAT -> HEARTBEAT_ACK
        self.mcu_faults = 0
        self.last_sent: DriveCommand | None = None
        self._new_feedback = False
        self._last_frame_time: float | None = None
        self._receiving_since: float | None = None
        self._last_ack_time: float | None = None
        self._count_mismatch = ''
        self._io_error = ''
        self._heartbeats: deque[tuple[int, float]] = deque(maxlen=16)   # (host_time_ms, sent at)
        self._last_heartbeat: float | None = None
        self._wheel_cmd: tuple[tuple[float, ...], float] | None = None
        self._steering_cmd: tuple[tuple[float, ...], float] | None = None
        self.gate = EstopGate()

    # --- inputs -----------------------------------------------------------------------------------

    def set_wheel_command(self, velocities, now: float) -> None:
        """Wheel velocities in rad/s, in configured order, received at ``now``."""
        velocities = tuple(float(v) for v in velocities)
        if len(velocities) != self.config.wheel_count:
            raise ValueError(f'expected {self.config.wheel_count} wheel velocities, got {len(velocities)}')
        self._wheel_cmd = (velocities, now)

    def set_steering_command(self, angles, now: float) -> None:
        """Steering angles in rad, in configured order, received at ``now``."""
        angles = tuple(float(a) for a in angles)
        if len(angles) != self.config.steering_count:
            raise ValueError(f'expected {self.config.steering_count} steering angles, got {len(angles)}')
        self._steering_cmd = (angles, now)

    def report_io_error(self, reason: str) -> None:
        """The serial port failed: ERROR until ``clear_io_error`` (port reopened)."""
        if not self._io_error:
            self.link_errors['io_error'] += 1
        self._io_error = reason or 'serial I/O error'

    def clear_io_error(self) -> None:
        self._io_error = ''

    def receive(self, data: bytes, now: float) -> list[Frame]:
        """Decode bytes read from the port at ``now``; returns the frames accepted."""
        frames = self.decoder.feed(data)
        for frame in frames:
            if self._receiving_since is None:
                self._receiving_since = now
            self._last_frame_time = now
            message = frame.message
            if isinstance(message, Feedback):
                self._on_feedback(message, now)
            elif isinstance(message, HeartbeatAck):
                self._on_ack(message, now)
        return frames

    def _on_feedback(self, feedback: Feedback, now: float) -> None:
        counts = (len(feedback.wheel_velocities), len(feedback.steering_angles))
        expected = (self.config.wheel_count, self.config.steering_count)
        self.mcu_faults = feedback.fault_flags
        if counts != expected:
            self.link_errors['joint_count_mismatch'] += 1
            self._count_mismatch = (f'MCU reports {counts[0]} wheels / {counts[1]} steering joints, '
                                    f'configuration has {expected[0]} / {expected[1]}')
            return
        self._count_mismatch = ''
        self.gate.report('hardware_estop', feedback.estop_pressed)
        self.feedback, self.feedback_time, self._new_feedback = feedback, now, True

    def _on_ack(self, ack: HeartbeatAck, now: float) -> None:
        self.mcu_faults = ack.fault_flags
        for stamp, sent_at in self._heartbeats:
            if stamp == ack.host_time_ms:
                self._last_ack_time = now
                self.round_trip = now - sent_at
                return
        self.link_errors['stale_ack'] += 1

    # --- outputs ----------------------------------------------------------------------------------

    def take_feedback(self) -> Feedback | None:
        """The newest feedback not taken yet, or None."""
        if not self._new_feedback:
            return None
        self._new_feedback = False
        return self.feedback

    @property
    def errors(self) -> dict[str, int]:
        """Every error count: the decoder's kinds and the link's."""
        return {**self.decoder.errors, **self.link_errors}

    def last_frame_age(self, now: float) -> float | None:
        """s since the last valid frame, or None if none was ever received."""
        return None if self._last_frame_time is None else now - self._last_frame_time

    def step(self, now: float) -> bytes:
        """Advance the state machine to ``now``; the bytes to write to the port."""
        self._update_state(now)
        out = self.encoder.encode(self._drive_command(now))
        if self._last_heartbeat is None or now - self._last_heartbeat >= self.config.heartbeat_period:
            stamp = int(now * 1000.0) & 0xFFFFFFFF
            self._heartbeats.append((stamp, now))
            self._last_heartbeat = now
            out += self.encoder.encode(Heartbeat(stamp))
        return out

    def stop_bytes(self) -> bytes:
        """A DRIVE_COMMAND stopping the wheels and holding the steering (for shutdown)."""
        return self.encoder.encode(self._stop_command())

    def _stop_command(self) -> DriveCommand:
        return DriveCommand((0.0,) * self.config.wheel_count, (0.0,) * self.config.steering_count,
                            hold_steering=True)

    def _drive_command(self, now: float) -> DriveCommand:
        if self.state is not LinkState.OK or not self.gate.open:
            command = self._stop_command()
        else:
            wheels = self._fresh(self._wheel_cmd, now)
            steering = self._fresh(self._steering_cmd, now)
            command = DriveCommand(
                wheels if wheels is not None else (0.0,) * self.config.wheel_count,
                steering if steering is not None else (0.0,) * self.config.steering_count,
                hold_steering=steering is None and self.config.steering_count > 0)
            try:
                command.pack()
            except ProtocolError as error:    # values beyond float32; the node clamps, so unexpected
                LOG.error('refusing to send %s: %s', command, error)
                command = self._stop_command()
        self.last_sent = command
        return command

    def _fresh(self, command, now: float):
        if command is None:
            return None
        values, stamp = command
        return values if 0.0 <= now - stamp <= self.config.command_timeout else None

    def _update_state(self, now: float) -> None:
        state, reason = self._evaluate(now)
        if state is LinkState.LINK_LOST and self.state is not LinkState.LINK_LOST:
            # The MCU may reboot and restart its seq at 0: accept whatever seq comes next.
            self.decoder.reset_sequence()
            self._receiving_since = None
            self._last_ack_time = None
        self.state, self.reason = state, reason

    def _evaluate(self, now: float) -> tuple[LinkState, str]:
        if self._io_error:
            return LinkState.ERROR, self._io_error
        age = self.last_frame_age(now)
        if age is None:
            return LinkState.LINK_LOST, 'no frame received yet'
        if age > self.config.link_timeout:
            return LinkState.LINK_LOST, f'no valid frame for {age * 1000.0:.0f} ms'
        if self._count_mismatch:
            return LinkState.ERROR, self._count_mismatch
        since = self._last_ack_time if self._last_ack_time is not None else self._receiving_since
        if since is not None and now - since > self.config.ack_timeout:
            silence_ms = (now - since) * 1000.0
            return LinkState.ERROR, f'MCU has not acknowledged a heartbeat for {silence_ms:.0f} ms'
        return LinkState.OK, 'receiving feedback'


class SerialPort:
    """Non-blocking serial port (pyserial opens and configures it raw; reads use timeout=0).

    Writes go straight to the non-blocking file descriptor: pyserial's own non-blocking write spins
    while the output buffer is full. A frame cut short by a full buffer is followed by an extra
    delimiter, so the MCU drops only that frame. Raises OSError on failure.
    """

    def __init__(self, device: str, baud: int):
        self._serial_error = serial.SerialException
        self.device = device
        try:
            self._port = serial.Serial(device, baud, timeout=0, exclusive=True)
        except (serial.SerialException, ValueError) as error:
            raise OSError(f'{device}: cannot open: {error}') from None
        self._port.reset_input_buffer()
        self._resync = False

    def read_available(self, limit: int = 4096) -> bytes:
        """Whatever bytes are waiting (possibly none); never blocks."""
        try:
            return self._port.read(limit)
        except self._serial_error as error:
            raise OSError(f'{self.device}: read failed: {error}') from None

    def write(self, data: bytes) -> bool:
        """Write without blocking; False if the output buffer was full and bytes were dropped."""
        if self._resync:
            data = b'\x00' + data
        try:
            written = os.write(self._port.fileno(), data)
        except BlockingIOError:
            written = 0
        except OSError as error:
            raise OSError(f'{self.device}: write failed: {error.strerror}') from None
        self._resync = 0 < written < len(data)
        return written == len(data)

    def close(self) -> None:
        self._port.close()


def order_by_name(names, values, joints, limit: float) -> tuple[float, ...] | str:
    """Values of a name-keyed command (e.g. a JointState) in the order of ``joints``.

    Returns the ordered tuple, or a short reason the whole command is rejected: ``bad_length``
    (names and values differ in length), ``duplicate_joint``, ``unknown_joint``, ``missing_joint``
    (every joint must be named, so stale and fresh values never mix), ``not_finite`` or
    ``out_of_range`` (|value| above ``limit``).
    """
    names, values = list(names), list(values)
    if len(names) != len(values):
        return 'bad_length'
    if len(set(names)) != len(names):
        return 'duplicate_joint'
    by_name = dict(zip(names, values, strict=True))
    if not set(by_name) <= set(joints):
        return 'unknown_joint'
    if len(by_name) != len(joints):
        return 'missing_joint'
    ordered = tuple(float(by_name[joint]) for joint in joints)
    if not all(math.isfinite(v) for v in ordered):
        return 'not_finite'
    if any(abs(v) > limit for v in ordered):
        return 'out_of_range'
    return ordered


def steering_rates(previous: Feedback | None, current: Feedback, max_gap: float = 0.5) -> tuple[float, ...]:
    """Steering angular velocities in rad/s by differencing two feedbacks over the MCU clock;
    zeros when there is no usable previous sample (none, reordered, or more than ``max_gap`` s)."""
    zeros = (0.0,) * len(current.steering_angles)
    if previous is None or len(previous.steering_angles) != len(current.steering_angles):
        return zeros
    dt = ((current.mcu_time_ms - previous.mcu_time_ms) & 0xFFFFFFFF) / 1000.0
    if not 0.0 < dt <= max_gap:
        return zeros
    return tuple((a - b) / dt for a, b in zip(current.steering_angles, previous.steering_angles, strict=True))
