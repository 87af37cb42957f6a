"""Report generation from synthetic tracks, the gate-crossing check, and the MCAP schemas."""
from __future__ import annotations

import math

import pytest

from rover_stack.autonomy.goals import base_to_map, resolve_goal
from rover_stack.autonomy.mission import MissionError, load_mission
from rover_stack.reporting.msgdefs import SEPARATOR, dependencies, schema_text
from rover_stack.reporting.report import (
    LegRun,
    LegTruth,
    Track,
    build_report,
    gate_crossing,
    leg_truths,
    path_length,
    rmse,
)
from rover_stack.sim.course import load_course
from rover_stack.tf.transform import yaw_from_quaternion


def straight_track(t_end=10.0, dt=0.1, y=0.0, speed=1.0):
    track = Track()
    for i in range(round(t_end / dt) + 1):
        track.add(i * dt, i * dt * speed, y)
    return track


def test_path_length_and_rmse():
    truth = straight_track()
    assert path_length(truth) == pytest.approx(10.0)
    estimate = straight_track(y=0.5)
    assert rmse(estimate, truth) == pytest.approx(0.5)
    assert math.isnan(rmse(Track(), truth))
    shifted = Track()
    for t, x, y in zip(truth.t, truth.x, truth.y, strict=True):
        shifted.add(t + 5.0, x, y)          # no estimate stamp within 0.1 s of ... all are: only overlap counts
    assert rmse(shifted, truth) > 1.0


def test_gate_crossing():
    truth = straight_track()                 # along y = 0 from x 0 to 10
    assert gate_crossing(truth, (5.0, 1.0), (5.0, -1.0)) == pytest.approx((5.0, 0.0))
    assert gate_crossing(truth, (5.0, 3.0), (5.0, 1.0)) is None     # passes beside the gate


def test_report_from_synthetic_run():
    truth, estimate = straight_track(), straight_track(y=0.3)
    legs = [LegTruth('gnss', 'wp1', 2.0, (5.0, 1.0)),
            LegTruth('post', 'p1', 2.0, (10.0, 3.0)),
            LegTruth('gate', 'g1', 2.0, (8.0, 0.5), ((8.0, 2.0), (8.0, -1.0)))]
    runs = [LegRun('SUCCEEDED', 5.0, 5.0), LegRun('SUCCEEDED', 4.0, 10.0), LegRun('SUCCEEDED', 1.0, 10.0)]
    report = build_report(course='c', mission='m', seed=3, legs=legs, runs=runs, truth=truth, estimate=estimate,
                          collisions=[{'kind': 'rock'}], sim_time_s=10.0, wall_time_s=4.0, mission_success=True)
    first, second, gate = report['legs']
    assert first['reached'] and first['final_error_m'] == pytest.approx(1.0)
    assert not second['reached'] and second['final_error_m'] == pytest.approx(3.0)   # 3 m > 2 m tolerance
    assert gate['reached'] and gate['final_error_m'] == pytest.approx(0.5)
    assert not report['success'] and report['mission_result_success']
    assert report['collisions'] == 1 and report['path_length_m'] == pytest.approx(10.0)
    assert report['localization_rmse_m'] == pytest.approx(0.3)
    assert {'kind', 'reached', 'final_error_m', 'time_s'} <= set(first)
    ok = build_report(course='c', mission='m', seed=3, legs=legs[:1], runs=runs[:1], truth=truth,
                      estimate=estimate, collisions=[], sim_time_s=10.0, wall_time_s=4.0, mission_success=True)
    assert ok['success']
    never = build_report(course='c', mission='m', seed=0, legs=legs[:1], runs=[LegRun('PENDING', math.nan, None)],
                         truth=truth, estimate=Track(), collisions=[], sim_time_s=1.0, wall_time_s=1.0,
                         mission_success=False)
    assert never['legs'][0]['final_error_m'] is None and never['localization_rmse_m'] is None


def test_leg_truths_of_the_shipped_course():
    course = load_course('urc_demo')
    mission = load_mission('urc_demo')
    truths = leg_truths(course, mission, course.datum.plane())
    assert [t.kind for t in truths] == [leg.kind for leg in mission.legs]
    gate = next(t for t in truths if t.kind == 'gate')
    assert gate.gate_posts is not None and math.dist(gate.target, gate.gate_posts[0]) > 0.5


def test_schema_text_includes_every_dependency():
    text = schema_text('nav_msgs/msg/Odometry')
    for dep in ('std_msgs/Header', 'geometry_msgs/PoseWithCovariance', 'geometry_msgs/Quaternion',
                'builtin_interfaces/Time'):
        assert f'{SEPARATOR}\nMSG: {dep}\n' in text
    assert dependencies('uint8 A = 1\nHeader header\nfloat64[] x\nPoint[<=3] p  # c', 'geometry_msgs') == [
        'std_msgs/Header', 'geometry_msgs/Point']
    with pytest.raises(LookupError):
        schema_text('nav_msgs/NoSuchType')


def test_resolve_goal_allows_only_mission_directories(tmp_path):
    dirs = [tmp_path / 'missions']
    dirs[0].mkdir()
    text = load_mission('flat_easy').source
    (dirs[0] / 'm.yaml').write_text(open(text).read())
    mission, _, source = resolve_goal('m', '', dirs)
    assert mission.name == 'flat_easy' and source.endswith('m.yaml')
    outside = tmp_path / 'x.yaml'
    outside.write_text(open(text).read())
    with pytest.raises(MissionError, match='not inside an allowed'):
        resolve_goal(str(outside), '', dirs)
    with pytest.raises(MissionError, match='not inside an allowed'):
        resolve_goal(str(dirs[0] / '..' / 'x.yaml'), '', dirs)
    with pytest.raises(MissionError, match='exactly one'):
        resolve_goal('m', 'name: x', dirs)


def test_frame_helpers():
    assert base_to_map((1.0, 2.0, math.pi / 2), 1.0, 0.0) == pytest.approx((1.0, 3.0))
    assert yaw_from_quaternion(0.0, 0.0, math.sin(0.3), math.cos(0.3)) == pytest.approx(0.6)
