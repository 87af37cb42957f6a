"""Device emulation: the simulated rover presented through the devices of the real one. No rclpy.

Instead of publishing the hardware-contract topics, the simulator (``rover_simulator`` with
``devices: emulated``, docs/device_emulation.md) feeds:

* the motor controller: ``hardware.emulator.EmulatedMotorController`` on a pty, with the simulated wheels as
  its plant: DRIVE_COMMAND set-points (after the MCU's own watchdog) drive the MuJoCo wheel joints and
  FEEDBACK reports the simulated encoders; the hardware e-stop is FEEDBACK's status bit;
* the GNSS receiver: NMEA 0183 (GST, GGA, RMC per epoch) from the simulator's GNSS model on a pty;
* the IMU: ``$IMU`` lines from the simulator's IMU model on a pty;
* the camera: the rendered frames as MJPEG over HTTP on 127.0.0.1 (``mjpeg.MjpegServer``).

Each serial device is reached through a stable link in ``directory`` (``motors``, ``gnss``, ``imu``), as
udev's /dev/rover/NAME on the rover, so a device can be unplugged and plugged in again (a new pty behind
the same name). ``devices.yaml`` in ``directory`` lists the launch arguments of the rover profile
(motor_port, gnss_port, imu_port, camera_device), written once every device is up.

Faults for tests (``FaultSchedule``), timed from the first non-zero wheel set-point (the rover starts to
drive): ``gnss_unplug``, ``gnss_silent``, ``gnss_garbage``, ``imu_unplug``, ``imu_silent``, ``imu_garbage``,
``motor_garbage``, ``camera_drop``, ``estop`` as ``KIND@START+DURATION`` (s), and ``motor_corrupt=F``: a
fraction F of the FEEDBACK frames corrupted (seeded).
"""
from __future__ import annotations

import logging
import os
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from rover_stack.hardware.emulator import EmulatedMotorController, EmulatorConfig
from rover_stack.sim.device_lines import gnss_epoch, imu_line
from rover_stack.sim.engine import GnssFix
from rover_stack.sim.mjpeg import MjpegServer
from rover_stack.sim.sensors import BatteryReading, ImageReading, ImuReading, JointReading

LOG = logging.getLogger(__name__)
DEVICES_FILE = 'devices.yaml'
TIMED_FAULTS = ('gnss_unplug', 'gnss_silent', 'gnss_garbage', 'imu_unplug', 'imu_silent', 'imu_garbage',
                'motor_garbage', 'camera_drop', 'estop')
GARBAGE_BYTES = 64          # random bytes written per sample while a garbage fault lasts
JPEG_QUALITY = 90


class FaultError(ValueError):
    """A fault schedule that cannot be parsed."""


@dataclass(frozen=True)
class TimedFault:
    kind: str
    start: float       # s after the first motion command
    duration: float    # s

    def active(self, t: float | None) -> bool:
        return t is not None and self.start <= t < self.start + self.duration


@dataclass
class FaultSchedule:
    timed: list[TimedFault] = field(default_factory=list)
    motor_corrupt: float = 0.0     # fraction of FEEDBACK frames corrupted

    @classmethod
    def parse(cls, text: str) -> FaultSchedule:
        """``'gnss_unplug@20+5, motor_corrupt=0.01'`` -> schedule; FaultError with the bad item."""
        schedule = cls()
        for item in (part.strip() for part in text.split(',')):
            if not item:
                continue
            try:
                if '=' in item:
                    kind, value = item.split('=', 1)
                    if kind.strip() != 'motor_corrupt':
                        raise ValueError(f'unknown fraction fault {kind.strip()!r}')
                    schedule.motor_corrupt = float(value)
                    if not 0.0 <= schedule.motor_corrupt <= 1.0:
                        raise ValueError('fraction outside [0, 1]')
                    continue
                kind, _, when = item.partition('@')
                start, _, duration = when.partition('+')
                fault = TimedFault(kind.strip(), float(start), float(duration))
            except ValueError as error:
                raise FaultError(f'bad fault {item!r}: {error} (expected KIND@START+DURATION or '
                                 f'motor_corrupt=FRACTION)') from None
            if fault.kind not in TIMED_FAULTS:
                raise FaultError(f'unknown fault {fault.kind!r}; known: {", ".join(TIMED_FAULTS)}')
            if not (fault.start >= 0.0 and fault.duration > 0.0):
                raise FaultError(f'bad fault {item!r}: start must be >= 0 s and duration > 0 s')
            schedule.timed.append(fault)
        return schedule

    def active(self, kind: str, t: float | None) -> bool:
        return any(f.kind == kind and f.active(t) for f in self.timed)


