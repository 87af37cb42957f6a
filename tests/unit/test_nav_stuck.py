"""Stuck detection and the recovery state machine."""
import math

import pytest

from rover_stack.navigation.stuck import BACKING_UP, DONE, IDLE, TURNING, Recovery, StuckConfig, StuckDetector

CONFIG = StuckConfig(stuck_time=2.0, progress_distance=0.2, backup_distance=0.5, backup_speed=0.25,
                     backup_timeout=3.0, turn_angle=0.8, turn_speed=0.5, turn_timeout=3.0, max_recoveries=2)


def test_no_progress_while_commanding_motion_is_stuck():
    detector = StuckDetector(CONFIG)
    assert not detector.update(0.0, 0.0, 0.0, 10.0, True)
    assert not detector.update(1.9, 0.05, 0.0, 9.95, True)
    assert detector.update(2.1, 0.05, 0.0, 9.95, True)


def test_progress_resets_the_clock():
    detector = StuckDetector(CONFIG)
    for step in range(100):
        t = step * 0.1
        assert not detector.update(t, 0.1 * step, 0.0, 10.0 - 0.1 * step, True)


def test_moving_around_an_obstacle_is_not_stuck_even_if_the_distance_grows():
    detector = StuckDetector(CONFIG)
    for step in range(100):
        assert not detector.update(step * 0.1, 0.0, 0.1 * step, 10.0 + 0.05 * step, True)


def test_time_not_commanding_motion_does_not_count():
    detector = StuckDetector(CONFIG)
    detector.update(0.0, 0.0, 0.0, 10.0, True)
    for step in range(1, 50):
        assert not detector.update(step * 0.1, 0.0, 0.0, 10.0, False)
    assert not detector.update(5.1, 0.0, 0.0, 10.0, True)
    assert detector.update(7.0, 0.0, 0.0, 10.0, True)


def simulate(recovery, t, x, y, yaw, dt=0.1, steps=200):
    """Integrate the recovery's commands; the states visited and the final pose."""
    states = [recovery.state]
    for _ in range(steps):
        v, w = recovery.step(t, x, y, yaw)
        if recovery.state != states[-1]:
            states.append(recovery.state)
        if recovery.state == DONE:
            assert (v, w) == (0.0, 0.0)
            break
        x += v * math.cos(yaw) * dt
        y += v * math.sin(yaw) * dt
        yaw += w * dt
        t += dt
    return states, (x, y, yaw)


def test_recovery_backs_up_then_turns_then_is_done():
    recovery = Recovery(CONFIG)
    assert recovery.state == IDLE and not recovery.active
    recovery.start(0.0, 0.0, 0.0, 0.0)
    assert recovery.active
    states, (x, _, yaw) = simulate(recovery, 0.0, 0.0, 0.0, 0.0)
    assert states == [BACKING_UP, TURNING, DONE]
    assert x == pytest.approx(-0.5, abs=0.03)
    assert yaw == pytest.approx(0.8, abs=0.06)


def test_blocked_rear_skips_the_backup_and_turns_alternate():
    recovery = Recovery(CONFIG)
    recovery.start(0.0, 0.0, 0.0, 0.0, rear_blocked=True)
    states, (x, _, yaw1) = simulate(recovery, 0.0, 0.0, 0.0, 0.0)
    assert states == [TURNING, DONE] and x == 0.0
    recovery.start(10.0, 0.0, 0.0, 0.0, rear_blocked=True)
    _, (_, _, yaw2) = simulate(recovery, 10.0, 0.0, 0.0, 0.0)
    assert yaw1 > 0 > yaw2
    assert recovery.exhausted
    recovery.reset()
    assert not recovery.exhausted and recovery.state == IDLE


def test_timeouts_end_each_phase_when_the_rover_cannot_move():
    recovery = Recovery(CONFIG)
    recovery.start(0.0, 0.0, 0.0, 0.0)
    assert recovery.step(0.0, 0.0, 0.0, 0.0) == (-0.25, 0.0)
    assert recovery.step(3.0, 0.0, 0.0, 0.0) == (0.0, 0.5)     # backup timed out: turning
    assert recovery.step(6.0, 0.0, 0.0, 0.0) == (0.0, 0.0)     # turn timed out
    assert recovery.state == DONE
