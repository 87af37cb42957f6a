"""Skid and corner kinematics for every robot config: inverse, forward, steering limit, saturation."""
import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rover_stack.description.geometry import load_geometry
from rover_stack.drive.kinematics import (
    CornerSteer,
    SkidSteer,
    WheelCommand,
    make_kinematics,
    scale_to_limit,
)

ROBOT_CONFIGS = Path(__file__).resolve().parents[2] / 'config' / 'robot'
VARIANTS = ('skid4', 'skid6', 'corner6')
GEOMETRY = {name: load_geometry(ROBOT_CONFIGS / f'{name}.yaml') for name in VARIANTS}
DERANDOMIZED = settings(derandomize=True, max_examples=300, deadline=None)


@pytest.fixture(params=VARIANTS)
def kin(request):
    return make_kinematics(GEOMETRY[request.param])


def speeds_by_wheel(kin, cmd):
    return {w.name: cmd.wheel_velocities[w.joint] for w in kin.geometry.wheels}


def angles_by_wheel(kin, cmd):
    return {w.name: cmd.steering_angles[w.steering_joint] for w in kin.geometry.wheels if w.steering_joint}


def test_config_files_are_the_ones_tested():
    assert sorted(p.stem for p in ROBOT_CONFIGS.glob('*.yaml')) == sorted(VARIANTS)


@pytest.mark.parametrize(('variant', 'cls'), [('skid4', SkidSteer), ('skid6', SkidSteer),
                                               ('corner6', CornerSteer)])
def test_make_kinematics_matches_config(variant, cls):
    assert type(make_kinematics(GEOMETRY[variant])) is cls


def test_make_kinematics_rejects_unknown_kind():
    with pytest.raises(ValueError, match='unknown kinematics'):
        make_kinematics(dataclasses.replace(GEOMETRY['skid4'], kinematics='mecanum'))


@pytest.mark.parametrize('v', [1.0, -0.7, 0.0])
def test_straight_all_wheels_equal_and_steering_straight(kin, v):
    cmd = kin.inverse(v, 0.0)
    assert set(cmd.wheel_velocities) == set(kin.geometry.wheel_joints)
    assert all(s == pytest.approx(v / kin.geometry.wheel_radius, abs=1e-12)
               for s in cmd.wheel_velocities.values())
    assert set(cmd.steering_angles) == set(kin.geometry.steering_joints)
    assert all(a == 0.0 for a in cmd.steering_angles.values())


def test_tiny_yaw_rate_drives_straight(kin):
    cmd = kin.inverse(0.5, 1e-12)
    assert all(a == 0.0 for a in cmd.steering_angles.values())
    assert len({round(s, 12) for s in cmd.wheel_velocities.values()}) == 1


# skid4: r = 0.15 m, effective half track = 1.4 * 0.4 = 0.56 m
# skid6: r = 0.14 m, effective half track = 1.6 * 0.4 = 0.64 m
@pytest.mark.parametrize(('variant', 'v', 'w', 'left', 'right'), [
    ('skid4', 1.0, 0.5, (1.0 - 0.5 * 0.56) / 0.15, (1.0 + 0.5 * 0.56) / 0.15),     # arc left
    ('skid4', 1.0, -0.5, (1.0 + 0.5 * 0.56) / 0.15, (1.0 - 0.5 * 0.56) / 0.15),    # arc right
    ('skid4', 0.0, 1.0, -0.56 / 0.15, 0.56 / 0.15),                                 # turn in place
    ('skid6', 0.8, 0.25, (0.8 - 0.25 * 0.64) / 0.14, (0.8 + 0.25 * 0.64) / 0.14),
    ('skid6', 0.0, -2.0, 2.0 * 0.64 / 0.14, -2.0 * 0.64 / 0.14),
    ('skid6', -0.5, 0.5, (-0.5 - 0.5 * 0.64) / 0.14, (-0.5 + 0.5 * 0.64) / 0.14),  # reversing
])
def test_skid_side_speeds_use_effective_track(variant, v, w, left, right):
    kin = make_kinematics(GEOMETRY[variant])
    cmd = kin.inverse(v, w)
    assert cmd.steering_angles == {}
    for wheel in kin.geometry.wheels:
        expected = left if wheel.side > 0 else right
        assert cmd.wheel_velocities[wheel.joint] == pytest.approx(expected, abs=1e-12), wheel.name


