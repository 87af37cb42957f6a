"""Value checks of the hardware-interface contract on good and bad hand-built messages."""
import math
from types import SimpleNamespace

import pytest

from rover_stack.common.share_files import robot_config_path, robot_variants
from rover_stack.contract.checks import CHECK_KINDS, Check, FieldError, get_field, run_checks, skipped_checks
from rover_stack.contract.model import load_contract
from rover_stack.contract.samples import sample_message
from rover_stack.description.geometry import load_geometry

CONTRACT = load_contract()


def geometry_of(variant):
    return load_geometry(robot_config_path(variant))


SKID4 = geometry_of('skid4')
CORNER6 = geometry_of('corner6')


def problems(topic, msg, geometry=SKID4):
    return run_checks(msg, CONTRACT.topic(topic).checks, geometry)


@pytest.mark.parametrize('variant', robot_variants())
def test_sample_messages_pass_every_check(variant):
    geometry = geometry_of(variant)
    for topic in CONTRACT.select(kinematics=geometry.kinematics):
        msg = sample_message(topic, geometry)
        assert run_checks(msg, topic.checks, geometry) == [], topic.name
        if topic.frame_id is not None:
            assert msg.header.frame_id == topic.frame_id


def sample(topic, geometry=SKID4):
    return sample_message(CONTRACT.topic(topic), geometry)


def set_field(path, value):
    def change(msg):
        *parents, last = path.split('.')
        target = msg
        for part in parents:
            target = getattr(target, part)
        setattr(target, last, value)
    return change


def set_item(path, index, value):
    def change(msg):
        get_field(msg, path)[index] = value
    return change


def drop_last_joint(msg):
    msg.name = msg.name[:-1]
    msg.velocity = msg.velocity[:-1]
    msg.position = msg.position[:-1]


# (topic, change to a conforming message, text expected in one of the problems)
BAD_MESSAGES = [
    ('joint_states', set_item('velocity', 0, math.nan), 'velocity[0] is nan, not finite'),
    ('joint_states', set_item('position', 1, math.inf), 'position[1] is inf, not finite'),
    ('joint_states', drop_last_joint, 'lacks joints'),
    ('joint_states', set_item('name', 0, 'wheel_left_joint'), 'not in the robot config'),
    ('joint_states', set_field('velocity', [0.0]), 'lengths differ'),
    ('joint_states', set_field('header.stamp.sec', 0), 'not stamped'),
    ('wheel_commands', set_item('velocity', 2, 50.0), 'velocity[2] = 50 outside [-12, 12]'),
    ('wheel_commands', set_item('name', 1, 'wheel_front_left_joint'), 'repeats'),
    ('imu/data', set_field('orientation.w', 0.5), 'norm 0.5000, not 1'),
    ('imu/data', set_field('orientation.x', math.nan), 'orientation is not finite'),
    ('imu/data', set_field('linear_acceleration.z', math.nan), 'linear_acceleration.z is nan'),
    ('imu/data', set_field('angular_velocity.y', 100.0), 'angular_velocity.y = 100 outside'),
    ('imu/data', set_item('orientation_covariance', 4, -1.0), 'negative variance'),
    ('imu/data', set_item('angular_velocity_covariance', 1, 0.5), 'not symmetric'),
    ('gnss/fix', set_field('latitude', 91.0), 'latitude = 91 outside [-90, 90]'),
    ('gnss/fix', set_field('longitude', -190.0), 'longitude = -190 outside [-180, 180]'),
    ('gnss/fix', set_field('latitude', math.nan), 'latitude is NaN'),
    ('gnss/fix', set_field('status.status', 7), 'status.status = 7 not one of'),
    ('camera/image_raw', set_field('encoding', 'yuv422'), "encoding = 'yuv422' not one of"),
    ('camera/image_raw', set_field('step', 10), 'step 10 < width 64'),
    ('camera/image_raw', set_field('data', bytes(100)), 'data has 100 bytes'),
    ('camera/image_raw', set_field('height', 0), 'is empty'),
    ('camera/camera_info', set_item('k', 0, 0.0), 'k is not a camera matrix'),
    ('camera/camera_info', set_field('d', [0.0] * 3), 'plumb_bob needs 5 coefficients'),
    ('camera/camera_info', set_field('distortion_model', 'fisheye9'), "distortion_model 'fisheye9' unknown"),
    ('scan', set_field('ranges', [5.0] * 10), '10 ranges, angles give 181'),
    ('scan', set_item('ranges', 3, 50.0), 'ranges outside [range_min, range_max]'),
    ('scan', set_field('angle_increment', -0.1), 'angles not increasing'),
    ('scan', set_field('range_min', 30.0), 'range limits not'),
    ('scan', set_field('intensities', [1.0, 2.0]), '2 intensities for 181 ranges'),
    ('battery', set_field('percentage', 80.0), 'percentage = 80 outside [0, 1]'),
    ('battery', set_field('voltage', -1.0), 'voltage = -1 outside'),
    ('status_light', set_field('color', 9), 'color = 9 not one of'),
    ('status_light', set_field('flashing', True), 'flash_period = 0 outside [0.05, 10]'),
]


