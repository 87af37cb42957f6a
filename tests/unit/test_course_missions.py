"""The shipped courses (sim/courses) and missions (config/missions) load and agree with each other:
every mission leg lies on (gnss: within 1 m) or near (posts, gates, objects: within the search radius)
the course's true target, and the courses have the content their names promise."""
import itertools
import math

import pytest

from rover_stack.autonomy.mission import list_missions, load_mission, mission_from_text
from rover_stack.sim.course import list_courses, load_course
from rover_stack.sim.course_mission import mission_yaml_for_course
from rover_stack.sim.terrain import Heightfield

SHIPPED = ('flat_easy', 'urc_demo', 'urc_sprint', 'rock_field')
MAX_TARGET_SLOPE = math.radians(15.0)


def true_target(course, leg, leg_xy):
    """Map (x, y) of what the leg is about in the course (for objects: the nearest of that kind to leg_xy)."""
    if leg.kind == 'gnss':
        waypoint = {w.name: w for w in course.waypoints}[leg.name]
        return waypoint.x, waypoint.y
    if leg.kind == 'post':
        post = course.post(leg.tag_id)
        return post.x, post.y
    if leg.kind == 'gate':
        gate = next(g for g in course.gates if {g.left_tag, g.right_tag} == {leg.left_tag, leg.right_tag})
        assert (gate.left_tag, gate.right_tag) == (leg.left_tag, leg.right_tag), 'left/right swapped'
        return course.gate_centre(gate)
    candidates = [o for o in course.objects if o.kind == leg.object]
    assert candidates, f'no {leg.object} in the course'
    nearest = min(candidates, key=lambda o: math.dist((o.x, o.y), leg_xy))
    return nearest.x, nearest.y


def targets(course, mission):
    """True map (x, y) of every leg, in order."""
    local = mission.to_local(course.datum.plane())
    return [true_target(course, leg, xy) for leg, xy in zip(mission.legs, local, strict=True)]


def path_length(course, mission):
    points = [(course.start_x, course.start_y), *targets(course, mission)]
    return sum(math.dist(a, b) for a, b in itertools.pairwise(points))


@pytest.fixture(scope='module', params=SHIPPED)
def pair(request):
    course = load_course(request.param)
    return course, load_mission(course.mission_path())


def test_shipped_courses_and_missions_are_listed():
    assert set(SHIPPED) <= set(list_courses())
    assert set(SHIPPED) <= set(list_missions())


@pytest.mark.parametrize('name', list_missions())
def test_every_shipped_mission_loads(name):
    assert load_mission(name).legs


def test_course_and_mission_share_name_and_datum(pair):
    course, mission = pair
    assert course.mission_file == f'config/missions/{course.name}.yaml'
    assert mission.name == course.name
    assert mission.datum == course.datum


def test_every_leg_lies_on_or_near_its_true_target(pair):
    course, mission = pair
    for leg, xy in zip(mission.legs, mission.to_local(course.datum.plane()), strict=True):
        target = true_target(course, leg, xy)
        distance = math.dist(xy, target)
        if leg.kind == 'gnss':
            assert distance < 1.0, f'{leg.name}: {distance:.2f} m from waypoint {target}'
        else:
            assert distance < leg.search_radius, f'{leg.name}: target {distance:.1f} m away'


def test_targets_are_reachable_on_the_terrain(pair):
    course, mission = pair
    assert course.terrain.size_x <= 400 and course.terrain.size_y <= 400 and course.terrain.resolution <= 256
    field = Heightfield.from_spec(course.terrain)
    assert field.slope_at(course.start_x, course.start_y) < MAX_TARGET_SLOPE
    for leg, (x, y) in zip(mission.legs, targets(course, mission), strict=True):
        assert field.slope_at(x, y) < MAX_TARGET_SLOPE, leg.name
    assert field.max_slope() < math.radians(25.0)


def test_flat_easy_is_flat_and_short():
    course = load_course('flat_easy')
    mission = load_mission(course.mission_path())
    assert course.difficulty == 'easy' and course.terrain.roughness == 0.0 and not course.terrain.hills
    assert [leg.kind for leg in mission.legs] == ['gnss', 'gnss', 'post']
    assert path_length(course, mission) < 100.0


def test_urc_demo_has_every_kind_of_leg_over_300_m():
    course = load_course('urc_demo')
    mission = load_mission(course.mission_path())
    kinds = [leg.kind for leg in mission.legs]
    assert kinds.count('gnss') >= 2 and kinds.count('post') >= 2
    assert kinds.count('gate') >= 1 and kinds.count('object') >= 1
    assert course.terrain.hills and course.terrain.roughness > 0.0
    assert path_length(course, mission) >= 300.0


def test_urc_sprint_has_every_kind_of_leg_in_a_short_path():
    course = load_course('urc_sprint')
    mission = load_mission(course.mission_path())
    assert [leg.kind for leg in mission.legs] == ['gnss', 'gnss', 'post', 'gate', 'object']
    assert course.terrain.hills and course.terrain.roughness > 0.0
    assert 90.0 <= path_length(course, mission) <= 150.0      # short enough for seeded system tests


def test_rock_field_is_dense_between_its_waypoints():
    course = load_course('rock_field')
    mission = load_mission(course.mission_path())
    (x0, y0), (x1, _y1) = targets(course, mission)
    between = [r for r in course.rocks if min(x0, x1) < r.x < max(x0, x1) and abs(r.y - y0) < 15.0]
    assert len(between) >= 50
    # Dense, yet passable: at least 1.5 m between the edges of any two rocks of the field.
    gaps = [math.dist((a.x, a.y), (b.x, b.y)) - a.radius - b.radius
            for i, a in enumerate(between) for b in between[i + 1:]]
    assert min(gaps) >= 1.5


def test_the_generator_reproduces_the_shipped_legs(pair):
    course, shipped = pair
    generated = mission_from_text(mission_yaml_for_course(course))
    assert generated.datum == shipped.datum
    assert [(leg.kind, leg.name, leg.tags, leg.object) for leg in generated.legs] == \
        [(leg.kind, leg.name, leg.tags, leg.object) for leg in shipped.legs]
    for made, kept in zip(generated.legs, shipped.legs, strict=True):
        if made.kind == 'gnss':
            assert (made.latitude, made.longitude) == (kept.latitude, kept.longitude)


def test_the_generator_moves_approximate_targets_by_the_error():
    course = load_course('urc_demo')
    mission = mission_from_text(mission_yaml_for_course(course, approximate_error=4.0, seed=3))
    for leg, xy in zip(mission.legs, mission.to_local(course.datum.plane()), strict=True):
        expected = 0.0 if leg.kind == 'gnss' else 4.0
        assert math.dist(xy, true_target(course, leg, xy)) == pytest.approx(expected, abs=0.02)
    with pytest.raises(ValueError, match='approximate_error'):
        mission_yaml_for_course(course, approximate_error=-1.0)
