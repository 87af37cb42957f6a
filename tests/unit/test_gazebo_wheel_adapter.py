"""CommandSplitter: the contract's joint commands split per Gazebo joint, with the wheel timeout."""
import math

import pytest

from rover_stack.gazebo.wheel_adapter import CommandSplitter

WHEELS = ('wheel_front_left_joint', 'wheel_front_right_joint', 'wheel_rear_left_joint', 'wheel_rear_right_joint')
STEER = ('steer_front_left_joint', 'steer_front_right_joint')


def splitter():
    return CommandSplitter(WHEELS, STEER, timeout=0.5, max_wheel_speed=12.0, max_steering_angle=1.57)


def test_zero_before_any_command():
    s = splitter()
    assert s.wheel_setpoints(0.0) == dict.fromkeys(WHEELS, 0.0)
    assert s.steering_setpoints() == dict.fromkeys(STEER, 0.0)


def test_a_command_goes_to_each_named_joint_in_any_order():
    s = splitter()
    assert s.on_wheel_command(list(reversed(WHEELS)), [4.0, 3.0, 2.0, 1.0], now=10.0) is None
    assert s.wheel_setpoints(10.1) == dict(zip(WHEELS, [1.0, 2.0, 3.0, 4.0], strict=True))


def test_wheels_stop_after_the_timeout_and_restart_from_zero():
    s = splitter()
    s.on_wheel_command(WHEELS, [1.0] * 4, now=10.0)
    assert s.wheel_setpoints(10.5)[WHEELS[0]] == 1.0
    assert s.wheel_setpoints(10.51) == dict.fromkeys(WHEELS, 0.0)
    s.on_wheel_command(WHEELS[:1], [2.0], now=20.0)   # a partial command after a timeout: others stay 0
    assert s.wheel_setpoints(20.0) == {WHEELS[0]: 2.0, **dict.fromkeys(WHEELS[1:], 0.0)}


def test_steering_holds_its_last_angle():
    s = splitter()
    assert s.on_steering_command(STEER, [0.3, -0.2]) is None
    assert s.steering_setpoints() == {STEER[0]: 0.3, STEER[1]: -0.2}
    s.on_wheel_command(WHEELS, [0.0] * 4, now=0.0)
    s.wheel_setpoints(100.0)
    assert s.steering_setpoints() == {STEER[0]: 0.3, STEER[1]: -0.2}


@pytest.mark.parametrize('names, values, reason', [
    (WHEELS, [1.0] * 3, '4 names but 3'),
    (['wheel_middle_left_joint'], [1.0], 'unknown joint'),
    ([WHEELS[0], WHEELS[0]], [1.0, 1.0], 'named twice'),
    (WHEELS[:1], [math.nan], 'not finite'),
    (WHEELS[:1], [math.inf], 'not finite'),
    (WHEELS[:1], [12.5], 'exceeds the limit'),
])
def test_bad_wheel_commands_are_refused_whole(names, values, reason):
    s = splitter()
    s.on_wheel_command(WHEELS, [1.0] * 4, now=0.0)
    error = s.on_wheel_command(names, values, now=0.1)
    assert error is not None and reason in error
    assert s.wheel_setpoints(0.2) == dict.fromkeys(WHEELS, 1.0)


def test_bad_steering_commands_are_refused():
    s = splitter()
    assert 'exceeds' in s.on_steering_command(STEER[:1], [1.6])
    assert 'unknown' in s.on_steering_command(WHEELS[:1], [0.1])
    assert s.steering_setpoints() == dict.fromkeys(STEER, 0.0)


def test_invalid_configuration_is_refused():
    with pytest.raises(ValueError):
        CommandSplitter(WHEELS, STEER, timeout=0.0, max_wheel_speed=1.0, max_steering_angle=1.0)
