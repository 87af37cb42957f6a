"""Simulated competition courses: the world file format (sim/courses/<name>.yaml) and its loader.

A course is a terrain (hills + roughness), rocks, ArUco marker posts, gates made of two posts,
ground objects (mallet, bottle), the rover start pose and the datum tying the map frame to WGS84.
Positions are map-frame metres relative to the datum (x east, y north, REP-105 map ENU); yaw in
rad counter-clockwise from east. Heights come from the terrain. The format is documented in
docs/courses.md; ``load_course`` validates every field and raises CourseError
('file:line: field: message').
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from rover_stack.common.share_files import (
    COURSES_DIR,
    UnknownNameError,
    find_named_file,
    share_names,
    share_path,
)
from rover_stack.common.yaml_lines import Fields, FileFieldError, load_yaml_file
from rover_stack.geo.enu import Datum
from rover_stack.sim.markers import DEFAULT_DICTIONARY, dictionary_size
from rover_stack.sim.terrain import Hill, TerrainSpec

DIFFICULTIES = ('easy', 'medium', 'hard')
OBJECT_KINDS = ('mallet', 'bottle')
FACE_COUNTS = (3, 4)

EDGE_MARGIN = 5.0             # m, posts, objects, rocks and the start stay this far inside the terrain
ROCK_CLEARANCE = 1.0          # m, free space between a rock's edge and a post, object or gate line
START_CLEARANCE = 1.5         # m, free space between a rock's edge (or a post/object) and the start
GATE_WIDTH_RANGE = (1.5, 4.0)  # m, distance between the two posts of a gate
_NAME = re.compile(r'[A-Za-z0-9_\-]+')   # used with fullmatch: no trailing newline


class CourseError(FileFieldError):
    """A course file is missing a field or has an invalid value; str() names file, line, field."""


class UnknownCourseError(UnknownNameError):
    """No course of that name is shipped."""


@dataclass(frozen=True)
class Rock:
    """A rock resting on the terrain: centre (x, y) in m, radius in m."""
    x: float
    y: float
    radius: float


@dataclass(frozen=True)
class Post:
    """A square post carrying the same ArUco marker on each of its ``faces`` sides, facing outward.

    (x, y) in m; marker_size = side of the black marker square in m; height = height of the marker
    centre above the ground in m. With 3 faces the side facing south (-y) is left bare.
    """
    tag_id: int
    x: float
    y: float
    marker_size: float = 0.20
    height: float = 0.9
    faces: int = 4


@dataclass(frozen=True)
class Gate:
    """Two posts (named by tag id, both in Course.posts) the rover must drive between."""
    left_tag: int
    right_tag: int


@dataclass(frozen=True)
class GroundObject:
    """An object lying on the ground: kind in OBJECT_KINDS, (x, y) in m, yaw in rad."""
    kind: str
    x: float
    y: float
    yaw: float = 0.0


@dataclass(frozen=True)
class Waypoint:
    """A named GNSS waypoint of the course (x, y in m), drawn as a flag; missions target it by name."""
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class Course:
    """A validated course; see docs/courses.md."""
    name: str
    description: str
    difficulty: str
    datum: Datum
    terrain: TerrainSpec
    start_x: float
    start_y: float
    start_yaw: float
    rocks: tuple[Rock, ...]
    posts: tuple[Post, ...]
    gates: tuple[Gate, ...]
    objects: tuple[GroundObject, ...]
    dictionary: str = DEFAULT_DICTIONARY
    mission_file: str = ''      # relative to the repo / share root, '' if none
    source: str = ''            # file the course was loaded from
    waypoints: tuple[Waypoint, ...] = ()

    def post(self, tag_id: int) -> Post:
        """The post carrying ``tag_id`` (KeyError if none)."""
        for post in self.posts:
            if post.tag_id == tag_id:
                return post
        raise KeyError(f'course {self.name!r} has no post with tag {tag_id}')

    def gate_centre(self, gate: Gate) -> tuple[float, float]:
        left, right = self.post(gate.left_tag), self.post(gate.right_tag)
        return (left.x + right.x) / 2.0, (left.y + right.y) / 2.0

    def mission_path(self) -> Path | None:
        """Absolute path of the course's mission file, or None."""
        return share_path(self.mission_file) if self.mission_file else None


