"""An emulated motor microcontroller on a pseudo-terminal, for tests and bench runs without hardware.

It speaks the MCU side of docs/motor_protocol.md on the master end of a pty; the driver opens
``emulator.port`` (the slave end) like a real serial device. It applies DRIVE_COMMANDs (wheel speed
slew-limited, steering rate-limited), integrates wheel positions, answers HEARTBEATs, sends FEEDBACK
at ``feedback_rate`` and stops the wheels on its own watchdog, like the firmware. Fault-injection
knobs corrupt, truncate or replay outgoing frames, go silent, or ignore heartbeats.
With a ``plant`` (the simulator's wheels, rover_stack.sim.device_emulation) the set-points, after the
watchdog, go to the plant and FEEDBACK reports the plant's measured joints instead of the integration.

Runs in a thread with real (monotonic) time: ``start()`` / ``stop()`` or a ``with`` block.
Units: rad, rad/s, A, V, s.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field

from rover_stack.hardware.protocol import (
    DELIMITER,
    FAULT_COMMAND_TIMEOUT,
    HEADER,
    HOST_TO_MCU,
    SEQ_MODULO,
    DriveCommand,
    Feedback,
    FrameDecoder,
    Heartbeat,
    HeartbeatAck,
    Message,
    build_raw_frame,
    cobs_encode,
)

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmulatorConfig:
    wheel_count: int
    steering_count: int = 0
    feedback_rate: float = 50.0        # Hz
    command_timeout: float = 0.5       # s without a DRIVE_COMMAND -> wheels stopped (MCU watchdog)
    max_wheel_accel: float = 40.0      # rad/s^2
    max_steering_rate: float = 3.0     # rad/s
    battery_voltage: float = 25.2      # V


@dataclass
class _Faults:
    corrupt: int = 0           # next n frames: one bit flipped after the CRC was computed
    truncate: int = 0          # next n frames: cut in half, then a delimiter
    replay: int = 0            # after the next n frames: resend an older genuine frame
    silent: bool = False       # send nothing at all
    ignore_heartbeats: bool = False
    faults: int = 0            # fault flags to report
    estop: bool = False
    battery_voltage: float | None = None
    report_counts: tuple[int, int] | None = None   # joint counts to report instead of the real ones


@dataclass
class EmulatorSnapshot:
    """What the emulated MCU has seen and is doing (a copy, safe to keep)."""
    last_command: DriveCommand | None
    commands_received: int
    heartbeats_received: int
    wheel_positions: tuple[float, ...]
    wheel_velocities: tuple[float, ...]
    steering_angles: tuple[float, ...]
    decoder_errors: dict[str, int] = field(default_factory=dict)


class EmulatedMotorController:
    """The MCU end of the motor link on a pty. ``port`` is the device path for the driver.

    ``plant``: optional object with ``command(wheel_velocities, steering_angles)`` (rad/s, rad: the
    set-points after the watchdog) and ``measured() -> (wheel_positions, wheel_velocities,
    steering_angles)`` (rad, rad/s, rad), both thread-safe; FEEDBACK then reports the measured joints."""

    def __init__(self, config: EmulatorConfig, plant=None):
        self.config = config
        self.plant = plant
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)                 # no echo, no newline translation
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoder = FrameDecoder(HOST_TO_MCU)
        self._seq = 0
        self._intact: deque[bytes] = deque(maxlen=2)    # frames sent undamaged, for replay
        self._fault = _Faults()
        self.command_log: deque[tuple[float, DriveCommand]] = deque(maxlen=2000)  # (monotonic s, cmd)
        n, m = config.wheel_count, config.steering_count
        self._positions = [0.0] * n
        self._velocities = [0.0] * n
        self._velocity_targets = [0.0] * n
        self._angles = [0.0] * m
        self._angle_targets = [0.0] * m
        self._last_command: DriveCommand | None = None
        self._last_command_time: float | None = None
        self._last_command_seq = 0
        self._last_frame_time: float | None = None
        self._commands = 0
        self._heartbeats = 0

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> EmulatedMotorController:
        self._thread = threading.Thread(target=self._run, name='motor-emulator', daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and close the pty."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                LOG.debug('pty fd %d already closed', fd)
        self._master = self._slave = -1

    def __enter__(self) -> EmulatedMotorController:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- fault injection --------------------------------------------------------------------------

    def corrupt_next(self, count: int = 1) -> None:
        with self._lock:
            self._fault.corrupt += count

    def truncate_next(self, count: int = 1) -> None:
        with self._lock:
            self._fault.truncate += count

    def replay_next(self, count: int = 1) -> None:
        with self._lock:
            self._fault.replay += count

    def set_silent(self, silent: bool) -> None:
        with self._lock:
            self._fault.silent = silent

    def set_ignore_heartbeats(self, ignore: bool) -> None:
        with self._lock:
            self._fault.ignore_heartbeats = ignore

    def set_estop(self, pressed: bool) -> None:
        with self._lock:
            self._fault.estop = pressed

    def send_raw(self, data: bytes) -> None:
        """Write ``data`` as is (garbage on the line, for bad-input tests)."""
        with self._lock:
            self._write(data)

    def set_faults(self, flags: int) -> None:
        with self._lock:
            self._fault.faults = flags

    def set_battery_voltage(self, volts: float) -> None:
        with self._lock:
            self._fault.battery_voltage = volts

    def set_reported_counts(self, counts: tuple[int, int] | None) -> None:
        """Report these (wheel, steering) counts in FEEDBACK (a misconfigured MCU); None: the real ones."""
        with self._lock:
            self._fault.report_counts = counts

    # --- observation ------------------------------------------------------------------------------

    def snapshot(self) -> EmulatorSnapshot:
        with self._lock:
            return EmulatorSnapshot(self._last_command, self._commands, self._heartbeats,
                                    tuple(self._positions), tuple(self._velocities), tuple(self._angles),
                                    dict(self._decoder.errors))

    def commands_since(self, since: float) -> list[tuple[float, DriveCommand]]:
        """DRIVE_COMMANDs received at or after monotonic time ``since``."""
        with self._lock:
            return [(t, c) for t, c in self.command_log if t >= since]

    # --- the MCU loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        period = 1.0 / self.config.feedback_rate
        last = time.monotonic()
        next_feedback = last
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.002)
                data = os.read(self._master, 4096) if ready else b''
            except OSError:             # the host closed its end; keep waiting for it to reopen
                data = b''
                self._stop.wait(0.01)
            now = time.monotonic()
            with self._lock:
                for frame in self._decoder.feed(data):
                    self._last_frame_time = now
                    self._apply(frame.message, frame.seq, now)
                self._integrate(now - last, now)
                if now >= next_feedback:
                    self._send(self._feedback(now), now)
                    next_feedback = max(next_feedback + period, now)
            last = now

    def _apply(self, message: Message, seq: int, now: float) -> None:
        if isinstance(message, DriveCommand):
            if (len(message.wheel_velocities), len(message.steering_angles)) != (
                    self.config.wheel_count, self.config.steering_count):
                LOG.warning('emulator: DRIVE_COMMAND with wrong joint counts ignored')
                return
            self._commands += 1
            self._last_command, self._last_command_time, self._last_command_seq = message, now, seq
            self.command_log.append((now, message))
            self._velocity_targets = list(message.wheel_velocities)
            if not message.hold_steering:
                self._angle_targets = list(message.steering_angles)
        elif isinstance(message, Heartbeat):
            self._heartbeats += 1
            if not self._fault.ignore_heartbeats:
                self._send(HeartbeatAck(message.host_time_ms, self._ms(now), self._faults(now)), now)

    def _integrate(self, dt: float, now: float) -> None:
        if self._last_frame_time is None or now - self._last_frame_time > self.config.command_timeout:
            self._decoder.reset_sequence()      # the host may have restarted with seq 0
        if self._watchdog_tripped(now):
            self._velocity_targets = [0.0] * self.config.wheel_count
        if self.plant is not None:
            self.plant.command(tuple(self._velocity_targets), tuple(self._angle_targets))
            positions, velocities, angles = self.plant.measured(now)
            self._positions, self._velocities, self._angles = list(positions), list(velocities), list(angles)
            return
        dv = self.config.max_wheel_accel * dt
        for i, target in enumerate(self._velocity_targets):
            self._velocities[i] += max(-dv, min(dv, target - self._velocities[i]))
            self._positions[i] += self._velocities[i] * dt
        da = self.config.max_steering_rate * dt
        for i, target in enumerate(self._angle_targets):
            self._angles[i] += max(-da, min(da, target - self._angles[i]))

    def _watchdog_tripped(self, now: float) -> bool:
        return self._last_command_time is None or now - self._last_command_time > self.config.command_timeout

    def _faults(self, now: float) -> int:
        return self._fault.faults | (FAULT_COMMAND_TIMEOUT if self._watchdog_tripped(now) else 0)

    def _ms(self, now: float) -> int:
        return int(now * 1000.0) & 0xFFFFFFFF

    def _feedback(self, now: float) -> Feedback:
        wheels, steering = self._fault.report_counts or (self.config.wheel_count, self.config.steering_count)
        pos = (self._positions + [0.0] * wheels)[:wheels]
        vel = (self._velocities + [0.0] * wheels)[:wheels]
        angles = (self._angles + [0.0] * steering)[:steering]
        battery = self._fault.battery_voltage or self.config.battery_voltage
        return Feedback(
            wheel_positions=tuple(pos),
            wheel_velocities=tuple(vel),
            wheel_currents=tuple(0.3 + 0.1 * abs(v) for v in vel),
            steering_angles=tuple(angles),
            steering_currents=(0.2,) * steering,
            fault_flags=self._faults(now),
            estop_pressed=self._fault.estop,
            battery_voltage=battery,
            command_seq=self._last_command_seq,
            mcu_time_ms=self._ms(now),
        )

    def _send(self, message: Message, now: float) -> None:
        raw = build_raw_frame(message, self._seq)
        self._seq = (self._seq + 1) % SEQ_MODULO
        encoded = cobs_encode(raw) + DELIMITER
        fault = self._fault
        if fault.silent:
            return
        if fault.corrupt:
            fault.corrupt -= 1
            damaged = bytearray(raw)
            damaged[HEADER.size] ^= 0x04            # first payload byte; the CRC no longer matches
            self._write(cobs_encode(bytes(damaged)) + DELIMITER)
        elif fault.truncate:
            fault.truncate -= 1
            self._write(encoded[:len(encoded) // 2] + DELIMITER)
        else:
            self._write(encoded)
            self._intact.append(encoded)
        if fault.replay and len(self._intact) >= 2:
            # Older than the newest intact frame, which the host has accepted: a replay to reject.
            fault.replay -= 1
            self._write(self._intact[-2])

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._master, data)
        except BlockingIOError:
            LOG.debug('emulator: pty buffer full, frame dropped')
        except OSError as error:
            LOG.debug('emulator: write failed: %s', error)
