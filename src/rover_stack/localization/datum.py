"""The map datum (origin of map: x east, y north) and GNSS fix checks. Pure Python, no ROS.

The datum comes from one of three sources (``DATUM_SOURCES``):

* ``parameter``: latitude/longitude/altitude given to the node,
* ``file``: a mission/course YAML file with a ``datum:`` mapping (``latitude``, ``longitude`` in
  deg, optional ``altitude`` in m; ``lat``/``lon``/``alt`` also accepted), at the top level or under
  ``course:`` / ``mission:``. The same file may list ``markers:`` (see ``landmarks_from_file``),
* ``first_fix``: the first good GNSS fix (what navsat_transform does by default).

Conversions use ``rover_stack.geo.LocalTangentPlane`` (exact ENU on the WGS84 ellipsoid).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from rover_stack.geo import Datum, LocalTangentPlane, check_lat_lon

DATUM_SOURCES = ('parameter', 'file', 'first_fix')

# sensor_msgs/NavSatStatus and NavSatFix constants (kept here so this module needs no ROS).
STATUS_NO_FIX = -1
COVARIANCE_TYPE_UNKNOWN = 0


class DatumError(ValueError):
    """A datum or a course file that cannot be used."""


def _number(mapping: dict, keys: tuple[str, ...], source: str, default: float | None = None) -> float:
    for key in keys:
        if key in mapping:
            try:
                return float(mapping[key])
            except (TypeError, ValueError):
                raise DatumError(f'{source}: {key} must be a number, got {mapping[key]!r}') from None
    if default is None:
        raise DatumError(f'{source}: missing {keys[0]}')
    return default


def _section(document, source: str) -> dict:
    if not isinstance(document, dict):
        raise DatumError(f'{source}: expected a YAML mapping')
    for key in ('course', 'mission'):
        if isinstance(document.get(key), dict):
            return document[key]
    return document


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        return _section(yaml.safe_load(path.read_text()), str(path))
    except OSError as error:
        raise DatumError(f'{path}: cannot read: {error.strerror}') from None
    except yaml.YAMLError as error:
        raise DatumError(f'{path}: not valid YAML: {error}') from None


def make_datum(latitude: float, longitude: float, altitude: float = 0.0, source: str = 'datum') -> Datum:
    """A checked Datum; DatumError for non-finite or out-of-range values."""
    try:
        check_lat_lon(latitude, longitude)
    except ValueError as error:
        raise DatumError(f'{source}: {error}') from None
    if not math.isfinite(altitude):
        raise DatumError(f'{source}: altitude must be finite, got {altitude}')
    return Datum(float(latitude), float(longitude), float(altitude))


def datum_from_file(path: str | Path) -> Datum:
    """The ``datum:`` of a mission/course file."""
    section = load_yaml(path)
    datum = section.get('datum')
    if not isinstance(datum, dict):
        raise DatumError(f'{path}: no "datum:" mapping with latitude and longitude')
    return make_datum(_number(datum, ('latitude', 'lat'), str(path)),
                      _number(datum, ('longitude', 'lon'), str(path)),
                      _number(datum, ('altitude', 'alt'), str(path), 0.0), str(path))


def landmarks_from_file(path: str | Path, plane: LocalTangentPlane | None) -> dict[int, tuple[float, float]]:
    """Known marker positions {id: (x, y) in m, map frame} from a file's ``markers:`` and ``posts:``
    lists (sim/courses use ``posts:`` with ``tag_id``; the post centre stands in for its faces).

    Each entry has ``id`` (or ``tag_id``) and either ``x``, ``y`` (m, map frame) or ``latitude``,
    ``longitude`` (deg; converted through ``plane``, which is then required).
    """
    section = load_yaml(path)
    markers = []
    for key in ('markers', 'posts'):
        entries = section.get(key) or []
        if not isinstance(entries, list):
            raise DatumError(f'{path}: "{key}" must be a list')
        markers.extend(entries)
    out = {}
    for raw in markers:
        entry = {**raw, 'id': raw['tag_id']} if isinstance(raw, dict) and 'tag_id' in raw else raw
        if not isinstance(entry, dict) or 'id' not in entry:
            raise DatumError(f'{path}: each marker needs an "id", got {entry!r}')
        if 'x' in entry:
            xy = (_number(entry, ('x',), str(path)), _number(entry, ('y',), str(path)))
        else:
            if plane is None:
                raise DatumError(f'{path}: marker {entry["id"]} is given in lat/lon but there is no datum')
            e, n, _ = plane.to_enu(_number(entry, ('latitude', 'lat'), str(path)),
                                   _number(entry, ('longitude', 'lon'), str(path)))
            xy = (float(e), float(n))
        if not all(math.isfinite(v) for v in xy):
            raise DatumError(f'{path}: marker {entry["id"]} position is not finite')
        out[int(entry['id'])] = xy
    return out


def landmarks_from_list(values) -> dict[int, tuple[float, float]]:
    """Known markers from a flat list [id, x, y, id, x, y, ...] (m, map frame)."""
    values = list(values)
    if len(values) % 3:
        raise DatumError(f'marker list needs triples id, x, y; got {len(values)} numbers')
    out = {}
    for i in range(0, len(values), 3):
        marker_id, x, y = values[i:i + 3]
        if not (math.isfinite(x) and math.isfinite(y)) or float(marker_id) != int(marker_id):
            raise DatumError(f'marker entry {values[i:i + 3]} is not (integer id, finite x, finite y)')
        out[int(marker_id)] = (float(x), float(y))
    return out


def fix_problem(status: int, latitude: float, longitude: float) -> str | None:
    """Why a NavSatFix cannot be used ('no_fix', 'nan', 'out_of_range'), or None."""
    if status <= STATUS_NO_FIX:
        return 'no_fix'
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return 'nan'
    if abs(latitude) > 90.0 or abs(longitude) > 180.0:
        return 'out_of_range'
    return None


def fix_covariance(covariance, covariance_type: int, default_variance: float, min_variance: float,
                   max_variance: float) -> tuple[np.ndarray | None, str | None]:
    """The 2x2 east/north covariance (m^2) to use for a fix: (matrix, None) or (None, reason).

    NavSatFix ``position_covariance`` is row-major 3x3 in ENU. Unknown type -> the default
    variance on both axes. A known covariance is used when finite, symmetric-ish and positive
    definite; its variances are floored at ``min_variance``. A fix claiming variance above
    ``max_variance`` is refused ('poor_fix'); a malformed one ('bad_covariance').
    """
    if covariance_type == COVARIANCE_TYPE_UNKNOWN:
        return np.eye(2) * default_variance, None
    matrix = np.asarray(covariance, dtype=float)
    if matrix.size != 9 or not np.all(np.isfinite(matrix)):
        return None, 'bad_covariance'
    block = matrix.reshape(3, 3)[:2, :2]
    block = 0.5 * (block + block.T)
    if block[0, 0] <= 0.0 or block[1, 1] <= 0.0 or np.linalg.det(block) <= 0.0:
        return None, 'bad_covariance'
    if max(block[0, 0], block[1, 1]) > max_variance:
        return None, 'poor_fix'
    for i in range(2):
        block[i, i] = max(block[i, i], min_variance)
    return block, None


class DatumKeeper:
    """Holds the datum (once known) and converts geodetic <-> map."""

    def __init__(self, datum: Datum | None = None):
        self.datum: Datum | None = None
        self.plane: LocalTangentPlane | None = None
        if datum is not None:
            self.set(datum)

    @property
    def known(self) -> bool:
        return self.plane is not None

    def set(self, datum: Datum) -> None:
        self.datum = datum
        self.plane = datum.plane()

    def set_from_fix(self, latitude: float, longitude: float, altitude: float) -> Datum:
        """Use a fix as the datum (a NaN altitude becomes 0 m)."""
        datum = make_datum(latitude, longitude, altitude if math.isfinite(altitude) else 0.0, 'first fix')
        self.set(datum)
        return datum

    def to_map(self, latitude: float, longitude: float, altitude: float | None = None) -> tuple[float, ...]:
        """(x east, y north, z up) in m; altitude None or NaN -> z from the datum altitude (z = 0).
        ValueError without a datum or for bad input."""
        if self.plane is None:
            raise ValueError('no datum yet')
        if altitude is not None and not math.isfinite(altitude):
            altitude = None
        e, n, u = self.plane.to_enu(latitude, longitude, altitude)
        return float(e), float(n), float(u)

    def to_ll(self, x: float, y: float, z: float = 0.0) -> tuple[float, float, float]:
        """(latitude deg, longitude deg, altitude m) of a map point; ValueError without a datum."""
        if self.plane is None:
            raise ValueError('no datum yet')
        lat, lon, alt = self.plane.to_geodetic(x, y, z)
        return float(lat), float(lon), float(alt)
