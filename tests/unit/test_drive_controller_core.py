"""Drive controller decisions: timeout ramp, e-stop latch, command validation, saturation, steering."""
import dataclasses
import math
from pathlib import Path

import pytest

from rover_stack.description.geometry import load_geometry
from rover_stack.drive.controller_core import (
    REJECT_ESTOP,
    REJECT_FRAME,
    REJECT_FUTURE,
    REJECT_NOT_FINITE,
    REJECT_OUT_OF_RANGE,
    REJECT_STALE,
    ControllerConfig,
    DriveControllerCore,
    JointFeedback,
    parse_joint_feedback,
)
from rover_stack.drive.limits import AxisLimits

ROBOTS = Path(__file__).resolve().parents[2] / 'config' / 'robot'
DT = 0.02   # s, a 50 Hz loop


def geometry(name):
    return load_geometry(ROBOTS / f'{name}.yaml')


def armed(geom, config=None, now=0.0):
    """A core reset by the operator at ``now``, with no heartbeat e-stop source (so the rules after
    the latch can be tested over long runs without feeding hardware_estop)."""
    config = dataclasses.replace(config or ControllerConfig(), silent_estop_timeouts=())
    core = DriveControllerCore(geom, config)
    assert core.reset_estop(now)[0]
    return core


def run(core, t0, t1, command=None):
    """Step from t0 to t1 (s) at DT, re-sending ``command`` (v, w) before each step if given."""
    outputs, t = [], t0
    while t < t1 - 1e-9:
        if command is not None:
            assert core.command(*command, now=t) is None
        outputs.append((t, core.step(t)))
        t = round(t + DT, 9)
    return outputs, t


def twist(core, cmd):
    """Body twist (v, w) that a wheel command drives, by the kinematics' forward solution."""
    return core.kinematics.forward(cmd.wheel_velocities, cmd.steering_angles)


def all_zero(cmd):
    return all(s == 0.0 for s in cmd.wheel_velocities.values())


# ---- timeout ------------------------------------------------------------------------------------

@pytest.mark.parametrize('robot, command', [
    ('skid4', (1.0, 0.0)),
    ('skid4', (0.0, 1.5)),
    ('skid6', (-0.8, 0.6)),
    ('corner6', (0.5, 0.0)),
])
def test_timeout_ramps_to_zero_within_deceleration_limits(robot, command):
    config = ControllerConfig(cmd_timeout=0.5)
    core = armed(geometry(robot), config)
    _, t = run(core, 0.0, 3.0, command)          # reach the commanded twist
    core.command(*command, now=t)
    v, w = twist(core, core.step(t))
    assert v == pytest.approx(command[0], abs=1e-6) and w == pytest.approx(command[1], abs=1e-6)
    last_command = t
    outputs, _ = run(core, t + DT, t + 3.0)      # silence
    held = [(s, c) for s, c in outputs if s - last_command <= config.cmd_timeout - 1e-9]
    assert held and all(twist(core, c)[0] == pytest.approx(command[0], abs=1e-6) for _, c in held)
    previous = twist(core, held[-1][1])
    stopped_at = None
    for stamp, cmd in outputs[len(held):]:
        v, w = twist(core, cmd)
        assert abs(previous[0]) - abs(v) <= config.linear.max_deceleration * DT + 1e-6
        assert abs(previous[1]) - abs(w) <= config.angular.max_deceleration * DT + 1e-6
        assert abs(v) <= abs(previous[0]) + 1e-9 and abs(w) <= abs(previous[1]) + 1e-9
        previous = (v, w)
        if stopped_at is None and all_zero(cmd):
            stopped_at = stamp
    ramp = max(abs(command[0]) / config.linear.max_deceleration,
               abs(command[1]) / config.angular.max_deceleration)
    assert stopped_at is not None
    assert stopped_at - last_command <= config.cmd_timeout + ramp + 2 * DT
    assert all_zero(outputs[-1][1])
    assert core.status(outputs[-1][0]).timeouts == 1


def test_fresh_commands_never_time_out():
    core = armed(geometry('skid4'))
    run(core, 0.0, 2.0, (0.4, 0.0))
    assert core.status(2.0).timeouts == 0
    assert core.status(2.0).command_fresh


# ---- e-stop latch -------------------------------------------------------------------------------

