"""The mission file format (config/missions/<name>.yaml) and its validated loader.

A mission is an ordered list of legs, URC autonomy style: drive to a GNSS coordinate (``gnss``),
find and stop near an ArUco post (``post``), drive through a gate of two posts (``gate``), find a
ground object (``object``). Targets are WGS84 latitude/longitude in deg; for post, gate and object
legs the coordinate is approximate and the rover searches within ``search_radius`` m of it.
Distances in m, timeouts in s. The format is documented in docs/missions.md; every error names the
file, the line and the field ('file:line: legs[2].tolerance: must be greater than 0, got -1').

``load_mission`` takes a file path, a shipped mission name ('urc_demo') or the YAML text itself
(the ExecuteMission action carries ``mission_yaml``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rover_stack.common.share_files import (
    MISSIONS_DIR,
    UnknownNameError,
    find_named_file,
    names_a_file,
    share_names,
)
from rover_stack.common.yaml_lines import Fields, FileFieldError, load_yaml_file, load_yaml_text
from rover_stack.geo.enu import Datum, LocalTangentPlane

LEG_KINDS = ('gnss', 'post', 'gate', 'object')
OBJECT_KINDS = ('mallet', 'bottle')
MAX_DATUM_DISTANCE = 20_000.0   # m, a leg farther than this from the datum is a typo in lat/lon
MAX_TIMEOUT = 24 * 3600.0       # s
_COMMON_LEG_KEYS = {'kind', 'name', 'latitude', 'longitude', 'tolerance', 'timeout', 'search_radius'}
_KIND_KEYS = {'gnss': set(), 'post': {'tag_id'}, 'gate': {'left_tag', 'right_tag'}, 'object': {'object'}}
_NAME = re.compile(r'[A-Za-z0-9_\-]+')   # used with fullmatch: no trailing newline


class MissionError(FileFieldError):
    """A mission is missing a field or has an invalid value; str() names file, line and field."""


@dataclass(frozen=True)
class MissionDefaults:
    """Values used by legs that do not set their own."""
    tolerance: float = 3.0          # m, arrival radius of a gnss leg
    post_tolerance: float = 2.0     # m, stop within this distance of a post / of the gate centre line
    object_tolerance: float = 2.0   # m, stop within this distance of an object
    timeout: float = 600.0          # s, per leg
    search_radius: float = 20.0     # m, search area around the approximate target


@dataclass(frozen=True)
class Leg:
    """One leg with its defaults resolved. Exactly the fields of its kind are set (others None)."""
    kind: str                  # one of LEG_KINDS
    name: str                  # unique in the mission; default 'leg<N>_<kind>' (N from 1)
    latitude: float            # deg, target (approximate for post/gate/object)
    longitude: float           # deg
    tolerance: float           # m
    timeout: float             # s
    search_radius: float       # m
    tag_id: int | None = None      # post
    left_tag: int | None = None    # gate
    right_tag: int | None = None   # gate
    object: str | None = None      # object: 'mallet' or 'bottle'

    @property
    def tags(self) -> tuple[int, ...]:
        """Marker ids this leg looks for (empty for gnss and object legs)."""
        if self.kind == 'post':
            return (self.tag_id,)
        if self.kind == 'gate':
            return (self.left_tag, self.right_tag)
        return ()


@dataclass(frozen=True)
class Mission:
    name: str
    datum: Datum
    defaults: MissionDefaults
    legs: tuple[Leg, ...]
    source: str = ''

    def plane(self) -> LocalTangentPlane:
        """The map frame of this mission: ENU at the datum."""
        return self.datum.plane()

    def to_local(self, plane: LocalTangentPlane | None = None) -> list[tuple[float, float]]:
        """Map-frame (x east, y north) in m of each leg's target, in leg order (default: the datum plane)."""
        plane = self.plane() if plane is None else plane
        result = []
        for leg in self.legs:
            east, north, _up = plane.to_enu(leg.latitude, leg.longitude)
            result.append((east, north))
        return result


def _datum(fields: Fields) -> Datum:
    fields.reject_unknown({'latitude', 'longitude', 'altitude'})
    return Datum(fields.number('latitude', minimum=-90.0, maximum=90.0),
                 fields.number('longitude', minimum=-180.0, maximum=180.0),
                 fields.number('altitude', 0.0, minimum=-500.0, maximum=9000.0))


def _defaults(fields: Fields) -> MissionDefaults:
    base = MissionDefaults()
    fields.reject_unknown(set(base.__dataclass_fields__))
    return MissionDefaults(
        tolerance=fields.number('tolerance', base.tolerance, above=0.0),
        post_tolerance=fields.number('post_tolerance', base.post_tolerance, above=0.0),
        object_tolerance=fields.number('object_tolerance', base.object_tolerance, above=0.0),
        timeout=fields.number('timeout', base.timeout, above=0.0, maximum=MAX_TIMEOUT),
        search_radius=fields.number('search_radius', base.search_radius, above=0.0))


