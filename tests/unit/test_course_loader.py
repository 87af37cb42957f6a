"""Course file loader: a valid file loads into the dataclasses; each broken file fails with a message
naming its file, line and field (table-driven: one base file, one changed line per case)."""
import math

import pytest

from rover_stack.sim.course import (
    Course,
    CourseError,
    Gate,
    GroundObject,
    Post,
    Rock,
    UnknownCourseError,
    Waypoint,
    find_course,
    load_course,
)
from rover_stack.sim.terrain import Hill

BASE = """\
name: test_course
description: unit test course
difficulty: easy
mission_file: config/missions/flat_easy.yaml
datum:
  latitude: 38.4
  longitude: -110.8
  altitude: 1300.0
terrain:
  size_x: 100.0
  size_y: 80.0
  resolution: 64
  max_height: 2.0
  roughness: 0.02
  seed: 4
  hills:
    - {x: 10.0, y: 10.0, radius: 15.0, height: 1.0}
start: {x: 0.0, y: 0.0, yaw: 0.5}
dictionary: DICT_4X4_50
waypoints:
  - {name: wp1, x: 20.0, y: 0.0}
posts:
  - {tag_id: 1, x: 30.0, y: 5.0, faces: 3}
  - {tag_id: 2, x: 30.0, y: 15.0}
  - {tag_id: 3, x: 32.0, y: 15.0, marker_size: 0.15, height: 1.0}
gates:
  - {left_tag: 2, right_tag: 3}
objects:
  - {kind: mallet, x: -20.0, y: 10.0, yaw: 0.5}
rocks:
  - {x: -10.0, y: -10.0, radius: 0.5}
"""


def write(tmp_path, text):
    path = tmp_path / 'course.yaml'
    path.write_text(text)
    return path


def with_line(line_no, new_text):
    lines = BASE.splitlines()
    lines[line_no - 1] = new_text
    return '\n'.join(lines) + '\n'


def test_the_base_file_loads_into_dataclasses(tmp_path):
    course = load_course(write(tmp_path, BASE))
    assert isinstance(course, Course)
    assert (course.name, course.difficulty, course.dictionary) == ('test_course', 'easy', 'DICT_4X4_50')
    assert course.datum.latitude == 38.4 and course.datum.altitude == 1300.0
    assert course.terrain.size_y == 80.0 and course.terrain.resolution == 64
    assert course.terrain.hills == (Hill(10.0, 10.0, 15.0, 1.0),)
    assert (course.start_x, course.start_y, course.start_yaw) == (0.0, 0.0, 0.5)
    assert course.posts[0] == Post(1, 30.0, 5.0, 0.20, 0.9, 3)
    assert course.posts[2] == Post(3, 32.0, 15.0, 0.15, 1.0, 4)
    assert course.gates == (Gate(2, 3),)
    assert course.gate_centre(course.gates[0]) == (31.0, 15.0)
    assert course.objects == (GroundObject('mallet', -20.0, 10.0, 0.5),)
    assert course.rocks == (Rock(-10.0, -10.0, 0.5),)
    assert course.waypoints == (Waypoint('wp1', 20.0, 0.0),)
    assert course.mission_path().is_file()
    assert course.source == str(tmp_path / 'course.yaml')


def test_optional_sections_may_be_left_out(tmp_path):
    lines = BASE.splitlines()
    minimal = '\n'.join(lines[:15] + lines[17:18]) + '\n'   # no hills, no posts/gates/objects/rocks
    course = load_course(write(tmp_path, minimal))
    assert course.posts == () and course.rocks == () and course.terrain.hills == ()
    assert course.dictionary == 'DICT_4X4_50' and course.mission_file == 'config/missions/flat_easy.yaml'