LATCH_CASES = [
    # (events, expect latched at the end, expected reset results along the way)
    ([('set', 'estop', True)], True, []),
    ([('set', 'estop', True), ('reset',)], True, [False]),
    ([('set', 'estop', True), ('set', 'estop', False)], True, []),
    ([('set', 'estop', True), ('set', 'estop', False), ('reset',)], False, [True]),
    ([('set', 'estop', True), ('set', 'hardware_estop', True), ('set', 'estop', False), ('reset',)], True,
     [False]),
    ([('set', 'hardware_estop', True), ('set', 'hardware_estop', False), ('reset',)], False, [True]),
    ([('set', 'estop', False), ('reset',)], False, [True]),
]


@pytest.mark.parametrize('events, latched, resets', LATCH_CASES)
def test_estop_latch_and_reset(events, latched, resets):
    core = armed(geometry('skid4'))
    run(core, 0.0, 1.0, (0.8, 0.3))
    results, t = [], 1.0
    for event in events:
        core.command(0.8, 0.3, now=t)
        if event[0] == 'set':
            core.set_estop(event[1], event[2], t)
        else:
            ok, message = core.reset_estop(t)
            assert message
            results.append(ok)
        cmd = core.step(t)
        if core.estop_latched:
            assert all_zero(cmd), 'output must be zero from the first step after the latch'
        t = round(t + DT, 9)
    assert results == resets
    assert core.estop_latched is latched
    assert core.status(t).estop_latched is latched


def test_refused_reset_names_the_active_source_and_keeps_zero():
    core = armed(geometry('skid4'))
    core.set_estop('hardware_estop', True, 0.0)
    ok, message = core.reset_estop(0.0)
    assert not ok and 'hardware_estop' in message
    assert core.command(0.5, 0.0, now=0.0) == REJECT_ESTOP
    assert all_zero(core.step(0.0)) and all_zero(core.step(0.1))
    assert core.status(0.1).estop_active_sources == ('hardware_estop',)


def test_reset_needs_a_fresh_command_before_moving():
    core = armed(geometry('skid4'))
    run(core, 0.0, 1.0, (0.5, 0.0))
    core.set_estop('estop', True, 1.0)
    core.set_estop('estop', False, 1.0)
    assert core.reset_estop(1.0)[0]
    outputs, t = run(core, 1.0, 1.3)
    assert all(all_zero(c) for _, c in outputs), 'the command from before the e-stop must not resume'
    outputs, _ = run(core, t, t + 0.5, (0.5, 0.0))
    assert not all_zero(outputs[-1][1])


# ---- command validation -------------------------------------------------------------------------

@pytest.mark.parametrize('v, w, reason', [
    (math.nan, 0.0, REJECT_NOT_FINITE),
    (0.0, math.nan, REJECT_NOT_FINITE),
    (math.inf, 0.0, REJECT_NOT_FINITE),
    (0.0, -math.inf, REJECT_NOT_FINITE),
    (2.5, 0.0, REJECT_OUT_OF_RANGE),      # reject_linear_above 2.0 m/s
    (-2.01, 0.0, REJECT_OUT_OF_RANGE),
    (0.0, 3.5, REJECT_OUT_OF_RANGE),      # reject_angular_above 3.0 rad/s
])
def test_bad_commands_are_rejected_and_counted_while_good_ones_pass(v, w, reason):
    core = armed(geometry('skid4'))
    t = 0.0
    for _ in range(100):
        assert core.command(0.5, 0.2, now=t) is None
        assert core.command(v, w, now=t) == reason
        core.step(t)
        t = round(t + DT, 9)
    status = core.status(t)
    assert status.rejected == {reason: 100}
    assert status.accepted == 100
    assert twist(core, core.step(t)) == pytest.approx((0.5, 0.2), abs=1e-6)


def test_commands_between_max_and_reject_threshold_are_clamped():
    core = armed(geometry('skid4'))
    run(core, 0.0, 3.0, (1.5, 0.0))      # max 1.0 m/s, reject above 2.0 m/s
    assert core.status(3.0).rejected == {}
    assert twist(core, core.step(3.0))[0] == pytest.approx(1.0, abs=1e-6)