class PtyDevice:
    """A serial device on a pseudo-terminal, reached through the stable link ``link`` (a symlink to the
    pty's slave end). ``unplug`` closes the pty (an open driver reads an I/O error) and removes the link;
    ``plug`` makes a new pty behind the same link."""

    def __init__(self, link: Path):
        self.link = Path(link)
        self._master = self._slave = -1
        self.dropped_writes = 0
        self.plug()

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> None:
        if self.plugged:
            return
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        replace_link(self.link, os.ttyname(self._slave))

    def unplug(self) -> None:
        if not self.plugged:
            return
        self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            os.close(fd)
        self._master = self._slave = -1

    def write(self, data: bytes) -> None:
        """Write without blocking (a full buffer, no reader: the bytes are lost, as on a UART)."""
        if not self.plugged:
            return
        try:
            os.read(self._master, 4096)          # what the driver sent (nothing expected): discard
        except (BlockingIOError, OSError):
            pass
        try:
            os.write(self._master, data)
        except (BlockingIOError, OSError):
            self.dropped_writes += 1


def replace_link(link: Path, target: str) -> None:
    """Point the symlink ``link`` at ``target`` atomically."""
    temporary = link.with_name(link.name + '.new')
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    os.replace(temporary, link)


class WheelPlant:
    """The motor emulator's plant: set-points in, simulated encoder readings out (thread-safe).

    The simulator steps its physics in chunks (``clock_period``, 20 ms), so its joint readings arrive in
    bursts while the emulated MCU samples them on its own 50 Hz clock: reported as they are, a wheel's
    position would stand still for one FEEDBACK and jump two periods' worth in the next (measured: the
    wheel odometry's speed alternated 0 and 2 m/s at 1 m/s, 0.83 m/s RMS against the truth). A real
    encoder is read at the FEEDBACK instant, so ``measured`` extrapolates each wheel position from its
    reading to the time asked for, with the reading's velocity, by at most ``max_extrapolation`` s."""

    def __init__(self, wheels: int, steering: int, max_extrapolation: float = 0.1):
        self._lock = threading.Lock()
        self._velocity_targets = (0.0,) * wheels
        self._angle_targets = (0.0,) * steering
        self._measured = ((0.0,) * wheels, (0.0,) * wheels, (0.0,) * steering)
        self._measured_at: float | None = None      # monotonic s the reading describes
        self.wheels = wheels
        self.max_extrapolation = max_extrapolation

    def command(self, wheel_velocities, steering_angles) -> None:
        with self._lock:
            self._velocity_targets, self._angle_targets = tuple(wheel_velocities), tuple(steering_angles)

    def targets(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        with self._lock:
            return self._velocity_targets, self._angle_targets

    def measured(self, now: float | None = None):
        """(wheel positions rad, wheel velocities rad/s, steering angles rad) at monotonic time ``now``
        (default: the reading as it is)."""
        with self._lock:
            positions, velocities, angles = self._measured
            at = self._measured_at
        if now is None or at is None:
            return positions, velocities, angles
        ahead = min(self.max_extrapolation, max(-self.max_extrapolation, now - at))
        return tuple(p + v * ahead for p, v in zip(positions, velocities, strict=True)), velocities, angles

    def update(self, positions, velocities, at: float | None = None) -> None:
        """A JointReading's positions and velocities (wheels first, then steering joints), describing the
        monotonic time ``at`` (default: now)."""
        n = self.wheels
        with self._lock:
            self._measured = (tuple(positions[:n]), tuple(velocities[:n]), tuple(positions[n:]))
            self._measured_at = time.monotonic() if at is None else at


class DeviceEmulation:
    """The devices of one simulated rover (see the module docstring). Call ``before_step`` before each
    physics chunk and ``take`` with every reading after it, from the one thread that steps the simulator;
    ``take`` returns the readings that are not a device's (scan, ...) for the caller to publish."""

    def __init__(self, sim, directory: Path, *, faults: FaultSchedule | None = None, seed: int = 0,
                 camera_port: int = 0, clock=None):
        self.sim = sim
        self.faults = faults or FaultSchedule()
        self._utc = clock or time.time
        self._rng = np.random.default_rng([int(seed), 99])
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / DEVICES_FILE).unlink(missing_ok=True)
        wheels, steering = len(sim.wheel_joints), len(sim.steering_joints)
        self.plant = WheelPlant(wheels, steering)
        self.motor = EmulatedMotorController(
            EmulatorConfig(wheel_count=wheels, steering_count=steering,
                           feedback_rate=sim.config.encoders.rate,
                           command_timeout=sim.config.engine.command_timeout), plant=self.plant).start()
        replace_link(self.directory / 'motors', self.motor.port)
        self.gnss = PtyDevice(self.directory / 'gnss')
        self.imu = PtyDevice(self.directory / 'imu')
        self.camera = MjpegServer(camera_port) if sim.render_enabled else None
        self.motion_start: float | None = None     # sim s of the first non-zero wheel set-point
        self._imu_seq = 0
        self._active: set[str] = set()
        self.events: list[str] = []                # fault starts and ends, for the log
        self.arguments = {'motor_port': str(self.directory / 'motors'), 'gnss_port': str(self.gnss.link),
                          'imu_port': str(self.imu.link),
                          'camera_device': self.camera.url if self.camera else ''}
        text = yaml.safe_dump(self.arguments, sort_keys=False)
        temporary = self.directory / (DEVICES_FILE + '.new')
        temporary.write_text(text, encoding='utf-8')
        os.replace(temporary, self.directory / DEVICES_FILE)

    # ---- the stepping thread ---------------------------------------------------------------------
    def fault_time(self) -> float | None:
        """s since the first motion command, None before it."""
        return None if self.motion_start is None else self.sim.time - self.motion_start

    def before_step(self) -> None:
        """The motor controller's set-points to the simulated joints; faults that start or end now."""
        velocities, angles = self.plant.targets()
        if self.motion_start is None and any(abs(v) > 1e-6 for v in velocities):
            self.motion_start = self.sim.time
            self.events.append(f'first motion command at {self.sim.time:.2f} s sim: fault clock starts')
        self.sim.set_wheel_commands(dict(zip(self.sim.wheel_joints, velocities, strict=True)))
        if angles:
            self.sim.set_steering_commands(dict(zip(self.sim.steering_joints, angles, strict=True)))
        self._update_faults()

    def _update_faults(self) -> None:
        t = self.fault_time()
        active = {f.kind for f in self.faults.timed if f.active(t)}
        for kind in sorted(active - self._active):
            self.events.append(f'fault {kind} starts at {t:.2f} s after the first motion command')
            if kind == 'gnss_unplug':
                self.gnss.unplug()
            elif kind == 'imu_unplug':
                self.imu.unplug()
            elif kind == 'camera_drop' and self.camera is not None:
                duration = max(f.duration for f in self.faults.timed if f.kind == kind and f.active(t))
                self.camera.drop(duration)
            elif kind == 'estop':
                self.set_estop(True)
        for kind in sorted(self._active - active):
            self.events.append(f'fault {kind} ends at {t:.2f} s after the first motion command')
            if kind == 'gnss_unplug':
                self.gnss.plug()
            elif kind == 'imu_unplug':
                self.imu.plug()
            elif kind == 'estop':
                self.set_estop(False)
        self._active = active

    def set_estop(self, pressed: bool) -> None:
        """The hardware e-stop: reported by the motor controller, and the simulated wheels brake."""
        self.motor.set_estop(pressed)
        self.sim.set_estop(pressed)

    def take(self, reading, wall_time: float | None = None):
        """Send a device's reading to its device (None returned); other readings are returned.
        ``wall_time``: the monotonic s the reading's sim stamp stands for (real time), default now."""
        active = self._active
        if isinstance(reading, JointReading):
            self.plant.update(reading.positions, reading.velocities, wall_time)
            if self.faults.motor_corrupt > 0.0 and self._rng.random() < self.faults.motor_corrupt:
                self.motor.corrupt_next(1)
            if 'motor_garbage' in active:
                self.motor.send_raw(self._garbage())
        elif isinstance(reading, ImuReading):
            self._imu_seq += 1
            if 'imu_garbage' in active:
                self.imu.write(self._garbage())
            elif 'imu_silent' not in active:
                orientation = reading.orientation if reading.orientation_variance >= 0.0 else None
                self.imu.write(imu_line(self._imu_seq, orientation, reading.angular_velocity,
                                        reading.linear_acceleration).encode('ascii'))
        elif isinstance(reading, GnssFix):
            if 'gnss_garbage' in active:
                self.gnss.write(self._garbage())
            elif 'gnss_silent' not in active:
                lines = gnss_epoch(self._utc(), reading.fix, latitude=reading.latitude,
                                   longitude=reading.longitude, altitude=reading.altitude,
                                   sigma_horizontal=reading.variance_horizontal ** 0.5,
                                   sigma_vertical=reading.variance_vertical ** 0.5)
                self.gnss.write(''.join(lines).encode('ascii'))
        elif isinstance(reading, ImageReading):
            if self.camera is not None:
                ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(reading.image, cv2.COLOR_RGB2BGR),
                                        [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                if ok:
                    self.camera.publish(jpeg.tobytes())
        elif isinstance(reading, BatteryReading):
            self.motor.set_battery_voltage(reading.voltage)
        else:
            return reading
        return None

    def _garbage(self) -> bytes:
        return self._rng.integers(0, 256, GARBAGE_BYTES, dtype=np.uint8).tobytes()

    def take_events(self) -> list[str]:
        events, self.events = self.events, []
        return events

    def close(self) -> None:
        (self.directory / DEVICES_FILE).unlink(missing_ok=True)
        self.motor.stop()
        (self.directory / 'motors').unlink(missing_ok=True)
        self.gnss.unplug()
        self.imu.unplug()
        if self.camera is not None:
            self.camera.close()
