"""Twist and steering limiters: range, acceleration/deceleration, zero crossing, bad input."""
import math
import random

import pytest

from rover_stack.drive.limits import AxisLimits, SteeringRateLimiter, TwistLimiter, wheels_should_wait

DT = 0.05   # s, 20 Hz control loop


def make_limiter():
    return TwistLimiter(AxisLimits(max_velocity=1.0, max_acceleration=0.5, max_deceleration=2.0),
                        AxisLimits(max_velocity=1.5, max_acceleration=1.0, max_deceleration=3.0))


def run(limiter, v_cmd, w_cmd, steps, dt=DT):
    return [limiter.step(v_cmd, w_cmd, dt) for _ in range(steps)]


def min_transition_time(old, new, limits):
    """Shortest time (s) the axis limits allow to go from speed old to speed new."""
    if old * new < 0.0:
        return abs(old) / limits.max_deceleration + abs(new) / limits.max_acceleration
    if abs(new) >= abs(old):
        return (abs(new) - abs(old)) / limits.max_acceleration
    return (abs(old) - abs(new)) / limits.max_deceleration


@pytest.mark.parametrize(('field', 'value'), [('max_velocity', 0.0), ('max_acceleration', -1.0),
                                              ('max_deceleration', math.nan), ('max_velocity', '1')])
def test_axis_limits_reject_bad_values(field, value):
    values = {'max_velocity': 1.0, 'max_acceleration': 1.0, 'max_deceleration': 1.0, field: value}
    with pytest.raises(ValueError, match=field):
        AxisLimits(**values)


@pytest.mark.parametrize(('axis', 'target', 'steps'), [
    ('v', 1.0, 40),      # 1.0 m/s at 0.5 m/s^2: 2.0 s
    ('v', -0.5, 20),     # 0.5 m/s at 0.5 m/s^2: 1.0 s
    ('w', 1.5, 30),      # 1.5 rad/s at 1.0 rad/s^2: 1.5 s
    ('w', -0.2, 4),      # 0.2 rad/s at 1.0 rad/s^2: 0.2 s
])
def test_reaches_target_in_the_expected_time(axis, target, steps):
    limiter = make_limiter()
    v_cmd, w_cmd = (target, 0.0) if axis == 'v' else (0.0, target)
    outputs = [v if axis == 'v' else w for v, w in run(limiter, v_cmd, w_cmd, steps + 5)]
    assert abs(outputs[steps - 2]) < abs(target)
    assert outputs[steps - 1] == target                      # lands exactly, no creeping
    assert all(o == target for o in outputs[steps - 1:])


def test_slowing_down_uses_deceleration():
    limiter = make_limiter()
    limiter.reset(v=1.0, w=-1.5)
    outputs = run(limiter, 0.0, 0.0, 12)
    # 1.0 m/s at 2.0 m/s^2: 0.5 s = 10 steps; 1.5 rad/s at 3.0 rad/s^2: 0.5 s = 10 steps
    assert outputs[8][0] > 0.0 and outputs[8][1] < 0.0
    assert outputs[9] == (0.0, 0.0)


def test_velocity_is_clamped():
    limiter = make_limiter()
    outputs = run(limiter, 5.0, -9.0, 100)
    assert outputs[-1] == (1.0, -1.5)
    assert all(abs(v) <= 1.0 and abs(w) <= 1.5 for v, w in outputs)


def test_zero_crossing_stops_first_then_accelerates():
    limiter = make_limiter()
    limiter.reset(v=1.0)
    outputs = [v for v, _ in run(limiter, -1.0, 0.0, 40, dt=0.1)]
    # decelerate 1.0 m/s at 2.0 m/s^2 (0.5 s = 5 steps), then accelerate at 0.5 m/s^2 (2.0 s = 20 steps)
    assert outputs[:5] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0], abs=1e-12)
    assert outputs[5] == pytest.approx(-0.05, abs=1e-12)
    assert outputs[23] > -1.0
    assert outputs[24:] == [-1.0] * 16


def test_zero_crossing_within_one_step_splits_the_step():
    limiter = make_limiter()
    limiter.reset(v=0.15)
    # 0.15 m/s stops after 0.075 s at 2 m/s^2; the remaining 0.025 s accelerates to -0.0125 m/s
    assert limiter.step(-1.0, 0.0, 0.1)[0] == pytest.approx(-0.0125, abs=1e-12)