def test_stale_and_future_stamps_are_rejected_by_default():
    """Issue #18 item 4: the stamp check was off by default (max_stamp_age 0)."""
    core = armed(geometry('skid4'))
    bound, ahead = ControllerConfig().max_stamp_age, ControllerConfig().max_stamp_future
    assert bound > 0.0 and ahead > 0.0
    assert core.command(0.3, 0.0, now=10.0, stamp=10.0 - bound - 0.01) == REJECT_STALE
    assert core.command(0.3, 0.0, now=10.0, stamp=10.0 + ahead + 0.01) == REJECT_FUTURE
    assert core.command(0.3, 0.0, now=10.0, stamp=9.9) is None
    assert core.command(0.3, 0.0, now=10.0, stamp=None) is None
    unchecked = armed(geometry('skid4'), ControllerConfig(max_stamp_age=0.0))
    assert unchecked.command(0.3, 0.0, now=10.0, stamp=1.0) is None


def test_an_accepted_command_expires_at_the_stamp_age_bound():
    """A command delivered late (stamp 0.8 s old, within the 1 s bound) drives for 0.2 s, not for
    the whole cmd_timeout after its arrival."""
    core = armed(geometry('skid4'), ControllerConfig(max_stamp_age=1.0, cmd_timeout=0.5))
    assert core.command(0.3, 0.0, now=10.0, stamp=9.2) is None
    assert core.status(10.1).command_fresh
    assert not core.status(10.25).command_fresh
    assert core.status(10.25).command_age == pytest.approx(0.25)


def test_a_backward_clock_step_never_makes_an_old_command_fresh():
    """Issue #18 item 4: a negative age (now before the arrival) counted as fresh."""
    core = armed(geometry('skid4'))
    run(core, 0.0, 2.0, (0.5, 0.0))
    assert not all_zero(core.step(2.0))
    core.command(0.5, 0.0, now=2.0)
    assert not core.status(1.0).command_fresh          # the clock stepped back by 1 s
    outputs, _ = run(core, 1.0, 1.9)
    assert all_zero(outputs[-1][1]), 'the pre-step command kept driving'
    assert core.status(1.9).timeouts == 1


# ---- start-up and silent e-stop sources ---------------------------------------------------------

def test_a_started_core_is_latched_until_reset():
    """Issue #18 item 1: the core started unlatched, so a respawned controller drove at once."""
    core = DriveControllerCore(geometry('skid4'))
    assert core.estop_latched and core.latch_reason == 'startup'
    core.set_estop('hardware_estop', False, 0.0)   # released button, no e-stop anywhere
    core.set_estop('estop', False, 0.0)
    assert core.command(0.5, 0.0, now=0.1) == REJECT_ESTOP
    assert all_zero(core.step(0.1)) and core.estop_latched
    ok, message = core.reset_estop(0.2)
    assert ok and 'startup' in message
    outputs, _ = run(core, 0.2, 1.0, (0.5, 0.0))
    assert not all_zero(outputs[-1][1])


@pytest.mark.parametrize('heard_at, reset_at, ok', [
    (None, 0.5, False),    # never heard: counts as pressed
    (0.0, 2.9, True),
    (0.0, 3.1, False),     # silent for more than 3 s
    (5.0, 4.0, False),     # heard 'after' now: the clock stepped back
])
def test_a_silent_hardware_estop_counts_as_pressed(heard_at, reset_at, ok):
    """Issue #18 item 3: hardware_estop silent > 3 s must count as pressed (docs/hardware_interface.md)."""
    core = DriveControllerCore(geometry('skid4'))
    if heard_at is not None:
        core.set_estop('hardware_estop', False, heard_at)
    result, message = core.reset_estop(reset_at)
    assert result is ok, message
    if not ok:
        assert 'hardware_estop' in message and core.estop_latched


def test_a_hardware_estop_going_silent_while_driving_latches():
    core = DriveControllerCore(geometry('skid4'))
    core.set_estop('hardware_estop', False, 0.0)
    assert core.reset_estop(0.0)[0]
    t = 0.0
    while t < 2.9:                          # the heartbeat keeps coming for 2 s, then stops
        if t <= 2.0:
            core.set_estop('hardware_estop', False, t)
        core.command(0.5, 0.0, now=t)
        core.step(t)
        t = round(t + DT, 9)
    assert not core.estop_latched
    assert not all_zero(core.step(t))
    core.command(0.5, 0.0, now=5.05)
    assert all_zero(core.step(5.05)) and core.estop_latched
    assert core.latch_reason == 'hardware_estop silent'
    assert core.status(5.05).estop_active_sources == ('hardware_estop',)
    core.set_estop('hardware_estop', False, 5.1)     # heard again: the latch stays until a reset
    core.command(0.5, 0.0, now=5.1)
    assert all_zero(core.step(5.1)) and core.estop_latched
    assert core.reset_estop(5.2)[0]


