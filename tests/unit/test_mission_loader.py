"""Mission file loader: defaults resolve, inline YAML text works, and each broken mission fails with a
message naming its file, line and field (table-driven: one base file, one changed line per case)."""
import pytest

from rover_stack.autonomy.mission import (
    Leg,
    Mission,
    MissionDefaults,
    MissionError,
    find_mission,
    load_mission,
    mission_from_text,
)
from rover_stack.geo import LocalTangentPlane

BASE = """\
name: test_mission
datum: {latitude: 38.4, longitude: -110.8, altitude: 1300.0}
defaults:
  tolerance: 2.5
  timeout: 300
legs:
  - kind: gnss
    latitude: 38.4005
    longitude: -110.8005
  - kind: post
    tag_id: 4
    latitude: 38.401
    longitude: -110.801
    tolerance: 1.5
  - kind: gate
    left_tag: 5
    right_tag: 6
    latitude: 38.4012
    longitude: -110.8012
  - kind: object
    object: bottle
    latitude: 38.4015
    longitude: -110.8015
    name: find_bottle
    search_radius: 30
"""


def with_line(line_no, new_text):
    lines = BASE.splitlines()
    lines[line_no - 1] = new_text
    return '\n'.join(lines) + '\n'


def test_base_mission_resolves_defaults(tmp_path):
    path = tmp_path / 'mission.yaml'
    path.write_text(BASE)
    mission = load_mission(path)
    assert isinstance(mission, Mission) and mission.name == 'test_mission'
    assert mission.defaults == MissionDefaults(tolerance=2.5, timeout=300.0)
    gnss, post, gate, obj = mission.legs
    assert gnss == Leg('gnss', 'leg1_gnss', 38.4005, -110.8005, tolerance=2.5, timeout=300.0, search_radius=20.0)
    assert (post.kind, post.tag_id, post.tolerance, post.tags) == ('post', 4, 1.5, (4,))
    assert (gate.left_tag, gate.right_tag, gate.tolerance, gate.tags) == (5, 6, 2.0, (5, 6))
    assert (obj.name, obj.object, obj.tolerance, obj.search_radius, obj.tags) == ('find_bottle', 'bottle', 2.0, 30.0, ())
    assert mission.source == str(path)
    # str paths work too
    assert load_mission(str(path)) == mission


def test_inline_yaml_text_and_flow_style():
    mission = mission_from_text(BASE)
    assert mission.source == '<mission_yaml>' and len(mission.legs) == 4
    assert load_mission(BASE) == mission
    flow = ('{name: m, datum: {latitude: 0.0, longitude: 0.0}, '
            'legs: [{kind: gnss, latitude: 0.0001, longitude: 0.0}]}')
    assert load_mission(flow).legs[0].tolerance == 3.0
    with pytest.raises(MissionError, match=r"^<mission_yaml>:1: legs\[0\]: missing required field 'longitude'"):
        load_mission(flow.replace(', longitude: 0.0}]', '}]'))


def test_to_local_gives_map_xy_of_each_target():
    mission = mission_from_text(BASE)
    plane = LocalTangentPlane(38.4, -110.8, 1300.0)
    local = mission.to_local()
    assert local == mission.to_local(plane)
    for (x, y), leg in zip(local, mission.legs, strict=True):
        east, north, _ = plane.to_enu(leg.latitude, leg.longitude)
        assert (x, y) == pytest.approx((east, north))
    assert local[0][0] < 0 < local[0][1]      # west and north of the datum
    assert local[0][1] == pytest.approx(55.5, abs=0.5)


def test_shipped_names_resolve():
    assert find_mission('flat_easy').name == 'flat_easy.yaml'
    assert load_mission('flat_easy').name == 'flat_easy'
    with pytest.raises(MissionError, match="unknown mission 'nope'"):
        load_mission('nope')