# (line to replace, its new text, line named in the error, expected text after 'path:line: ')
CASES = {
    'bad difficulty': (3, 'difficulty: extreme', 3, 'difficulty: must be one of easy, medium, hard'),
    'missing name': (1, '# no name', 2, "missing required field 'name'"),
    'name with spaces': (1, 'name: my course', 1, 'name: use letters'),
    'duplicate key': (3, 'name: again', 3, 'name: duplicate key'),
    'latitude out of range': (6, '  latitude: 95.0', 6, 'datum.latitude: must be at most 90'),
    'latitude not a number': (6, '  latitude: north', 6, "datum.latitude: must be a finite number, got 'north'"),
    'size is a boolean': (10, '  size_x: true', 10, 'terrain.size_x: must be a finite number'),
    'resolution too fine': (12, '  resolution: 1024', 12, 'terrain.resolution: must be at most 512'),
    'resolution not integer': (12, '  resolution: 64.5', 12, 'terrain.resolution: must be an integer'),
    'max height zero': (13, '  max_height: 0', 13, 'terrain.max_height: must be greater than 0'),
    'negative roughness': (14, '  roughness: -0.1', 14, 'terrain.roughness: must be at least 0'),
    'typo in terrain': (14, '  rougness: 0.02', 14, 'terrain.rougness: unknown field'),
    'hill outside': (17, '    - {x: 500.0, y: 10.0, radius: 15.0, height: 1.0}', 17,
                     r'terrain.hills\[0\].x: hill centre \(500, 10\) is outside'),
    'hill taller than max': (17, '    - {x: 1.0, y: 1.0, radius: 15.0, height: 3.0}', 17,
                             r'terrain.hills\[0\].height: must be at most 2'),
    'start outside': (18, 'start: {x: 48.0, y: 0.0}', 18, 'start.x: the rover start at \\(48, 0\\) must be at least 5 m'),
    'start yaw typo': (18, 'start: {x: 0.0, y: 0.0, yew: 1.0}', 18, 'start.yew: unknown field'),
    'unknown top-level key': (19, 'dictonary: DICT_4X4_50', 19, 'dictonary: unknown field'),
    'unknown dictionary': (19, 'dictionary: DICT_9X9_1', 19, 'dictionary: unknown ArUco dictionary'),
    'tag id twice': (24, '  - {tag_id: 1, x: 30.0, y: 15.0}', 24, r'posts\[1\].tag_id: tag id 1 is used by another post'),
    'tag id beyond dictionary': (23, '  - {tag_id: 50, x: 30.0, y: 5.0}', 23, r'posts\[0\].tag_id: DICT_4X4_50 has ids 0..49'),
    'five faces': (23, '  - {tag_id: 1, x: 30.0, y: 5.0, faces: 5}', 23, r'posts\[0\].faces: must be 3 or 4'),
    'post item not a mapping': (23, '  - 7', 23, r'posts\[0\]: expected a mapping'),
    'rocks not a list': (31, '  {x: -10.0, y: -10.0}', 30, 'rocks: must be a list, got a mapping'),
    'post outside': (23, '  - {tag_id: 1, x: 30.0, y: 38.0}', 23, r'posts\[0\].x: post at \(30, 38\)'),
    'gate without its post': (27, '  - {left_tag: 2, right_tag: 9}', 27, r'gates\[0\].right_tag: no post has tag id 9'),
    'gate too wide': (25, '  - {tag_id: 3, x: 36.0, y: 15.0}', 27, r'gates\[0\].right_tag: posts 2 and 3 are 6.00 m apart'),
    'gate too narrow': (25, '  - {tag_id: 3, x: 30.5, y: 15.0}', 27, r'gates\[0\].right_tag: posts 2 and 3 are 0.50 m apart'),
    'gate of one post': (27, '  - {left_tag: 2, right_tag: 2}', 27, r'gates\[0\].right_tag: a gate needs two different posts'),
    'unknown object': (29, '  - {kind: hammer, x: -20.0, y: 10.0}', 29, r'objects\[0\].kind: must be one of mallet, bottle'),
    'object on the start': (29, '  - {kind: bottle, x: 0.5, y: 0.5}', 29, r'objects\[0\]: bottle is within 1.5 m'),
    'post on the start': (23, '  - {tag_id: 1, x: 0.5, y: 0.0}', 18, 'start.x: the rover start is within 1.5 m of post 1'),
    'rock on a post': (31, '  - {x: 30.0, y: 5.8, radius: 0.5}', 31, r'rocks\[0\]: rock at \(30, 5.8\) r=0.5 is 0.30 m from post 1'),
    'rock on the start': (31, '  - {x: 1.0, y: 1.0, radius: 0.5}', 31, r'rocks\[0\]: .* from the rover start; keep at least 1.5 m'),
    'rock on an object': (31, '  - {x: -20.0, y: 11.0, radius: 0.3}', 31, r'rocks\[0\]: .* from mallet'),
    'rock on a waypoint': (31, '  - {x: 20.0, y: 0.5, radius: 0.3}', 31, r'rocks\[0\]: .* from waypoint wp1'),
    'rock in a gate': (31, '  - {x: 31.0, y: 16.0, radius: 0.3}', 31, r'rocks\[0\]: rock at \(31, 16\) blocks gate 2-3'),
    'rock too big': (31, '  - {x: -10.0, y: -10.0, radius: 5.0}', 31, r'rocks\[0\].radius: must be at most 3'),
    'absolute mission file': (4, 'mission_file: /etc/passwd', 4, 'mission_file: must be a path relative'),
    'unclosed flow mapping': (18, 'start: {x: 0.0, y: 0.0', 19, 'invalid YAML'),
}


@pytest.mark.parametrize(('line_no', 'new_text', 'error_line', 'message'), CASES.values(), ids=CASES.keys())
def test_each_error_names_file_line_and_field(tmp_path, line_no, new_text, error_line, message):
    path = write(tmp_path, with_line(line_no, new_text))
    with pytest.raises(CourseError, match=rf'^{path}:{error_line}: {message}') as caught:
        load_course(path)
    assert caught.value.line == error_line


def test_duplicate_waypoint_names(tmp_path):
    text = with_line(21, '  - {name: wp1, x: 20.0, y: 0.0}\n  - {name: wp1, x: 1.0, y: 9.0}')
    path = write(tmp_path, text)
    with pytest.raises(CourseError, match=rf"^{path}:22: waypoints\[1\].name: waypoint name 'wp1' is used twice"):
        load_course(path)


def test_empty_and_missing_files(tmp_path):
    path = write(tmp_path, '')
    with pytest.raises(CourseError, match=rf'^{path}:1: expected a mapping'):
        load_course(path)
    with pytest.raises(CourseError, match='cannot read file'):
        load_course(tmp_path / 'nope.yaml')


def test_names_resolve_to_shipped_courses():
    assert find_course('flat_easy').name == 'flat_easy.yaml'
    assert load_course('flat_easy').name == 'flat_easy'
    with pytest.raises(UnknownCourseError, match=r"unknown course 'no_such_course'; known: .*flat_easy"):
        find_course('no_such_course')


def test_start_yaw_range(tmp_path):
    path = write(tmp_path, with_line(18, f'start: {{x: 0.0, y: 0.0, yaw: {3 * math.pi}}}'))
    with pytest.raises(CourseError, match=r'start\.yaw: must be at most'):
        load_course(path)