def test_commands_in_a_body_frame_pass_and_other_frames_are_rejected():
    core = armed(geometry('skid4'))
    for frame in ('', 'base_link', 'base_footprint'):
        assert core.command(0.3, 0.0, now=1.0, frame_id=frame) is None
    for frame in ('odom', 'map', 'camera_link'):
        assert core.command(0.3, 0.0, now=1.0, frame_id=frame) == REJECT_FRAME
    assert core.status(1.0).rejected == {REJECT_FRAME: 3}


@pytest.mark.parametrize('kwargs', [
    {'cmd_timeout': 0.0}, {'cmd_timeout': math.nan}, {'reject_linear_above': 0.5},
    {'reject_angular_above': 1.0}, {'max_stamp_age': -1.0}, {'steering_tolerance': 0.0},
])
def test_bad_config_is_refused(kwargs):
    with pytest.raises(ValueError):
        ControllerConfig(**kwargs)


# ---- saturation ---------------------------------------------------------------------------------

FAST = ControllerConfig(linear=AxisLimits(5.0, 50.0, 50.0), angular=AxisLimits(5.0, 50.0, 50.0),
                        reject_linear_above=5.0, reject_angular_above=5.0)


@pytest.mark.parametrize('robot, command', [
    ('skid4', (1.9, 1.0)),      # 1.9 m/s alone needs 12.7 rad/s > 12 rad/s
    ('skid4', (1.0, 3.0)),
    ('skid6', (-2.5, 0.5)),
    ('corner6', (2.0, 0.8)),
])
def test_saturation_scales_all_wheels_and_keeps_the_radius(robot, command):
    core = armed(geometry(robot), FAST)
    outputs, t = run(core, 0.0, 2.0, command)
    cmd = outputs[-1][1]
    peak = max(abs(s) for s in cmd.wheel_velocities.values())
    assert peak == pytest.approx(core.geometry.max_wheel_speed, rel=1e-6)
    v, w = twist(core, cmd)
    assert v / w == pytest.approx(command[0] / command[1], rel=1e-6), 'turning radius must be kept'
    assert abs(v) < abs(command[0])
    assert core.status(t).saturation_factor < 1.0


def test_no_saturation_below_the_wheel_limit():
    core = armed(geometry('skid4'), FAST)
    outputs, t = run(core, 0.0, 1.0, (0.5, 0.5))
    assert twist(core, outputs[-1][1]) == pytest.approx((0.5, 0.5), abs=1e-6)
    assert core.status(t).saturation_factor == 1.0


# ---- corner steering ----------------------------------------------------------------------------

def test_corner_wheels_wait_for_the_steering():
    g = geometry('corner6')
    core = armed(g, ControllerConfig(wait_for_steering=True, steering_tolerance=0.05))
    target = core.kinematics.inverse(0.3, 0.5).steering_angles
    outputs, _ = run(core, 0.0, 1.5, (0.3, 0.5))
    previous = {j: 0.0 for j in target}
    moved_at = None
    for stamp, cmd in outputs:
        for joint, angle in cmd.steering_angles.items():
            assert abs(angle - previous[joint]) <= g.max_steering_rate * DT + 1e-9
        previous = cmd.steering_angles
        error = max(abs(cmd.steering_angles[j] - a) for j, a in target.items())
        if not all_zero(cmd) and moved_at is None:
            moved_at = stamp
            assert error <= 0.05
        if moved_at is None:
            assert error > 0.05 or stamp == outputs[-1][0]
    slowest = max(abs(a) for a in target.values()) / g.max_steering_rate
    assert moved_at is not None and moved_at >= slowest - 0.05 / g.max_steering_rate - DT
    assert outputs[-1][1].steering_angles == pytest.approx(target)
    assert twist(core, outputs[-1][1]) == pytest.approx((0.3, 0.5), abs=1e-6)


