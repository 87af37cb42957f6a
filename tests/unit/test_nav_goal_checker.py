"""Goal checker: xy tolerance, optional yaw, latching of the position."""
import math

import pytest

from rover_stack.navigation.goal_checker import GoalChecker


def test_xy_tolerance():
    checker = GoalChecker(xy_tolerance=0.5)
    assert not checker.check((0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    assert checker.check((0.6, 0.0, 2.0), (1.0, 0.0, 0.0))       # yaw ignored


def test_heading_required_after_position_and_position_latches():
    checker = GoalChecker(xy_tolerance=0.5, yaw_tolerance=0.1, use_heading=True)
    assert not checker.check((1.0, 0.0, 0.0), (1.0, 0.0, math.pi / 2))
    assert checker.xy_reached
    assert checker.check((1.7, 0.0, math.pi / 2 + 0.05), (1.0, 0.0, math.pi / 2))  # drifted: still ok
    assert checker.check((1.0, 0.0, -math.pi + 0.05), (1.0, 0.0, math.pi - 0.02))  # wraps
    checker.reset()
    assert not checker.check((1.7, 0.0, math.pi / 2), (1.0, 0.0, math.pi / 2))


def test_bad_tolerance_is_refused():
    with pytest.raises(ValueError):
        GoalChecker(xy_tolerance=0.0)
