"""WGS84 geodetic <-> local East-North-Up coordinates around a datum.

The map frame of the stack is the local tangent plane at the course/mission datum (REP-105 map,
ENU): x = east, y = north, z = up, in metres. Conversions go through Earth-centred Earth-fixed
coordinates with pyproj (geodetic EPSG:4979 <-> ECEF EPSG:4978), then the ENU rotation at the
datum, so they are exact on the ellipsoid (no flat-earth approximation). Latitude and longitude in
degrees, altitude in metres above the WGS84 ellipsoid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Transformer

# Created once: pyproj transformers are costly to build and safe to reuse in one thread.
_TO_ECEF = Transformer.from_crs('EPSG:4979', 'EPSG:4978', always_xy=True)
_TO_GEODETIC = Transformer.from_crs('EPSG:4978', 'EPSG:4979', always_xy=True)


def check_lat_lon(latitude, longitude) -> None:
    """Raise ValueError unless every latitude is in [-90, 90] and every longitude in [-180, 180] deg."""
    lat = np.asarray(latitude, dtype=float)
    lon = np.asarray(longitude, dtype=float)
    if not np.all(np.isfinite(lat)) or np.any(np.abs(lat) > 90.0):
        raise ValueError(f'latitude must be a finite number in [-90, 90] deg, got {latitude!r}')
    if not np.all(np.isfinite(lon)) or np.any(np.abs(lon) > 180.0):
        raise ValueError(f'longitude must be a finite number in [-180, 180] deg, got {longitude!r}')


def _check_finite(value, what: str) -> None:
    if not np.all(np.isfinite(np.asarray(value, dtype=float))):
        raise ValueError(f'{what} must be finite, got {value!r}')


def _out(value):
    """numpy scalar or 0-d array -> float; arrays unchanged."""
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


class LocalTangentPlane:
    """ENU plane tangent to the WGS84 ellipsoid at (lat0, lon0, alt0).

    ``to_enu`` and ``to_geodetic`` accept floats or numpy arrays (broadcast together) and return
    floats or arrays accordingly.
    """

    def __init__(self, lat0: float, lon0: float, alt0: float = 0.0):
        check_lat_lon(lat0, lon0)
        _check_finite(alt0, 'altitude')
        self.lat0, self.lon0, self.alt0 = float(lat0), float(lon0), float(alt0)
        self._origin = np.array(_TO_ECEF.transform(self.lon0, self.lat0, self.alt0), dtype=float)
        phi, lam = math.radians(self.lat0), math.radians(self.lon0)
        sp, cp, sl, cl = math.sin(phi), math.cos(phi), math.sin(lam), math.cos(lam)
        # Rows: east, north, up unit vectors expressed in ECEF.
        self._rotation = np.array([
            [-sl, cl, 0.0],
            [-sp * cl, -sp * sl, cp],
            [cp * cl, cp * sl, sp],
        ])

    def __repr__(self) -> str:
        return f'LocalTangentPlane({self.lat0!r}, {self.lon0!r}, {self.alt0!r})'

    def to_enu(self, lat, lon, alt=None):
        """Geodetic (deg, deg, m) -> (east, north, up) in m. ``alt=None`` means the datum altitude."""
        check_lat_lon(lat, lon)
        alt = self.alt0 if alt is None else alt
        _check_finite(alt, 'altitude')
        lat, lon, alt = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float),
                                            np.asarray(alt, float))
        x, y, z = _TO_ECEF.transform(lon, lat, alt)
        delta = np.stack([np.asarray(x) - self._origin[0], np.asarray(y) - self._origin[1],
                          np.asarray(z) - self._origin[2]])
        east, north, up = np.tensordot(self._rotation, delta, axes=1)
        return _out(east), _out(north), _out(up)

    def to_geodetic(self, east, north, up=0.0):
        """(east, north, up) in m -> geodetic (latitude deg, longitude deg, altitude m)."""
        for value, what in ((east, 'east'), (north, 'north'), (up, 'up')):
            _check_finite(value, what)
        east, north, up = np.broadcast_arrays(np.asarray(east, float), np.asarray(north, float),
                                              np.asarray(up, float))
        delta = np.tensordot(self._rotation.T, np.stack([east, north, up]), axes=1)
        lon, lat, alt = _TO_GEODETIC.transform(delta[0] + self._origin[0], delta[1] + self._origin[1],
                                               delta[2] + self._origin[2])
        return _out(lat), _out(lon), _out(alt)


@dataclass(frozen=True)
class Datum:
    """Origin of the map frame: latitude, longitude in deg (WGS84), altitude in m above the ellipsoid."""
    latitude: float
    longitude: float
    altitude: float = 0.0

    def plane(self) -> LocalTangentPlane:
        return LocalTangentPlane(self.latitude, self.longitude, self.altitude)