# -- field readers ---------------------------------------------------------------------------------

def _datum(fields: Fields) -> Datum:
    fields.reject_unknown({'latitude', 'longitude', 'altitude'})
    return Datum(fields.number('latitude', minimum=-90.0, maximum=90.0),
                 fields.number('longitude', minimum=-180.0, maximum=180.0),
                 fields.number('altitude', 0.0, minimum=-500.0, maximum=9000.0))


def _terrain(fields: Fields) -> TerrainSpec:
    fields.reject_unknown({'size_x', 'size_y', 'resolution', 'max_height', 'roughness', 'seed', 'hills'})
    size_x = fields.number('size_x', minimum=10.0, maximum=1000.0)
    size_y = fields.number('size_y', minimum=10.0, maximum=1000.0)
    resolution = fields.integer('resolution', 128, minimum=32, maximum=512)
    max_height = fields.number('max_height', above=0.0, maximum=100.0)
    roughness = fields.number('roughness', 0.0, minimum=0.0, maximum=1.0)
    seed = fields.integer('seed', 0, minimum=0)
    hills = []
    for item in fields.sequence('hills', []):
        item.reject_unknown({'x', 'y', 'radius', 'height'})
        hill = Hill(item.number('x'), item.number('y'), item.number('radius', above=0.0),
                    item.number('height', minimum=-max_height, maximum=max_height))
        if not (abs(hill.x) <= size_x / 2 and abs(hill.y) <= size_y / 2):
            raise item.error('x', f'hill centre ({hill.x:g}, {hill.y:g}) is outside the terrain '
                                  f'(+-{size_x / 2:g}, +-{size_y / 2:g} m)')
        hills.append(hill)
    return TerrainSpec(size_x, size_y, resolution, max_height, roughness, seed, tuple(hills))


def _inside(item: Fields, terrain: TerrainSpec, x: float, y: float, what: str) -> None:
    if not terrain.contains(x, y, EDGE_MARGIN):
        raise item.error('x', f'{what} at ({x:g}, {y:g}) must be at least {EDGE_MARGIN:g} m inside the '
                              f'terrain (|x| <= {terrain.half_x - EDGE_MARGIN:g}, '
                              f'|y| <= {terrain.half_y - EDGE_MARGIN:g})')


def _posts(fields: Fields, terrain: TerrainSpec, n_ids: int, dictionary: str) -> tuple[Post, ...]:
    posts = []
    for item in fields.sequence('posts', []):
        item.reject_unknown({'tag_id', 'x', 'y', 'marker_size', 'height', 'faces'})
        tag_id = item.integer('tag_id', minimum=0)
        if tag_id >= n_ids:
            raise item.error('tag_id', f'{dictionary} has ids 0..{n_ids - 1}, got {tag_id}')
        if any(p.tag_id == tag_id for p in posts):
            raise item.error('tag_id', f'tag id {tag_id} is used by another post')
        faces = item.integer('faces', 4)
        if faces not in FACE_COUNTS:
            raise item.error('faces', f'must be 3 or 4, got {faces}')
        post = Post(tag_id, item.number('x'), item.number('y'),
                    item.number('marker_size', 0.20, minimum=0.05, maximum=1.0),
                    item.number('height', 0.9, minimum=0.2, maximum=3.0), faces)
        _inside(item, terrain, post.x, post.y, 'post')
        posts.append(post)
    return tuple(posts)