def test_corner_arc_matches_hand_computation():
    # corner6: corners at x = +-0.45, y = +-0.40, middle wheels at x = 0; r = 0.14 m.
    # v = 1 m/s, w = 0.5 rad/s: ICR at (0, 2). Front-left sees the ICR 1.6 m to its side and
    # 0.45 m behind it, so it steers atan(0.45 / 1.6) left and rolls at 0.5 * hypot(0.45, 1.6).
    kin = make_kinematics(GEOMETRY['corner6'])
    cmd = kin.inverse(1.0, 0.5)
    expected_angles = {'front_left': math.atan(0.45 / 1.6), 'front_right': math.atan(0.45 / 2.4),
                       'rear_left': -math.atan(0.45 / 1.6), 'rear_right': -math.atan(0.45 / 2.4)}
    expected_speeds = {'front_left': 0.5 * math.hypot(0.45, 1.6) / 0.14,
                       'front_right': 0.5 * math.hypot(0.45, 2.4) / 0.14,
                       'middle_left': 0.5 * 1.6 / 0.14, 'middle_right': 0.5 * 2.4 / 0.14,
                       'rear_left': 0.5 * math.hypot(0.45, 1.6) / 0.14,
                       'rear_right': 0.5 * math.hypot(0.45, 2.4) / 0.14}
    assert angles_by_wheel(kin, cmd) == pytest.approx(expected_angles, abs=1e-12)
    assert speeds_by_wheel(kin, cmd) == pytest.approx(expected_speeds, abs=1e-12)


def test_corner_turn_in_place_matches_hand_computation():
    # v = 0, w = 1: every corner is tangent to the circle through it around base_link. Rolling
    # forward that means pointing 131.8 deg, outside [-90, 90]: folded to -48.4 deg, rolling backward.
    kin = make_kinematics(GEOMETRY['corner6'])
    cmd = kin.inverse(0.0, 1.0)
    a = math.atan(0.45 / 0.40)
    corner_speed = math.hypot(0.45, 0.40) / 0.14
    assert angles_by_wheel(kin, cmd) == pytest.approx(
        {'front_left': -a, 'front_right': a, 'rear_left': a, 'rear_right': -a}, abs=1e-12)
    assert speeds_by_wheel(kin, cmd) == pytest.approx(
        {'front_left': -corner_speed, 'front_right': corner_speed, 'middle_left': -0.4 / 0.14,
         'middle_right': 0.4 / 0.14, 'rear_left': -corner_speed, 'rear_right': corner_speed}, abs=1e-12)
    for wheel in kin.geometry.wheels:
        if wheel.steering_joint:       # heading perpendicular to the radius from base_link
            angle = cmd.steering_angles[wheel.steering_joint]
            assert math.cos(angle) * wheel.x + math.sin(angle) * wheel.y == pytest.approx(0.0, abs=1e-12)


@DERANDOMIZED
@given(v=st.floats(-2.0, 2.0), w=st.floats(-3.0, 3.0))
def test_corner_is_ackermann_about_the_icr(v, w):
    kin = make_kinematics(GEOMETRY['corner6'])
    assume(abs(w) > 1e-3 and kin.limit_twist(v, w) == (v, w))
    icr_y = v / w
    cmd = kin.inverse(v, w)
    for wheel in kin.geometry.wheels:
        angle = cmd.steering_angles.get(wheel.steering_joint, 0.0)
        assert -math.pi / 2 <= angle <= math.pi / 2
        # heading perpendicular to the line from the ICR; speed proportional to the distance to it
        assert math.cos(angle) * wheel.x + math.sin(angle) * (wheel.y - icr_y) == pytest.approx(
            0.0, abs=1e-9 * (1 + abs(icr_y)))
        distance = math.hypot(wheel.x, wheel.y - icr_y)
        if wheel.steering_joint:
            assert abs(cmd.wheel_velocities[wheel.joint]) == pytest.approx(
                abs(w) * distance / kin.geometry.wheel_radius, rel=1e-9, abs=1e-12)