@pytest.mark.parametrize(('topic', 'change', 'expected'), BAD_MESSAGES,
                         ids=[f'{t}-{e[:30]}' for t, _, e in BAD_MESSAGES])
def test_bad_messages_are_reported(topic, change, expected):
    msg = sample(topic)
    assert problems(topic, msg) == []
    change(msg)
    found = problems(topic, msg)
    assert any(expected in problem for problem in found), found


def test_steering_commands_over_the_limit_and_on_the_wrong_rover():
    msg = sample('steering_commands', CORNER6)
    assert problems('steering_commands', msg, CORNER6) == []
    msg.position = [0.0, 2.0, 0.0, 0.0]
    found = problems('steering_commands', msg, CORNER6)
    assert any('position[1] = 2 outside [-1.5707, 1.5707]' in p for p in found), found
    # A skid rover has no steering joints: every name is unknown.
    found = problems('steering_commands', sample('steering_commands', CORNER6), SKID4)
    assert any('not in the robot config' in p for p in found), found


def test_corner_joint_states_need_the_steering_joints():
    msg = sample('joint_states', SKID4)       # wheels only
    found = problems('joint_states', msg, CORNER6)
    assert any('lacks joints' in p and 'steer_front_left_joint' in p for p in found), found


def test_imu_without_orientation_may_leave_the_quaternion_zero():
    msg = sample('imu/data')
    msg.orientation.w = 0.0
    msg.orientation_covariance[0] = -1.0
    assert problems('imu/data', msg) == []


def test_gnss_without_fix_may_have_nan_position():
    msg = sample('gnss/fix')
    msg.status.status = -1
    msg.latitude = msg.longitude = msg.altitude = math.nan
    assert problems('gnss/fix', msg) == []


def test_scan_may_hold_infinities_and_nan_per_rep117():
    msg = sample('scan')
    msg.ranges[0], msg.ranges[1], msg.ranges[2] = -math.inf, math.nan, math.inf
    assert problems('scan', msg) == []


def test_battery_may_report_unknown_values_as_nan():
    msg = sample('battery')
    msg.percentage = msg.voltage = math.nan
    assert problems('battery', msg) == []


def test_geometry_checks_are_skipped_without_a_geometry_and_listed():
    msg = sample('wheel_commands')
    msg.name = ['nonsense']
    msg.velocity = [99.0]
    checks = CONTRACT.topic('wheel_commands').checks
    assert run_checks(msg, checks, geometry=None) == []
    assert {c.kind for c in skipped_checks(checks)} == {'joint_names', 'range'}
    assert skipped_checks(checks, SKID4) == []


def test_checks_work_on_duck_typed_stand_ins():
    msg = SimpleNamespace(latitude=120.0, items=[1.0, math.nan])
    range_check = Check('range', {'field': 'latitude', 'min': -90.0, 'max': 90.0})
    finite_check = Check('finite', {'fields': ('items',)})
    assert run_checks(msg, [range_check, finite_check]) == [
        'latitude = 120 outside [-90, 90]', 'items[1] is nan, not finite']


def test_a_field_the_message_lacks_is_a_problem_not_a_crash():
    found = run_checks(SimpleNamespace(), [Check('one_of', {'field': 'color', 'values': (1,)}),
                                           Check('image')])
    assert len(found) == 2
    assert "has no field 'color'" in found[0]
    assert 'cannot check' in found[1]


def test_get_field_paths():
    msg = sample('imu/data')
    assert get_field(msg, 'orientation_covariance[4]') == pytest.approx(1e-3)
    assert get_field(msg, 'header.frame_id') == 'imu_link'
    with pytest.raises(FieldError, match='out of range'):
        get_field(msg, 'orientation_covariance[9]')
    with pytest.raises(FieldError, match='bad field path'):
        get_field(msg, 'orientation..x')


def test_every_kind_is_used_or_tested():
    used = {check.kind for topic in CONTRACT.topics.values() for check in topic.checks}
    assert used | {'non_empty'} == set(CHECK_KINDS)
    msg = SimpleNamespace(name=[], velocity=[1.0])
    assert run_checks(msg, [Check('non_empty', {'fields': ('name', 'velocity')})]) == ['name is empty']
