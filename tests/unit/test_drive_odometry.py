"""Wheel odometry: exact arcs, closed square from wheel feedback, zero speed, position resets."""
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.common.angles import wrap_angle
from rover_stack.description.geometry import load_geometry
from rover_stack.drive.kinematics import make_kinematics
from rover_stack.drive.odometry import WheelOdometry, integrate_arc

ROBOT_CONFIGS = Path(__file__).resolve().parents[2] / 'config' / 'robot'
VARIANTS = ('skid4', 'skid6', 'corner6')
KINEMATICS = {name: make_kinematics(load_geometry(ROBOT_CONFIGS / f'{name}.yaml')) for name in VARIANTS}
DT = 0.05   # s, 20 Hz wheel feedback


class FeedbackSim:
    """Ideal wheels reporting the feedback of the inverse kinematics of each command.

    When the steering has to change, the wheels wait one step (stopped) while the steering turns,
    as the controller's "wheels wait for the steering" option does.
    """

    def __init__(self, kin, mode, wheels_wait=True):
        self.kin, self.mode, self.wheels_wait = kin, mode, wheels_wait
        self.positions = {joint: 0.0 for joint in kin.geometry.wheel_joints}
        self.steering = {joint: 0.0 for joint in kin.geometry.steering_joints}
        self.step_count = 0

    def drive(self, odom, v, w, steps):
        cmd = self.kin.inverse(v, w)
        assert cmd.peak_speed() <= self.kin.geometry.max_wheel_speed
        if self.wheels_wait and cmd.steering_angles != self.steering:
            self.steering = cmd.steering_angles
            self._report(odom, dict.fromkeys(cmd.wheel_velocities, 0.0))
        self.steering = cmd.steering_angles
        for _ in range(steps):
            self._report(odom, cmd.wheel_velocities)

    def _report(self, odom, speeds):
        self.step_count += 1
        if self.mode == 'velocities':
            assert odom.update_from_velocities(speeds, self.steering, DT)
        else:
            for joint, speed in speeds.items():
                self.positions[joint] += speed * DT
            assert odom.update_from_positions(self.positions, self.steering, self.step_count * DT), \
                odom.skip_reason


@pytest.fixture(params=VARIANTS)
def kin(request):
    return KINEMATICS[request.param]


def new_odometry(kin, mode):
    odom = WheelOdometry(kin)
    sim = FeedbackSim(kin, mode)
    if mode == 'positions':
        assert not odom.update_from_positions(sim.positions, {}, 0.0)    # first call: reference only
    return odom, sim


@pytest.mark.parametrize('mode', ['velocities', 'positions'])
def test_closed_square_returns_to_start(kin, mode):
    # 5 m at 0.5 m/s (10 s = 200 steps), then 90 deg left in place over 3 s (60 steps), four times.
    odom, sim = new_odometry(kin, mode)
    turn_rate = (math.pi / 2) / (60 * DT)
    corners = [(5.0, 0.0), (5.0, 5.0), (0.0, 5.0), (0.0, 0.0)]
    for corner in corners:
        sim.drive(odom, 0.5, 0.0, 200)
        assert (odom.x, odom.y) == pytest.approx(corner, abs=1e-3)
        sim.drive(odom, 0.0, turn_rate, 60)
    assert math.hypot(odom.x, odom.y) < 1e-3                       # m
    assert abs(wrap_angle(odom.yaw)) < 1e-3                        # rad
    assert (odom.v, odom.w) == pytest.approx((0.0, turn_rate), abs=1e-9)


def test_instant_steering_needs_end_of_interval_angles():
    # An ideal simulator steers instantly and rolls at once: averaging the steering over the interval
    # would be wrong for the first step after each change, so it is switched off.
    kin = KINEMATICS['corner6']
    odom = WheelOdometry(kin, average_steering=False)
    sim = FeedbackSim(kin, 'positions', wheels_wait=False)
    assert not odom.update_from_positions(sim.positions, {}, 0.0)
    for _ in range(4):
        sim.drive(odom, 0.5, 0.0, 200)
        sim.drive(odom, 0.0, (math.pi / 2) / (60 * DT), 60)
    assert (odom.x, odom.y, odom.yaw) == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)