CASES = {
    'unknown kind': (7, '  - kind: drive', 7, r'legs\[0\].kind: must be one of gnss, post, gate, object'),
    'latitude out of range': (8, '    latitude: 91', 8, r'legs\[0\].latitude: must be at most 90'),
    'latitude text': (8, '    latitude: abc', 8, r"legs\[0\].latitude: must be a finite number, got 'abc'"),
    'latitude nan': (8, '    latitude: .nan', 8, r'legs\[0\].latitude: must be a finite number'),
    'longitude out of range': (9, '    longitude: -190.0', 9, r'legs\[0\].longitude: must be at least -180'),
    'leg far from datum': (8, '    latitude: 38.7', 8, r'legs\[0\].latitude: target is 33.3 km from the datum'),
    'tag id missing': (11, '    # no tag', 10, r"legs\[1\]: missing required field 'tag_id'"),
    'negative tag id': (11, '    tag_id: -1', 11, r'legs\[1\].tag_id: must be at least 0'),
    'tag id not integer': (11, '    tag_id: 4.5', 11, r'legs\[1\].tag_id: must be an integer'),
    'zero tolerance': (14, '    tolerance: 0', 14, r'legs\[1\].tolerance: must be greater than 0'),
    'tolerance typo': (14, '    tolerence: 1.5', 14, r'legs\[1\].tolerence: unknown field; a post leg has: '),
    'post field on gnss leg': (9, '    tag_id: 3', 9, r"legs\[0\].tag_id: 'tag_id' belongs to a post leg"),
    'gate of one tag': (17, '    right_tag: 5', 17, r'legs\[2\].right_tag: a gate needs two different tags'),
    'unknown object': (21, '    object: hammer', 21, r'legs\[3\].object: must be one of mallet, bottle'),
    'zero search radius': (25, '    search_radius: 0', 25, r'legs\[3\].search_radius: must be greater than 0'),
    'huge timeout': (25, '    timeout: 1.0e+6', 25, r'legs\[3\].timeout: must be at most 86400'),
    'exponent without dot': (25, '    timeout: 1e6', 25, r"legs\[3\].timeout: must be a finite number, got '1e6' \(YAML reads this"),
    'duplicate leg name': (24, '    name: leg1_gnss', 24, r"legs\[3\].name: leg name 'leg1_gnss' is already used by legs\[0\]"),
    'bad leg name': (24, '    name: find the bottle', 24, r'legs\[3\].name: use letters'),
    'negative default timeout': (5, '  timeout: -5', 5, r'defaults.timeout: must be greater than 0'),
    'typo in defaults': (4, '  tolerence: 2.5', 4, r'defaults.tolerence: unknown field'),
    'datum latitude missing': (2, 'datum: {longitude: -110.8}', 2, r"datum: missing required field 'latitude'"),
    'datum typo': (2, 'datum: {lat: 38.4, longitude: -110.8}', 2, r'datum.lat: unknown field'),
    'unknown top-level key': (1, 'nmae: test_mission', 1, r'nmae: unknown field'),
    'legs not a list': (6, 'legs: 3', 7, 'invalid YAML'),
    'leg not a mapping': (7, '  - gnss', 8, 'invalid YAML'),
}


@pytest.mark.parametrize(('line_no', 'new_text', 'error_line', 'message'), CASES.values(), ids=CASES.keys())
def test_each_error_names_file_line_and_field(tmp_path, line_no, new_text, error_line, message):
    path = tmp_path / 'mission.yaml'
    path.write_text(with_line(line_no, new_text))
    with pytest.raises(MissionError, match=rf'^{path}:{error_line}: {message}') as caught:
        load_mission(path)
    assert caught.value.line == error_line


@pytest.mark.parametrize(('text', 'message'), [
    ('', r'^<mission_yaml>:1: expected a mapping'),
    ('name: m\ndatum: {latitude: 1.0, longitude: 2.0}\n', r"^<mission_yaml>:1: missing required field 'legs'"),
    ('name: m\ndatum: {latitude: 1.0, longitude: 2.0}\nlegs: []\n', r'^<mission_yaml>:3: legs: must not be empty'),
    ('name: m\ndatum: {latitude: 1.0, longitude: 2.0}\nlegs: [3]\n', r'^<mission_yaml>:3: legs\[0\]: expected a mapping'),
    ('name: m\nname: n\n', r'^<mission_yaml>:2: name: duplicate key'),
])
def test_whole_document_errors(text, message):
    with pytest.raises(MissionError, match=message):
        mission_from_text(text)


def test_missing_file(tmp_path):
    with pytest.raises(MissionError, match='cannot read file'):
        load_mission(tmp_path / 'missing.yaml')
