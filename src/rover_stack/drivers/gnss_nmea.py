"""GNSS receiver over NMEA 0183: GGA, RMC and GST sentences -> fixes in NavSatFix terms (pure).

* GGA (every epoch) gives position, fix quality, HDOP and altitude: ellipsoid height (WGS 84, what
  NavSatFix wants) = MSL altitude + geoid separation.
* GST gives the 1-sigma errors of latitude, longitude and altitude (m). When a GST at most
  GST_MAX_AGE s (UTC time of day) from the GGA has arrived (the same epoch when the receiver sends GST
  first, the previous one when it sends GGA first), the covariance is
  diag(sigma_lon^2, sigma_lat^2, sigma_alt^2) in ENU order (east, north, up), type DIAGONAL_KNOWN;
  otherwise (HDOP * UERE)^2 horizontally and (VDOP_FACTOR * HDOP * UERE)^2 vertically, type
  APPROXIMATED. Without either: UNKNOWN.
* RMC is used only from receivers that send no GGA (position, A/V status; altitude unknown).

Fix quality -> NavSatStatus: 0 invalid, 6 dead reckoning, 7 manual, 8 simulation -> NO_FIX (-1);
1 GPS, 3 PPS -> FIX (0); 2 DGPS, 9 WAAS -> SBAS_FIX (1); 4 RTK fixed, 5 RTK float -> GBAS_FIX (2).
A fix without a usable position is always NO_FIX, with NaN latitude/longitude/altitude.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rover_stack.drivers.nmea import NmeaError, split_sentence

NO_FIX, FIX, SBAS_FIX, GBAS_FIX = -1, 0, 1, 2
COV_UNKNOWN, COV_APPROXIMATED, COV_DIAGONAL_KNOWN = 0, 1, 2
QUALITY_STATUS = {1: FIX, 3: FIX, 2: SBAS_FIX, 9: SBAS_FIX, 4: GBAS_FIX, 5: GBAS_FIX}
VDOP_FACTOR = 2.0       # vertical error ~ twice the horizontal one when only HDOP is known
GST_MAX_AGE = 1.0       # s between the UTC times of a GST and the GGA it applies to
GGA_SILENCE = 2.0       # s; RMC is used for fixes only when no GGA came for this long


@dataclass(frozen=True)
class Fix:
    """One GNSS epoch: degrees (WGS 84), m above the ellipsoid, covariance m^2 (ENU diagonal)."""
    status: int
    latitude: float
    longitude: float
    altitude: float
    covariance: tuple[float, float, float]      # east, north, up variances (m^2); 0 when unknown
    covariance_type: int
    satellites: int = 0
    hdop: float = math.nan


@dataclass(frozen=True)
class Gga:
    time: str
    latitude: float
    longitude: float
    quality: int
    satellites: int
    hdop: float
    altitude: float      # m above the ellipsoid (NaN if unknown)


@dataclass(frozen=True)
class Rmc:
    time: str
    valid: bool
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Gst:
    time: str
    sigma_lat: float     # m
    sigma_lon: float     # m
    sigma_alt: float     # m


def _float(text: str) -> float:
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise NmeaError(f'{text!r} is not a number') from None


def _angle(value: str, hemisphere: str, degree_digits: int) -> float:
    """ddmm.mmmm / dddmm.mmmm + N/S/E/W -> signed degrees; NaN when empty."""
    if not value or not hemisphere:
        return math.nan
    try:
        degrees = int(value[:degree_digits])
        minutes = float(value[degree_digits:])
    except ValueError:
        raise NmeaError(f'bad coordinate {value!r}') from None
    if not 0.0 <= minutes < 60.0 or hemisphere not in 'NSEW':
        raise NmeaError(f'bad coordinate {value!r} {hemisphere!r}')
    sign = -1.0 if hemisphere in 'SW' else 1.0
    result = sign * (degrees + minutes / 60.0)
    limit = 90.0 if hemisphere in 'NS' else 180.0
    if abs(result) > limit:
        raise NmeaError(f'coordinate {result} out of range')
    return result


def seconds_of_day(text: str) -> float:
    """hhmmss.ss -> s since midnight UTC; NaN when empty or malformed."""
    try:
        return int(text[0:2]) * 3600 + int(text[2:4]) * 60 + float(text[4:])
    except ValueError:
        return math.nan


def _fields(fields: list[str], count: int, kind: str) -> list[str]:
    if len(fields) < count:
        raise NmeaError(f'{kind} has {len(fields)} fields, expected at least {count}')
    return fields


def parse_gga(fields: list[str]) -> Gga:
    f = _fields(fields, 15, 'GGA')
    try:
        quality = int(f[6]) if f[6] else 0
        satellites = int(f[7]) if f[7] else 0
    except ValueError:
        raise NmeaError(f'GGA quality/satellites {f[6]!r}/{f[7]!r} are not integers') from None
    msl, separation = _float(f[9]), _float(f[11])
    altitude = msl + (separation if math.isfinite(separation) else 0.0)
    return Gga(f[1], _angle(f[2], f[3], 2), _angle(f[4], f[5], 3), quality, satellites, _float(f[8]),
               altitude)


def parse_rmc(fields: list[str]) -> Rmc:
    f = _fields(fields, 10, 'RMC')
    return Rmc(f[1], f[2] == 'A', _angle(f[3], f[4], 2), _angle(f[5], f[6], 3))


def parse_gst(fields: list[str]) -> Gst:
    f = _fields(fields, 9, 'GST')
    return Gst(f[1], _float(f[6]), _float(f[7]), _float(f[8]))


PARSERS = {'GGA': parse_gga, 'RMC': parse_rmc, 'GST': parse_gst}


def parse_line(line: str) -> Gga | Rmc | Gst | None:
    """The parsed sentence; None for valid sentences of other kinds; NmeaError when invalid."""
    fields = split_sentence(line)
    kind = fields[0][2:] if len(fields[0]) == 5 else ''
    parser = PARSERS.get(kind)
    return parser(fields) if parser else None


def _has_position(sentence: Gga | Rmc) -> bool:
    return math.isfinite(sentence.latitude) and math.isfinite(sentence.longitude)


class FixAssembler:
    """Turns sentences into fixes; ``uere`` = user-equivalent range error (m, 1 sigma)."""

    def __init__(self, uere: float = 3.0):
        if not uere > 0.0:
            raise ValueError('uere must be positive')
        self.uere = uere
        self._gst: Gst | None = None
        self._last_gga_time: float | None = None

    def _no_fix(self) -> Fix:
        return Fix(NO_FIX, math.nan, math.nan, math.nan, (0.0, 0.0, 0.0), COV_UNKNOWN)

    def _covariance(self, time: str, hdop: float) -> tuple[tuple[float, float, float], int]:
        gst = self._gst
        age = abs(seconds_of_day(time) - seconds_of_day(gst.time)) if gst is not None else math.nan
        age = min(age, 86400.0 - age)   # across midnight
        if gst is not None and age <= GST_MAX_AGE and all(
                math.isfinite(s) and s > 0.0 for s in (gst.sigma_lat, gst.sigma_lon, gst.sigma_alt)):
            return (gst.sigma_lon ** 2, gst.sigma_lat ** 2, gst.sigma_alt ** 2), COV_DIAGONAL_KNOWN
        if math.isfinite(hdop) and hdop > 0.0:
            horizontal = (hdop * self.uere) ** 2
            return (horizontal, horizontal, VDOP_FACTOR ** 2 * horizontal), COV_APPROXIMATED
        return (0.0, 0.0, 0.0), COV_UNKNOWN

    def on_sentence(self, sentence: Gga | Rmc | Gst | None, now: float) -> Fix | None:
        """A fix to publish for this sentence (GGA, or RMC from a receiver without GGA), else None.
        """
        if isinstance(sentence, Gst):
            self._gst = sentence
            return None
        if isinstance(sentence, Gga):
            self._last_gga_time = now
            status = QUALITY_STATUS.get(sentence.quality, NO_FIX)
            if status == NO_FIX or not _has_position(sentence):
                return self._no_fix()
            covariance, kind = self._covariance(sentence.time, sentence.hdop)
            return Fix(status, sentence.latitude, sentence.longitude, sentence.altitude, covariance, kind,
                       sentence.satellites, sentence.hdop)
        if isinstance(sentence, Rmc):
            if self._last_gga_time is not None and now - self._last_gga_time < GGA_SILENCE:
                return None
            if not sentence.valid or not _has_position(sentence):
                return self._no_fix()
            return Fix(FIX, sentence.latitude, sentence.longitude, math.nan, (0.0, 0.0, 0.0), COV_UNKNOWN)
        return None
