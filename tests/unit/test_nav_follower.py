"""Regulated pure pursuit in a kinematic loop (integrate v, w): lines, arcs, slowing, turning in place."""
import math

import numpy as np
import pytest

from rover_stack.common.angles import wrap_angle
from rover_stack.navigation.follower import FollowerConfig, PurePursuit

DT = 0.05
CONFIG = FollowerConfig(max_speed=1.0, min_speed=0.05, max_angular=1.5, approach_distance=1.5)


def drive(follower, pose, goal, steps=2000, cost_at=None, max_speed=None):
    """Integrate the unicycle until within 0.1 m of ``goal``; the trace of (x, y, yaw, v, w)."""
    x, y, yaw = pose
    v = 0.0
    trace = []
    for _ in range(steps):
        cmd = follower.step(x, y, yaw, v, max_speed=max_speed, cost_at=cost_at)
        assert math.isfinite(cmd.v) and math.isfinite(cmd.w)
        assert abs(cmd.v) <= CONFIG.max_speed + 1e-9 and abs(cmd.w) <= CONFIG.max_angular + 1e-9
        v = cmd.v
        x += cmd.v * math.cos(yaw) * DT
        y += cmd.v * math.sin(yaw) * DT
        yaw = wrap_angle(yaw + cmd.w * DT)
        trace.append((x, y, yaw, cmd.v, cmd.w))
        if math.hypot(goal[0] - x, goal[1] - y) < 0.1:
            break
    return np.array(trace)


def cross_track_to_segment(points, a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    t = np.clip(((points - a) @ d) / (d @ d), 0, 1)
    return np.hypot(*(a + t[:, None] * d - points).T)


def test_converges_on_a_straight_line_from_an_offset_start():
    follower = PurePursuit(CONFIG)
    follower.set_path(np.array([[0.0, 0.0], [10.0, 0.0]]))
    trace = drive(follower, (0.0, 0.8, 0.3), (10.0, 0.0))
    assert math.hypot(trace[-1, 0] - 10.0, trace[-1, 1]) < 0.1
    later = trace[trace[:, 0] > 5.0]
    assert np.max(np.abs(later[:, 1])) < 0.1           # converged onto the line


def test_follows_an_arc_closely():
    follower = PurePursuit(CONFIG)
    angles = np.linspace(-math.pi / 2, math.pi / 2, 60)
    radius = 4.0
    arc = np.column_stack([radius * np.cos(angles), radius * np.sin(angles) + radius])
    follower.set_path(arc)
    trace = drive(follower, (0.0, 0.0, 0.0), arc[-1])
    assert math.hypot(*(trace[-1, :2] - arc[-1])) < 0.1
    error = np.abs(np.hypot(trace[:, 0], trace[:, 1] - radius) - radius)
    assert np.max(error) < 0.25                        # pure pursuit cuts corners a little


def test_slows_near_the_goal_and_on_costly_ground():
    follower = PurePursuit(CONFIG)
    follower.set_path(np.array([[0.0, 0.0], [10.0, 0.0]]))
    trace = drive(follower, (0.0, 0.0, 0.0), (10.0, 0.0))
    cruise = trace[(trace[:, 0] > 3) & (trace[:, 0] < 7), 3]
    assert np.allclose(cruise, 1.0)
    assert trace[-1, 3] < 0.15
    follower.set_path(np.array([[0.0, 0.0], [10.0, 0.0]]))
    assert follower.step(0.0, 0.0, 0.0, 1.0, cost_at=lambda x, y: 0.5).v == pytest.approx(0.7)


def test_tight_curvature_reduces_speed_and_max_speed_caps_it():
    follower = PurePursuit(CONFIG)
    follower.set_path(np.array([[0.0, 0.0], [0.5, 0.5], [0.5, 5.0]]))
    cmd = follower.step(0.0, 0.0, 0.0, 0.0)
    assert 0 < cmd.v < 1.0 and cmd.w > 0
    follower.set_path(np.array([[0.0, 0.0], [10.0, 0.0]]))
    assert follower.step(0.0, 0.0, 0.0, 0.0, max_speed=0.4).v == pytest.approx(0.4)


def test_rotates_in_place_when_the_path_is_behind():
    follower = PurePursuit(CONFIG)
    follower.set_path(np.array([[0.0, 0.0], [-5.0, 0.0]]))
    cmd = follower.step(0.0, 0.0, 0.1, 0.0)
    assert cmd.rotating and cmd.v == 0.0 and cmd.w > 0 and abs(cmd.w) <= CONFIG.max_angular
    trace = drive(follower, (0.0, 0.0, 0.1), (-5.0, 0.0))
    assert math.hypot(trace[-1, 0] + 5.0, trace[-1, 1]) < 0.1


@pytest.mark.parametrize('pose', [(float('nan'), 0.0, 0.0), (0.0, 0.0, float('inf'))])
def test_non_finite_pose_gives_zero(pose):
    follower = PurePursuit(CONFIG)
    follower.set_path(np.array([[0.0, 0.0], [5.0, 0.0]]))
    cmd = follower.step(*pose, 0.5)
    assert (cmd.v, cmd.w) == (0.0, 0.0)


def test_degenerate_paths_are_safe():
    follower = PurePursuit(CONFIG)
    assert (follower.step(0, 0, 0, 0).v, follower.step(0, 0, 0, 0).w) == (0.0, 0.0)   # no path
    follower.set_path(np.array([[1.0, 1.0], [1.0, 1.0]]))
    cmd = follower.step(0.0, 0.0, math.pi / 4, float('nan'), cost_at=lambda x, y: float('nan'))
    assert math.isfinite(cmd.v) and math.isfinite(cmd.w)
    with pytest.raises(ValueError):
        follower.set_path(np.array([[0.0, float('nan')]]))


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        FollowerConfig(min_lookahead=0.0)
    with pytest.raises(ValueError):
        FollowerConfig(max_speed=-1.0)