@DERANDOMIZED
@given(variant=st.sampled_from(VARIANTS), v=st.floats(-2.0, 2.0), w=st.floats(-4.0, 4.0))
def test_inverse_then_forward_round_trips(variant, v, w):
    kin = make_kinematics(GEOMETRY[variant])
    cmd = kin.inverse(v, w)
    v_out, w_out = kin.forward(cmd.wheel_velocities, cmd.steering_angles)
    v_lim, w_lim = kin.limit_twist(v, w)
    assert v_out == pytest.approx(v_lim, abs=1e-9)
    assert w_out == pytest.approx(w_lim, abs=1e-9)
    if isinstance(kin, SkidSteer) or abs(w) < 1e-9:
        assert (v_out, w_out) == pytest.approx((v, w), abs=1e-9)
    limit = kin.geometry.max_steering_angle
    assert all(abs(a) <= limit for a in cmd.steering_angles.values())


@pytest.mark.parametrize(('v', 'w'), [(1.0, 0.0), (1.0, 0.5), (0.0, 1.0), (-0.3, 2.0), (0.3, -2.0),
                                      (0.0, -0.7), (-1.0, -0.1), (0.0, 0.0), (1e-12, 1e-12)])
def test_round_trip_table(kin, v, w):
    cmd = kin.inverse(v, w)
    assert kin.forward(cmd.wheel_velocities, cmd.steering_angles) == pytest.approx((v, w), abs=1e-9)


CORNER_TIGHT = CornerSteer(dataclasses.replace(GEOMETRY['corner6'], max_steering_angle=0.5))
# With |angle| <= 0.5 rad a corner at |x| = 0.45 m needs the ICR at least 0.45 / tan(0.5) = 0.824 m
# beside it: ICR y in (-1.224, 1.224) m is out of reach, and turning in place is impossible.
TIGHTEST = 0.4 + 0.45 / math.tan(0.5)


@pytest.mark.parametrize(('v', 'w', 'radius'), [
    (0.5, 1.0, TIGHTEST), (0.5, -1.0, -TIGHTEST), (-0.5, 1.0, -TIGHTEST), (-0.5, -1.0, TIGHTEST),
    (1.0, 0.9, TIGHTEST),        # R = 1.11 m: just inside the forbidden band
    (1.0, 0.5, 2.0),             # R = 2 m: reachable, unchanged
])
def test_steering_limit_picks_tightest_reachable_arc(v, w, radius):
    v_lim, w_lim = CORNER_TIGHT.limit_twist(v, w)
    assert v_lim == v                                 # the speed is kept
    assert v_lim / w_lim == pytest.approx(radius, abs=1e-9)
    assert math.copysign(1, w_lim) == math.copysign(1, w)   # the turn keeps its side
    cmd = CORNER_TIGHT.inverse(v, w)
    angles = list(cmd.steering_angles.values())
    assert max(abs(a) for a in angles) <= 0.5
    if radius == TIGHTEST or radius == -TIGHTEST:
        assert max(abs(a) for a in angles) == pytest.approx(0.5, abs=1e-9)
    assert CORNER_TIGHT.forward(cmd.wheel_velocities, cmd.steering_angles) == pytest.approx(
        (v_lim, w_lim), abs=1e-9)


@pytest.mark.parametrize('w', [1.0, -1.0])
def test_unreachable_turn_in_place_keeps_wheels_stopped(w):
    assert CORNER_TIGHT.limit_twist(0.0, w) == (0.0, 0.0)
    cmd = CORNER_TIGHT.inverse(0.0, w)
    assert all(s == 0.0 for s in cmd.wheel_velocities.values())
    # corners ready for the tightest arc toward w: front wheels turned that way, the inner one at the limit
    inner = 'left' if w > 0 else 'right'
    assert cmd.steering_angles[f'steer_front_{inner}_joint'] == pytest.approx(math.copysign(0.5, w), abs=1e-9)
    assert cmd.steering_angles[f'steer_rear_{inner}_joint'] == pytest.approx(-math.copysign(0.5, w), abs=1e-9)
    assert all(abs(a) <= 0.5 for a in cmd.steering_angles.values())
    assert all(math.copysign(1, cmd.steering_angles[f'steer_front_{s}_joint']) == math.copysign(1, w)
               for s in ('left', 'right'))