def test_random_commands_never_exceed_the_limits():
    rng = random.Random(20260527)
    limiter = make_limiter()
    previous = (0.0, 0.0)
    for _ in range(5000):
        dt = rng.choice([0.01, 0.05, 0.1, 0.3])
        v, w = limiter.step(rng.uniform(-2.0, 2.0), rng.uniform(-3.0, 3.0), dt)
        assert abs(v) <= 1.0 and abs(w) <= 1.5
        assert min_transition_time(previous[0], v, limiter.linear) <= dt * (1 + 1e-9)
        assert min_transition_time(previous[1], w, limiter.angular) <= dt * (1 + 1e-9)
        previous = (v, w)


@pytest.mark.parametrize(('v', 'w', 'dt'), [(math.nan, 0.0, DT), (0.0, math.inf, DT), (0.0, 0.0, math.nan),
                                             (-math.inf, 0.0, DT)])
def test_non_finite_input_raises_and_keeps_state(v, w, dt):
    limiter = make_limiter()
    limiter.reset(v=0.3, w=0.2)
    with pytest.raises(ValueError, match='finite'):
        limiter.step(v, w, dt)
    assert (limiter.v, limiter.w) == (0.3, 0.2)


@pytest.mark.parametrize('dt', [0.0, -0.05])
def test_non_positive_dt_returns_current_output(dt):
    limiter = make_limiter()
    limiter.reset(v=0.3, w=-0.2)
    assert limiter.step(1.0, 1.0, dt) == (0.3, -0.2)


def test_unlimited_acceleration_jumps_to_target():
    limiter = TwistLimiter(AxisLimits(2.0, math.inf, math.inf), AxisLimits(1.0, math.inf, math.inf))
    assert limiter.step(-1.5, 0.7, DT) == (-1.5, 0.7)
    assert limiter.step(1.5, -0.7, DT) == (1.5, -0.7)


def test_steering_moves_at_most_max_rate():
    limiter = SteeringRateLimiter(max_rate=2.0)
    targets = {'steer_a': 0.5, 'steer_b': -0.25}
    first = limiter.step(targets, DT)           # joints start straight; 2 rad/s * 0.05 s = 0.1 rad
    assert first == pytest.approx({'steer_a': 0.1, 'steer_b': -0.1}, abs=1e-12)
    assert limiter.max_error() == pytest.approx(0.4, abs=1e-12)
    outputs = [limiter.step(targets, DT) for _ in range(4)]
    assert outputs[1]['steer_b'] == -0.25 and outputs[-1] == targets
    assert limiter.max_error() == 0.0


def test_steering_starts_from_measured_angles_and_clamps_targets():
    limiter = SteeringRateLimiter(max_rate=1.0, max_angle=0.6)
    limiter.reset({'steer_a': 0.55})
    assert limiter.step({'steer_a': 2.0}, 1.0) == {'steer_a': 0.6}
    assert limiter.step({'steer_a': 0.0}, 0.0) == {'steer_a': 0.6}        # dt <= 0: unchanged
    with pytest.raises(ValueError, match='steer_a'):
        limiter.step({'steer_a': math.nan}, DT)


@pytest.mark.parametrize(('max_rate', 'max_angle'), [(0.0, 1.0), (-1.0, 1.0), (math.inf, 1.0), (1.0, 0.0)])
def test_steering_limiter_rejects_bad_limits(max_rate, max_angle):
    with pytest.raises(ValueError, match='max_'):
        SteeringRateLimiter(max_rate, max_angle)


@pytest.mark.parametrize(('current', 'target', 'tolerance', 'wait'), [
    ({'a': 0.1, 'b': 0.2}, {'a': 0.1, 'b': 0.2}, 0.0, False),
    ({'a': 0.1, 'b': 0.2}, {'a': 0.15, 'b': 0.2}, 0.1, False),
    ({'a': 0.1, 'b': 0.2}, {'a': 0.1, 'b': -0.2}, 0.1, True),
    ({'a': 0.1}, {'a': 0.1, 'b': 0.0}, 0.1, True),              # unknown current angle: wait
    ({'a': math.nan}, {'a': 0.0}, 0.1, True),
    ({'a': 0.1, 'b': 9.0}, {'a': 0.1}, 0.1, False),             # only target joints matter
    ({}, {}, 0.1, False),
])
def test_wheels_should_wait(current, target, tolerance, wait):
    assert wheels_should_wait(current, target, tolerance) is wait


@pytest.mark.parametrize('tolerance', [-0.1, math.nan])
def test_wheels_should_wait_rejects_bad_tolerance(tolerance):
    with pytest.raises(ValueError, match='tolerance_rad'):
        wheels_should_wait({}, {}, tolerance)
