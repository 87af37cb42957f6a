"""A generic IMU line protocol over serial (NMEA-style framing), and its parser (pure).

One line per sample, ASCII, ``$<body>*HH\\r\\n`` with the NMEA XOR checksum (rover_stack.drivers.nmea)::

    $IMU,<seq>,<qw>,<qx>,<qy>,<qz>,<gx>,<gy>,<gz>,<ax>,<ay>,<az>*HH

* ``seq``: sample counter 0..65535 (wraps); a gap means lost samples (counted by the driver).
* ``qw..qz``: orientation of the IMU frame in the ENU world frame (REP-145), a unit quaternion, or
  four empty fields when the IMU has no orientation (e.g. a bare gyro + accelerometer).
* ``gx..gz``: angular velocity, rad/s, IMU frame.
* ``ax..az``: linear acceleration including gravity, m/s^2, IMU frame (+9.81 on z when level).

Any microcontroller (e.g. reading a BNO055 in fusion mode, or an ICM-20948) can print this; the
format is in docs/drivers.md. A sample is refused whole (ImuFormatError) when the checksum, field count
or a number is wrong, a value is not finite, the quaternion is not of unit length (tolerance
QUAT_TOLERANCE) or a value exceeds the contract's full scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rover_stack.drivers.nmea import NmeaError, split_sentence, with_checksum

SENTENCE = 'IMU'
QUAT_TOLERANCE = 0.05      # |1 - |q|| above this: not an orientation
MAX_ANGULAR_VELOCITY = 35.0    # rad/s, the contract's range check
MAX_ACCELERATION = 160.0       # m/s^2


class ImuFormatError(NmeaError):
    """A line that is not a valid IMU sample."""


@dataclass(frozen=True)
class ImuSample:
    seq: int
    orientation: tuple[float, float, float, float] | None   # (w, x, y, z), normalised; None if absent
    angular_velocity: tuple[float, float, float]            # rad/s
    linear_acceleration: tuple[float, float, float]         # m/s^2


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ImuFormatError(f'{text!r} is not a number') from None
    if not math.isfinite(value):
        raise ImuFormatError(f'{text!r} is not finite')
    return value


def parse_imu_line(line: str) -> ImuSample | None:
    """The sample of a ``$IMU`` line; None for other valid sentences; ImuFormatError when invalid."""
    try:
        fields = split_sentence(line)
    except NmeaError as error:
        raise ImuFormatError(str(error)) from None
    if fields[0] != SENTENCE:
        return None
    if len(fields) != 12:
        raise ImuFormatError(f'IMU sample has {len(fields) - 1} fields, expected 11')
    try:
        seq = int(fields[1])
    except ValueError:
        raise ImuFormatError(f'sequence {fields[1]!r} is not an integer') from None
    if not 0 <= seq <= 0xFFFF:
        raise ImuFormatError(f'sequence {seq} outside 0..65535')
    orientation = None
    if any(fields[2:6]):
        w, x, y, z = (_number(t) for t in fields[2:6])
        norm = math.sqrt(w * w + x * x + y * y + z * z)
        if abs(norm - 1.0) > QUAT_TOLERANCE:
            raise ImuFormatError(f'quaternion norm {norm:.3f} is not 1')
        orientation = (w / norm, x / norm, y / norm, z / norm)
    gyro = tuple(_number(t) for t in fields[6:9])
    accel = tuple(_number(t) for t in fields[9:12])
    if max(abs(v) for v in gyro) > MAX_ANGULAR_VELOCITY:
        raise ImuFormatError(f'angular velocity {gyro} beyond {MAX_ANGULAR_VELOCITY} rad/s')
    if max(abs(v) for v in accel) > MAX_ACCELERATION:
        raise ImuFormatError(f'acceleration {accel} beyond {MAX_ACCELERATION} m/s^2')
    return ImuSample(seq, orientation, gyro, accel)  # type: ignore[arg-type]


def format_imu_line(sample: ImuSample) -> str:
    """The line for ``sample`` (used by tests and by firmware authors as the reference)."""
    quat = ',,,' if sample.orientation is None else ','.join(f'{v:.6f}' for v in sample.orientation)
    values = ','.join(f'{v:.5f}' for v in (*sample.angular_velocity, *sample.linear_acceleration))
    return with_checksum(f'{SENTENCE},{sample.seq},{quat},{values}')


def lost_samples(previous: int | None, seq: int) -> int:
    """Samples missing between two sequence numbers (mod 65536); 0 for the first sample."""
    if previous is None:
        return 0
    return (seq - previous - 1) % 0x10000