def _gates(fields: Fields, posts_by_tag: dict) -> tuple[Gate, ...]:
    gates, used = [], set()
    for item in fields.sequence('gates', []):
        item.reject_unknown({'left_tag', 'right_tag'})
        gate = Gate(item.integer('left_tag', minimum=0), item.integer('right_tag', minimum=0))
        for key, tag in (('left_tag', gate.left_tag), ('right_tag', gate.right_tag)):
            if tag not in posts_by_tag:
                raise item.error(key, f'no post has tag id {tag}')
            if tag in used:
                raise item.error(key, f'post {tag} already belongs to another gate')
        if gate.left_tag == gate.right_tag:
            raise item.error('right_tag', 'a gate needs two different posts')
        used.update((gate.left_tag, gate.right_tag))
        left, right = posts_by_tag[gate.left_tag], posts_by_tag[gate.right_tag]
        width = math.hypot(left.x - right.x, left.y - right.y)
        low, high = GATE_WIDTH_RANGE
        if not low <= width <= high:
            raise item.error('right_tag', f'posts {gate.left_tag} and {gate.right_tag} are {width:.2f} m '
                                          f'apart; a gate is {low:g} to {high:g} m wide')
        gates.append(gate)
    return tuple(gates)


def _objects(fields: Fields, terrain: TerrainSpec) -> tuple:
    objects, items = [], fields.sequence('objects', [])
    for item in items:
        item.reject_unknown({'kind', 'x', 'y', 'yaw'})
        obj = GroundObject(item.choice('kind', OBJECT_KINDS), item.number('x'), item.number('y'),
                           item.number('yaw', 0.0))
        _inside(item, terrain, obj.x, obj.y, 'object')
        objects.append(obj)
    return tuple(objects), items


def _waypoints(fields: Fields, terrain: TerrainSpec) -> tuple:
    waypoints = []
    for item in fields.sequence('waypoints', []):
        item.reject_unknown({'name', 'x', 'y'})
        waypoint = Waypoint(item.string('name'), item.number('x'), item.number('y'))
        if not _NAME.fullmatch(waypoint.name):
            raise item.error('name', f'use letters, digits, "_" and "-" only, got {waypoint.name!r}')
        if any(w.name == waypoint.name for w in waypoints):
            raise item.error('name', f'waypoint name {waypoint.name!r} is used twice')
        _inside(item, terrain, waypoint.x, waypoint.y, 'waypoint')
        waypoints.append(waypoint)
    return tuple(waypoints)


def _rocks(fields: Fields, terrain: TerrainSpec) -> tuple:
    rocks, items = [], fields.sequence('rocks', [])
    for item in items:
        item.reject_unknown({'x', 'y', 'radius'})
        rock = Rock(item.number('x'), item.number('y'), item.number('radius', minimum=0.05, maximum=3.0))
        _inside(item, terrain, rock.x, rock.y, 'rock')
        rocks.append(rock)
    return tuple(rocks), items


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance (m) from point p to the segment a-b."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _check_clearances(course: Course, rock_items: list, object_items: list, start: Fields) -> None:
    """Rocks keep clear of posts, objects, waypoints, gate lines and the start; nothing sits on the start."""
    sx, sy = course.start_x, course.start_y
    for rock, item in zip(course.rocks, rock_items, strict=True):
        blockers = [(f'post {p.tag_id}', p.x, p.y, ROCK_CLEARANCE) for p in course.posts]
        blockers += [(f'{o.kind} at ({o.x:g}, {o.y:g})', o.x, o.y, ROCK_CLEARANCE) for o in course.objects]
        blockers += [(f'waypoint {w.name}', w.x, w.y, ROCK_CLEARANCE) for w in course.waypoints]
        blockers.append(('the rover start', sx, sy, START_CLEARANCE))
        for what, x, y, clearance in blockers:
            gap = math.hypot(rock.x - x, rock.y - y) - rock.radius
            if gap < clearance:
                raise item.error(None, f'rock at ({rock.x:g}, {rock.y:g}) r={rock.radius:g} is {gap:.2f} m '
                                       f'from {what}; keep at least {clearance:g} m')
        for gate in course.gates:
            left, right = course.post(gate.left_tag), course.post(gate.right_tag)
            gap = _segment_distance((rock.x, rock.y), (left.x, left.y), (right.x, right.y)) - rock.radius
            if gap < ROCK_CLEARANCE:
                raise item.error(None, f'rock at ({rock.x:g}, {rock.y:g}) blocks gate '
                                       f'{gate.left_tag}-{gate.right_tag}')
    for obj, item in zip(course.objects, object_items, strict=True):
        if math.hypot(obj.x - sx, obj.y - sy) < START_CLEARANCE:
            raise item.error(None, f'{obj.kind} is within {START_CLEARANCE:g} m of the rover start')
    for post in course.posts:
        if math.hypot(post.x - sx, post.y - sy) < START_CLEARANCE:
            raise start.error('x', f'the rover start is within {START_CLEARANCE:g} m of post {post.tag_id}')