def test_corner_wheels_move_at_once_without_waiting():
    core = armed(geometry('corner6'), ControllerConfig(wait_for_steering=False))
    outputs, _ = run(core, 0.0, 0.1, (0.3, 0.5))
    assert not all_zero(outputs[-1][1])
    assert not core.status(0.1).waiting_for_steering


def test_corner_waits_on_measured_steering_when_feedback_is_fresh():
    core = armed(geometry('corner6'), ControllerConfig(steering_tolerance=0.05))
    target = core.kinematics.inverse(0.3, 0.5).steering_angles
    t = 0.0
    for _ in range(100):   # commanded steering reaches the target but the wheels report it stuck at 0
        core.command(0.3, 0.5, now=t)
        core.feedback(t, {j: 0.0 for j in target})
        cmd = core.step(t)
        t = round(t + DT, 9)
    assert cmd.steering_angles == pytest.approx(target)
    assert all_zero(cmd) and core.status(t).waiting_for_steering


def test_corner_stop_keeps_the_steering():
    core = armed(geometry('corner6'))
    outputs, t = run(core, 0.0, 1.5, (0.3, 0.5))
    steered = outputs[-1][1].steering_angles
    outputs, _ = run(core, t, t + 2.0)
    assert all_zero(outputs[-1][1]) and outputs[-1][1].steering_angles == pytest.approx(steered)


# ---- joint feedback parsing ---------------------------------------------------------------------

SKID = [f'wheel_{a}_{s}_joint' for a in ('front', 'rear') for s in ('left', 'right')]


@pytest.mark.parametrize('names, positions, velocities, expect', [
    (SKID, [], [1.0, 2.0, 3.0, 4.0], 'velocities'),
    (SKID, [0.1, 0.2, 0.3, 0.4], [], 'positions'),
    (SKID, [0.1, 0.2, 0.3, math.nan], [1.0, 2.0, 3.0, 4.0], 'velocities'),
    (SKID[:3], [], [1.0, 2.0, 3.0], 'missing'),
    (SKID, [], [1.0, 2.0], 'neither'),
    (SKID, [], [1.0, math.inf, 3.0, 4.0], 'neither'),
    ([*SKID, SKID[0]], [], [1.0] * 5, 'duplicate'),
])
def test_parse_joint_feedback(names, positions, velocities, expect):
    result = parse_joint_feedback(names, positions, velocities, SKID, [])
    if expect == 'velocities':
        assert isinstance(result, JointFeedback) and result.wheel_positions is None
        assert result.wheel_velocities[SKID[1]] == 2.0
    elif expect == 'positions':
        assert isinstance(result, JointFeedback) and result.wheel_positions[SKID[3]] == 0.4
    else:
        assert isinstance(result, str) and expect in result


def test_parse_joint_feedback_with_and_without_steering():
    g = geometry('corner6')
    names = g.wheel_joints + g.steering_joints
    both = parse_joint_feedback(names, [0.1] * len(names), [1.0] * len(names), g.wheel_joints,
                                g.steering_joints)
    assert isinstance(both, JointFeedback) and both.has_wheels
    assert set(both.steering_angles) == set(g.steering_joints)
    wheels_only = parse_joint_feedback(g.wheel_joints, [], [1.0] * 6, g.wheel_joints, g.steering_joints)
    assert isinstance(wheels_only, JointFeedback) and wheels_only.steering_angles == {}
    steering_only = parse_joint_feedback(g.steering_joints, [0.2] * 4, [], g.wheel_joints, g.steering_joints)
    assert isinstance(steering_only, JointFeedback) and not steering_only.has_wheels
    assert steering_only.steering_angles == {j: 0.2 for j in g.steering_joints}
    unrelated = parse_joint_feedback(['arm_joint'], [0.0], [0.0], g.wheel_joints, g.steering_joints)
    assert isinstance(unrelated, str)


def test_steering_only_feedback_does_not_refresh_the_wheel_feedback_age():
    core = armed(geometry('corner6'))
    core.feedback(1.0, {'steer_front_left_joint': 0.1}, wheels=False)
    assert core.status(1.5).feedback_age is None
    core.feedback(2.0, {})
    assert core.status(2.5).feedback_age == pytest.approx(0.5)
