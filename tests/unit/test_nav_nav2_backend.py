"""The Nav2 backend's pure parts: the clear error without nav2_msgs, and its table of Nav2 error codes
checked against the real nav2_msgs action results (install-nav/, built by make test)."""
import importlib
import math
import sys

import pytest

from rover_stack.navigation.nav2_backend import (
    INVALID_GOAL_CODES,
    NAV2_ERRORS,
    Nav2UnavailableError,
    heading_error,
    nav2_action_type,
    nav2_error_text,
)


def test_missing_nav2_msgs_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'nav2_msgs', None)          # as where Nav2 is not installed
    monkeypatch.setitem(sys.modules, 'nav2_msgs.action', None)
    with pytest.raises(Nav2UnavailableError, match="backend 'nav2' needs nav2_msgs"):
        nav2_action_type()


@pytest.mark.nav2
def test_error_table_matches_nav2_msgs():
    actions = importlib.import_module('nav2_msgs.action')
    for code, (action, name) in NAV2_ERRORS.items():
        assert getattr(getattr(actions, action).Result, name) == code, (action, name)
    assert nav2_action_type() is actions.NavigateToPose
    assert NAV2_ERRORS[next(iter(INVALID_GOAL_CODES))] == ('ComputePathToPose', 'GOAL_OUTSIDE_MAP')


def test_error_text_names_the_code():
    assert nav2_error_text(206, 'occupied') == 'Nav2 failed: ComputePathToPose GOAL_OCCUPIED (206): occupied'
    assert nav2_error_text(9999, '') == 'Nav2 failed: error (9999)'


class _Stamped:
    def __init__(self, frame, x, y, yaw=0.0):
        self.header = type('H', (), {'frame_id': frame})()
        position = type('P', (), {'x': x, 'y': y})()
        orientation = type('Q', (), {'x': 0.0, 'y': 0.0, 'z': math.sin(yaw / 2), 'w': math.cos(yaw / 2)})()
        self.pose = type('Pose', (), {'position': position, 'orientation': orientation})()


def test_heading_error_is_bearing_minus_yaw_in_one_frame():
    assert abs(heading_error(_Stamped('map', 1.0, 1.0, yaw=math.pi / 2), _Stamped('map', 1.0, 0.0))) == \
        pytest.approx(math.pi)
    assert heading_error(_Stamped('map', 0.0, 0.0, yaw=0.5), _Stamped('map', 1.0, 1.0)) == \
        pytest.approx(math.pi / 4 - 0.5)
    assert heading_error(_Stamped('map', 0.0, 0.0), _Stamped('odom', 1.0, 1.0)) == 0.0