@pytest.mark.parametrize('mode', ['velocities', 'positions'])
@pytest.mark.parametrize(('v', 'w'), [(1.0, 0.5), (0.6, -0.3), (-0.4, 0.8)])
def test_arc_matches_the_analytic_circle(kin, mode, v, w):
    odom, sim = new_odometry(kin, mode)
    radius = v / w
    for step in range(1, 401):            # 20 s: the heading wraps past +-pi on the way
        sim.drive(odom, v, w, 1)
        if step % 50 == 0:
            t = step * DT
            assert odom.x == pytest.approx(radius * math.sin(w * t), abs=1e-9)
            assert odom.y == pytest.approx(radius * (1.0 - math.cos(w * t)), abs=1e-9)
            assert odom.yaw == pytest.approx(wrap_angle(w * t), abs=1e-9)
            assert -math.pi <= odom.yaw <= math.pi


def test_one_long_step_is_exact():
    # a quarter circle of radius 2 m in a single 3.14 s step
    x, y, yaw = integrate_arc((0.0, 0.0, 0.0), 1.0, 0.5, math.pi)
    assert (x, y, yaw) == pytest.approx((2.0, 2.0, math.pi / 2), abs=1e-12)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(v=st.floats(-2.0, 2.0), w=st.one_of(st.floats(-3.0, 3.0), st.floats(-1e-7, 1e-7)),
       yaw=st.floats(-math.pi, math.pi), steps=st.integers(1, 50))
def test_many_small_steps_equal_one_big_step(v, w, yaw, steps):
    total = 1.3   # s
    pose = (0.4, -0.2, yaw)
    for _ in range(steps):
        pose = integrate_arc(pose, v, w, total / steps)
    expected = integrate_arc((0.4, -0.2, yaw), v, w, total)
    assert pose[:2] == pytest.approx(expected[:2], abs=1e-9)
    assert wrap_angle(pose[2] - expected[2]) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize('w', [0.0, 1e-15, -1e-12, 1e-9])
def test_tiny_yaw_rate_is_a_straight_line_without_blowing_up(w):
    x, y, yaw = integrate_arc((1.0, 2.0, 0.3), 2.0, w, 0.5)
    assert x == pytest.approx(1.0 + math.cos(0.3), abs=1e-9)
    assert y == pytest.approx(2.0 + math.sin(0.3), abs=1e-9)
    assert yaw == pytest.approx(0.3, abs=1e-9)


@pytest.mark.parametrize('mode', ['velocities', 'positions'])
def test_zero_speed_keeps_the_pose_exactly(kin, mode):
    odom, sim = new_odometry(kin, mode)
    odom.reset(x=1.2345, y=-3.3, yaw=2.9)
    sim.drive(odom, 0.0, 0.0, 100)
    assert (odom.x, odom.y, odom.yaw, odom.v, odom.w) == (1.2345, -3.3, 2.9, 0.0, 0.0)


def test_position_reset_jump_is_skipped(kin):
    odom, sim = new_odometry(kin, 'positions')
    sim.drive(odom, 1.0, 0.0, 20)                       # 1 m
    assert odom.x == pytest.approx(1.0, abs=1e-9)
    sim.positions = {joint: 0.0 for joint in sim.positions}   # motor driver restarted: counters zeroed
    sim.step_count += 1
    assert not odom.update_from_positions(sim.positions, {}, sim.step_count * DT)
    assert 'jump' in odom.skip_reason
    assert odom.x == pytest.approx(1.0, abs=1e-9)
    sim.drive(odom, 1.0, 0.0, 20)                       # continues from the new reference
    assert (odom.x, odom.y, odom.yaw) == pytest.approx((2.0, 0.0, 0.0), abs=1e-9)