def test_full_range_geometry_reaches_icr_under_a_wheel_only_up_to_its_limit():
    # corner6 limit is 1.5707 rad (just under pi/2): an ICR exactly under the left wheels needs
    # pi/2, so the arc is widened by 0.45 / tan(1.5707) = 43 micrometres.
    kin = make_kinematics(GEOMETRY['corner6'])
    v_lim, w_lim = kin.limit_twist(0.4, 1.0)
    assert v_lim / w_lim == pytest.approx(0.4 + 0.45 / math.tan(1.5707), abs=1e-12)
    assert max(abs(a) for a in kin.inverse(0.4, 1.0).steering_angles.values()) <= 1.5707


def test_forward_is_least_squares_over_disagreeing_wheels():
    kin = make_kinematics(GEOMETRY['skid4'])     # r = 0.15 m
    speeds = {'wheel_front_left_joint': 1.0, 'wheel_rear_left_joint': 3.0,
              'wheel_front_right_joint': 2.0, 'wheel_rear_right_joint': 2.0}
    assert kin.forward(speeds, {}) == pytest.approx((0.3, 0.0), abs=1e-12)


def test_forward_ignores_missing_and_invalid_joints(kin):
    cmd = kin.inverse(0.6, 0.4)
    speeds = dict(cmd.wheel_velocities)
    angles = dict(cmd.steering_angles)
    speeds.pop('wheel_front_left_joint')
    speeds['wheel_rear_right_joint'] = math.nan
    speeds['not_a_wheel'] = 99.0
    if angles:
        angles.pop('steer_rear_left_joint')      # the rear-left wheel can't be used without it
    assert kin.forward(speeds, angles) == pytest.approx((0.6, 0.4), abs=1e-9)


@pytest.mark.parametrize('keep', [[], ['wheel_front_left_joint'],
                                  ['wheel_front_left_joint', 'wheel_rear_left_joint']])
def test_forward_raises_when_too_few_wheels(keep):
    kin = make_kinematics(GEOMETRY['skid4'])
    cmd = kin.inverse(0.5, 0.2)
    with pytest.raises(ValueError, match='wheel'):
        kin.forward({j: cmd.wheel_velocities[j] for j in keep}, {})


@pytest.mark.parametrize(('v', 'w'), [(math.nan, 0.0), (0.0, math.inf), (-math.inf, 1.0), ('1', 0.0)])
def test_inverse_rejects_non_finite_twist(kin, v, w):
    with pytest.raises(ValueError, match='finite'):
        kin.inverse(v, w)


@pytest.mark.parametrize(('v', 'w'), [(3.0, 0.0), (1.0, 4.0), (0.0, 8.0), (-2.5, 1.5), (2.0, -0.3)])
def test_scaling_keeps_the_turning_radius(kin, v, w):
    cmd = kin.inverse(v, w)
    limit = kin.geometry.max_wheel_speed
    assert cmd.peak_speed() > limit                     # each case needs scaling
    scaled, factor = scale_to_limit(cmd, limit)
    assert 0.0 < factor < 1.0
    assert scaled.peak_speed() == pytest.approx(limit, rel=1e-12)
    assert scaled.steering_angles == cmd.steering_angles
    for joint, speed in cmd.wheel_velocities.items():
        assert scaled.wheel_velocities[joint] == pytest.approx(speed * factor, rel=1e-12, abs=1e-15)
    v_out, w_out = kin.forward(scaled.wheel_velocities, scaled.steering_angles)
    assert (v_out, w_out) == pytest.approx((v * factor, w * factor), abs=1e-9)
    if w != 0.0 and v != 0.0:
        assert v_out / w_out == pytest.approx(v / w, rel=1e-9)


def test_scaling_not_needed_returns_factor_one():
    cmd = WheelCommand({'a': 3.0, 'b': -5.0}, {'s': 0.2})
    assert scale_to_limit(cmd, 5.0) == (cmd, 1.0)


@pytest.mark.parametrize('limit', [0.0, -1.0, math.nan, math.inf])
def test_scaling_rejects_bad_limit(limit):
    with pytest.raises(ValueError, match='max_wheel_speed'):
        scale_to_limit(WheelCommand({'a': 1.0}), limit)