def _leg(item: Fields, index: int, defaults: MissionDefaults, plane: LocalTangentPlane) -> Leg:
    kind = item.choice('kind', LEG_KINDS)
    allowed = _COMMON_LEG_KEYS | _KIND_KEYS[kind]
    for key in item.data:
        if key not in allowed:
            other = [k for k, keys in _KIND_KEYS.items() if key in keys]
            hint = f'{key!r} belongs to a {other[0]} leg' if other else 'unknown field'
            raise item.error(key, f'{hint}; a {kind} leg has: {", ".join(sorted(allowed))}')
    name = item.string('name', f'leg{index + 1}_{kind}')
    if not _NAME.fullmatch(name):
        raise item.error('name', f'use letters, digits, "_" and "-" only, got {name!r}')
    latitude = item.number('latitude', minimum=-90.0, maximum=90.0)
    longitude = item.number('longitude', minimum=-180.0, maximum=180.0)
    east, north, _up = plane.to_enu(latitude, longitude)
    distance = (east ** 2 + north ** 2) ** 0.5
    if distance > MAX_DATUM_DISTANCE:
        raise item.error('latitude', f'target is {distance / 1000:.1f} km from the datum (at most '
                                     f'{MAX_DATUM_DISTANCE / 1000:g} km); check latitude/longitude')
    default_tolerance = {'gnss': defaults.tolerance, 'object': defaults.object_tolerance}.get(
        kind, defaults.post_tolerance)
    fields = {}
    if kind == 'post':
        fields['tag_id'] = item.integer('tag_id', minimum=0)
    elif kind == 'gate':
        fields['left_tag'] = item.integer('left_tag', minimum=0)
        fields['right_tag'] = item.integer('right_tag', minimum=0)
        if fields['left_tag'] == fields['right_tag']:
            raise item.error('right_tag', 'a gate needs two different tags')
    elif kind == 'object':
        fields['object'] = item.choice('object', OBJECT_KINDS)
    return Leg(kind=kind, name=name, latitude=latitude, longitude=longitude,
               tolerance=item.number('tolerance', default_tolerance, above=0.0),
               timeout=item.number('timeout', defaults.timeout, above=0.0, maximum=MAX_TIMEOUT),
               search_radius=item.number('search_radius', defaults.search_radius, above=0.0), **fields)


def mission_from_fields(top: Fields) -> Mission:
    """Validate a loaded mission document (a Fields over its top-level mapping)."""
    top.reject_unknown({'name', 'datum', 'defaults', 'legs'})
    name = top.string('name')
    if not _NAME.fullmatch(name):
        raise top.error('name', f'use letters, digits, "_" and "-" only, got {name!r}')
    datum = _datum(top.mapping('datum'))
    defaults = _defaults(top.mapping('defaults', {}))
    plane = datum.plane()
    legs, names = [], {}
    for index, item in enumerate(top.sequence('legs', non_empty=True)):
        leg = _leg(item, index, defaults, plane)
        if leg.name in names:
            raise item.error('name' if item.has('name') else None,
                             f'leg name {leg.name!r} is already used by legs[{names[leg.name]}]')
        names[leg.name] = index
        legs.append(leg)
    return Mission(name, datum, defaults, tuple(legs), top.source)


def _converted(error: FileFieldError) -> MissionError:
    return MissionError(error.path, error.line, error.field_path, error.message)


def mission_from_text(text: str, source: str = '<mission_yaml>') -> Mission:
    """Parse and validate mission YAML text; ``source`` names it in error messages."""
    try:
        document = load_yaml_text(text, source)
    except FileFieldError as error:
        raise _converted(error) from None
    return mission_from_fields(Fields(document, source, error_type=MissionError))


def load_mission_file(path: str | Path) -> Mission:
    try:
        document = load_yaml_file(path)
    except FileFieldError as error:
        raise _converted(error) from None
    return mission_from_fields(Fields(document, str(path), error_type=MissionError))


def find_mission(name_or_path: str | Path) -> Path:
    """A shipped mission name ('urc_demo') -> config/missions/urc_demo.yaml (share or source tree); a
    path (with a '/' or ending in .yaml) as given: the rule of ``common.share_files.find_named_file``."""
    try:
        return find_named_file(name_or_path, MISSIONS_DIR, 'mission')
    except UnknownNameError as error:
        raise MissionError(str(name_or_path), 0, '', str(error)) from None


def list_missions() -> list[str]:
    return share_names(MISSIONS_DIR)


def load_mission(path_or_text: str | Path) -> Mission:
    """A mission argument: a path (``names_a_file``) or a shipped name -> that file (``find_mission``);
    any other str (several lines, or a flow mapping) -> the YAML text itself."""
    text = str(path_or_text)
    single_line = '\n' not in text.strip() and not text.lstrip().startswith('{')
    if (single_line and names_a_file(path_or_text)) or _NAME.fullmatch(text.strip()):
        return load_mission_file(find_mission(path_or_text))
    return mission_from_text(text)
