"""Accuracy metrics of a localization run (rover_stack.localization.accuracy): alignment, wrapping, RMSE,
the error when fixes return and the shift of the error vector."""
import math

import numpy as np
import pytest

from rover_stack.common.angles import wrap_angles
from rover_stack.localization import accuracy as acc

T = np.arange(0.0, 20.0, 0.04)


def circle_truth(radius=10.0, rate=0.1):
    """Counter-clockwise circle through the yaw wrap: rows t, x, y, yaw."""
    yaw = math.pi / 2.0 + rate * T
    return np.column_stack([T, radius * np.cos(rate * T), radius * np.sin(rate * T), wrap_angles(yaw)])


def test_wrap_and_rmse():
    assert wrap_angles(3.0 * math.pi / 2.0) == pytest.approx(-math.pi / 2.0)
    np.testing.assert_allclose(wrap_angles([0.1, -0.1, 2 * math.pi + 0.2]), [0.1, -0.1, 0.2], atol=1e-12)
    assert acc.rmse([3.0, -4.0]) == pytest.approx(math.sqrt(12.5))
    assert math.isnan(acc.rmse([]))


def test_interpolation_follows_the_yaw_across_the_wrap_and_refuses_outside_or_unordered():
    truth = circle_truth()
    query = np.array([5.02, 15.5, 30.0])
    out = acc.interpolate_poses(truth, query)
    assert out[0, 1] == pytest.approx(10.0 * math.cos(0.502), abs=1e-3)
    assert out[1, 3] == pytest.approx(wrap_angles(math.pi / 2.0 + 1.55), abs=1e-6)
    assert np.all(np.isnan(out[2, 1:]))                     # after the end: no extrapolation
    with pytest.raises(ValueError):
        acc.interpolate_poses(truth[::-1], query)


def test_pose_errors_of_a_shifted_and_rotated_estimate():
    truth = circle_truth()
    estimate = truth[::5].copy()
    estimate[:, 1] += 0.3
    estimate[:, 2] -= 0.4
    estimate[:, 3] = wrap_angles(estimate[:, 3] + math.radians(2.0))
    errors = acc.pose_errors(estimate, truth)
    np.testing.assert_allclose(errors[:, 1], 0.3, atol=1e-9)
    np.testing.assert_allclose(errors[:, 2], -0.4, atol=1e-9)
    np.testing.assert_allclose(np.degrees(errors[:, 3]), 2.0, atol=1e-6)


def test_accuracy_recovers_the_noise_of_seeded_fixes_at_the_lever_arm():
    rng = np.random.default_rng(5)
    truth = circle_truth()
    lever = (-0.3, 0.15)
    antenna = acc.antenna_positions(truth[::5], lever)
    fixes = antenna + np.column_stack([np.zeros(len(antenna)), rng.normal(0.0, 2.5, (len(antenna), 2))])
    estimate = truth.copy()
    estimate[:, 1] += rng.normal(0.0, 0.2, len(truth))
    result = acc.accuracy(estimate, truth, fixes, lever, (0.0, 20.0))
    assert result.gnss_rmse_per_axis == pytest.approx(2.5, rel=0.15)
    assert result.gnss_rmse == pytest.approx(result.gnss_rmse_per_axis * math.sqrt(2.0))
    assert result.position_rmse == pytest.approx(0.2, rel=0.1)
    assert result.heading_rmse_deg == pytest.approx(0.0, abs=1e-6)
    # a wrong lever arm shows as a bias of the fixes
    assert acc.accuracy(estimate, truth, fixes, (3.0, 0.0), (0.0, 20.0)).gnss_rmse > result.gnss_rmse + 1.0


def test_error_when_fixes_return_uses_the_last_estimate_before_the_first_fix():
    truth = circle_truth()
    estimate = truth.copy()
    estimate[:, 1] += np.where(T < 12.0, 0.1 * T, 0.0)      # drifts while dead reckoning, snaps back at 12 s
    fixes = np.array([[4.0, 0.0, 0.0], [12.0, 0.0, 0.0], [12.2, 0.0, 0.0]])
    error, first = acc.error_when_fixes_return(estimate, truth, fixes, 10.0)
    assert first == 12.0
    assert error == pytest.approx(0.1 * 11.96, abs=1e-6)
    with pytest.raises(ValueError):
        acc.error_when_fixes_return(estimate, truth, fixes, 13.0)


def test_error_shift_measures_movement_relative_to_the_error_before_the_window():
    truth = circle_truth()
    estimate = truth.copy()
    estimate[:, 1] += 0.5                                     # a steady error does not count
    estimate[(T >= 8.0) & (T < 9.0), 2] += 0.7                # a 0.7 m excursion inside the window does
    assert acc.error_shift(estimate, truth, 5.0, 7.0) == pytest.approx(0.0, abs=1e-9)
    assert acc.error_shift(estimate, truth, 7.0, 10.0) == pytest.approx(0.7, abs=1e-9)
    with pytest.raises(ValueError):
        acc.error_shift(estimate, truth, 0.0, 1.0)            # nothing before the window