def test_wrapped_encoder_positions_are_unwrapped():
    kin = KINEMATICS['skid4']
    odom = WheelOdometry(kin, wrap_period=2 * math.pi)
    speed = 1.0 / kin.geometry.wheel_radius                 # 1 m/s
    for step in range(61):                                  # 3 s of feedback
        position = math.remainder(speed * step * DT, 2 * math.pi)
        odom.update_from_positions({j: position for j in kin.geometry.wheel_joints}, {}, step * DT)
    assert (odom.x, odom.y, odom.yaw) == pytest.approx((3.0, 0.0, 0.0), abs=1e-9)


def test_position_time_stamps():
    kin = KINEMATICS['skid6']
    odom = WheelOdometry(kin)
    joints = kin.geometry.wheel_joints
    assert not odom.update_from_positions({j: 0.0 for j in joints}, {}, 10.0)
    assert 'first' in odom.skip_reason
    assert not odom.update_from_positions({j: 0.1 for j in joints}, {}, 10.0)      # repeated stamp
    assert 'repeated' in odom.skip_reason and odom.x == 0.0
    assert odom.update_from_positions({j: 0.1 for j in joints}, {}, 10.1)          # 0.1 rad since t=10.0
    assert odom.x == pytest.approx(0.1 * 0.14, abs=1e-12) and odom.v == pytest.approx(0.14, abs=1e-12)
    assert not odom.update_from_positions({j: 0.5 for j in joints}, {}, 5.0)       # time went back
    assert 'back' in odom.skip_reason
    assert odom.update_from_positions({j: 0.6 for j in joints}, {}, 5.1)           # new reference used
    assert odom.x == pytest.approx(0.2 * 0.14, abs=1e-12)


def test_missing_wheel_in_one_message_is_tolerated():
    kin = KINEMATICS['corner6']
    odom = WheelOdometry(kin)
    sim = FeedbackSim(kin, 'positions')
    odom.update_from_positions(sim.positions, {}, 0.0)
    cmd = kin.inverse(0.5, 0.2)
    for joint, speed in cmd.wheel_velocities.items():
        sim.positions[joint] += speed * DT
    partial = {j: p for j, p in sim.positions.items() if j != 'wheel_middle_left_joint'}
    assert odom.update_from_positions(partial, cmd.steering_angles, DT)
    assert (odom.v, odom.w) == pytest.approx((0.5, 0.2), abs=1e-9)


def test_too_few_wheels_raise(kin):
    odom = WheelOdometry(kin)
    with pytest.raises(ValueError, match='wheel'):
        odom.update_from_velocities({kin.geometry.wheel_joints[0]: 1.0}, {}, DT)
    assert (odom.x, odom.y, odom.yaw) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize('dt', [0.0, -0.1])
def test_non_positive_dt_is_skipped(dt):
    kin = KINEMATICS['skid4']
    odom = WheelOdometry(kin)
    cmd = kin.inverse(1.0, 0.5)
    assert not odom.update_from_velocities(cmd.wheel_velocities, {}, dt)
    assert (odom.x, odom.y, odom.yaw) == (0.0, 0.0, 0.0)


def test_non_finite_time_raises():
    odom = WheelOdometry(KINEMATICS['skid4'])
    with pytest.raises(ValueError, match='dt'):
        odom.update_from_velocities({}, {}, math.nan)
    with pytest.raises(ValueError, match='stamp_s'):
        odom.update_from_positions({}, {}, math.inf)


def test_reset_sets_pose_and_wraps_yaw():
    odom = WheelOdometry(KINEMATICS['skid4'])
    odom.integrate(1.0, 0.5, 1.0)
    odom.reset(x=3.0, y=-1.0, yaw=3 * math.pi / 2)
    assert (odom.x, odom.y, odom.v, odom.w) == (3.0, -1.0, 0.0, 0.0)
    assert odom.yaw == pytest.approx(-math.pi / 2, abs=1e-12)
