"""Terminal teleop mappings: keys, deadman, turbo, joystick axes and enable button."""
from rover_stack.base_station.teleop_mapping import (
    AxisMapping,
    Deadman,
    Speeds,
    joystick_command,
    key_command,
)

SPEEDS = Speeds(linear=0.5, angular=1.0, turbo_linear=1.0, turbo_angular=2.0)


def test_keys_and_turbo():
    assert key_command('w', SPEEDS) == (0.5, 0.0)
    assert key_command('W', SPEEDS) == (1.0, 0.0)
    assert key_command('a', SPEEDS) == (0.0, 1.0)       # counter-clockwise
    assert key_command('\x1b[C', SPEEDS) == (0.0, -1.0)  # right arrow
    assert key_command(' ', SPEEDS) == (0.0, 0.0)
    assert key_command('x', SPEEDS) is None


def test_deadman_zeroes_after_hold():
    deadman = Deadman(hold=0.3)
    assert deadman.command(0.0) == (0.0, 0.0)
    deadman.press((0.5, 0.0), 1.0)
    assert deadman.command(1.29) == (0.5, 0.0)
    assert deadman.command(1.31) == (0.0, 0.0)


def test_joystick_needs_enable_and_maps_axes():
    mapping = AxisMapping(linear_axis=1, angular_axis=0, enable_button=4, turbo_button=5, deadzone=0.1)
    axes = [-0.5, -1.0]            # stick up and left
    assert joystick_command(axes, [0] * 6, mapping, SPEEDS) == (0.0, 0.0)
    assert joystick_command(axes, [0, 0, 0, 0, 1, 0], mapping, SPEEDS) == (0.5, 0.5)
    assert joystick_command(axes, [0, 0, 0, 0, 1, 1], mapping, SPEEDS) == (1.0, 1.0)
    assert joystick_command([0.05, -0.05], [0, 0, 0, 0, 1], mapping, SPEEDS) == (0.0, 0.0)   # dead zone
    assert joystick_command([], [0, 0, 0, 0, 1], mapping, SPEEDS) == (0.0, 0.0)   # axes missing
    assert joystick_command([3.0, -7.0], [0, 0, 0, 0, 1], mapping, SPEEDS) == (0.5, -1.0)   # clipped
