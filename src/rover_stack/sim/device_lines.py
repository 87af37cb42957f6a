"""What the emulated serial devices print: NMEA 0183 epochs of a GNSS receiver and ``$IMU`` lines. Pure.

The counterparts of the drivers' parsers (rover_stack.drivers.gnss_nmea, imu_serial): checksums come
from drivers/nmea.py and the IMU line from imu_serial.format_imu_line, so a change of the protocol on
one side shows on the other. Angles in degrees (NMEA) or rad, lengths in m, times in s.
"""
from __future__ import annotations

import math
import time

from rover_stack.drivers.imu_serial import ImuSample, format_imu_line
from rover_stack.drivers.nmea import with_checksum

SATELLITES = 10        # reported in GGA
HDOP = 0.9             # reported in GGA (the covariance comes from GST)
LINE_END = '\r\n'


def _utc(seconds: float) -> tuple[str, str]:
    """(hhmmss.ss, ddmmyy) of the UTC epoch time ``seconds``."""
    whole = time.gmtime(math.floor(seconds))
    hundredths = round((seconds - math.floor(seconds)) * 100.0) % 100
    return (f'{whole.tm_hour:02d}{whole.tm_min:02d}{whole.tm_sec:02d}.{hundredths:02d}',
            f'{whole.tm_mday:02d}{whole.tm_mon:02d}{whole.tm_year % 100:02d}')


def _latitude(value: float) -> tuple[str, str]:
    degrees = abs(value)
    whole = int(degrees)
    return f'{whole:02d}{(degrees - whole) * 60.0:010.7f}', 'N' if value >= 0.0 else 'S'


def _longitude(value: float) -> tuple[str, str]:
    degrees = abs(value)
    whole = int(degrees)
    return f'{whole:03d}{(degrees - whole) * 60.0:010.7f}', 'E' if value >= 0.0 else 'W'


def gnss_epoch(utc: float, fix: bool, *, latitude: float, longitude: float, altitude: float,
               sigma_horizontal: float, sigma_vertical: float, talker: str = 'GN') -> list[str]:
    """The sentences of one receiver epoch, GST first (so the GGA after it uses this epoch's sigmas), then
    GGA and RMC, each with its checksum and CR LF. ``utc`` s since the epoch; degrees (WGS 84); altitude m
    above the ellipsoid (reported as MSL + geoid separation 0); sigmas m (1 sigma). Without a fix: quality
    0, empty position, RMC status V."""
    clock, date = _utc(utc)
    if fix:
        lat, ns = _latitude(latitude)
        lon, ew = _longitude(longitude)
        gga = (f'{talker}GGA,{clock},{lat},{ns},{lon},{ew},1,{SATELLITES:02d},{HDOP:.1f},{altitude:.3f},M,'
               f'0.000,M,,')
        rmc = f'{talker}RMC,{clock},A,{lat},{ns},{lon},{ew},0.00,0.00,{date},,,A'
        sigma = f'{sigma_horizontal:.3f}'
        gst = f'{talker}GST,{clock},{sigma},{sigma},{sigma},0.0,{sigma},{sigma},{sigma_vertical:.3f}'
        sentences = [gst, gga, rmc]
    else:
        sentences = [f'{talker}GGA,{clock},,,,,0,00,,,M,,M,,', f'{talker}RMC,{clock},V,,,,,,,{date},,,N']
    return [with_checksum(body) + LINE_END for body in sentences]


def imu_line(seq: int, orientation_xyzw, angular_velocity, linear_acceleration) -> str:
    """The ``$IMU`` line (with CR LF) of one sample: orientation (x, y, z, w) of the IMU frame in ENU or
    None, angular velocity rad/s and acceleration m/s^2 (gravity included) in the IMU frame."""
    orientation = None
    if orientation_xyzw is not None:
        x, y, z, w = orientation_xyzw
        orientation = (w, x, y, z)
    sample = ImuSample(seq % 0x10000, orientation, tuple(angular_velocity), tuple(linear_acceleration))
    return format_imu_line(sample) + LINE_END