def course_from_fields(top: Fields) -> Course:
    """Validate a loaded course document (a Fields over its top-level mapping)."""
    top.reject_unknown({'name', 'description', 'difficulty', 'datum', 'terrain', 'start', 'rocks', 'posts',
                        'gates', 'objects', 'waypoints', 'dictionary', 'mission_file'})
    name = top.string('name')
    if not _NAME.fullmatch(name):
        raise top.error('name', f'use letters, digits, "_" and "-" only, got {name!r}')
    dictionary = top.string('dictionary', DEFAULT_DICTIONARY)
    try:
        n_ids = dictionary_size(dictionary)
    except ValueError as error:
        raise top.error('dictionary', str(error)) from None
    mission_file = top.string('mission_file', '')
    if mission_file and (Path(mission_file).is_absolute() or '..' in Path(mission_file).parts):
        raise top.error('mission_file', 'must be a path relative to the package root, e.g. '
                                        'config/missions/urc_demo.yaml')
    terrain = _terrain(top.mapping('terrain'))
    start = top.mapping('start')
    start.reject_unknown({'x', 'y', 'yaw'})
    start_x, start_y = start.number('x'), start.number('y')
    _inside(start, terrain, start_x, start_y, 'the rover start')
    posts = _posts(top, terrain, n_ids, dictionary)
    gates = _gates(top, {p.tag_id: p for p in posts})
    objects, object_items = _objects(top, terrain)
    waypoints = _waypoints(top, terrain)
    rocks, rock_items = _rocks(top, terrain)
    course = Course(
        name=name, description=top.string('description', ''),
        difficulty=top.choice('difficulty', DIFFICULTIES), datum=_datum(top.mapping('datum')),
        terrain=terrain, start_x=start_x, start_y=start_y,
        start_yaw=start.number('yaw', 0.0, minimum=-2 * math.pi, maximum=2 * math.pi),
        rocks=rocks, posts=posts, gates=gates, objects=objects, dictionary=dictionary,
        mission_file=mission_file, source=top.source, waypoints=waypoints)
    _check_clearances(course, rock_items, object_items, start)
    return course


def find_course(name_or_path: str | Path) -> Path:
    """A course name ('urc_demo') -> sim/courses/urc_demo.yaml (installed share or source tree); a path
    (with a '/' or ending in .yaml) as given: the rule of ``common.share_files.find_named_file``."""
    return find_named_file(name_or_path, COURSES_DIR, 'course', UnknownCourseError)


def list_courses() -> list[str]:
    """Names of the shipped courses."""
    return share_names(COURSES_DIR)


def load_course(name_or_path: str | Path) -> Course:
    """Load and validate a course by name or path; raises CourseError or UnknownCourseError."""
    path = find_course(name_or_path)
    try:
        document = load_yaml_file(path)
    except FileFieldError as error:
        raise CourseError(error.path, error.line, error.field_path, error.message) from None
    return course_from_fields(Fields(document, str(path), error_type=CourseError))
