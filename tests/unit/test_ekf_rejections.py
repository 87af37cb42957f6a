"""The EKF refuses bad measurements, counts each refusal by reason, and recovers from outliers."""
import math

import numpy as np
import pytest

from rover_stack.localization.ekf import EkfConfig, Localizer
from rover_stack.localization.gating import is_symmetric_positive_definite


def tracked(lever_arm=(0.0, 0.0, 0.0)):
    """A localizer with known position (GNSS) and heading (IMU yaw), driving east at 1 m/s."""
    loc = Localizer(EkfConfig(lever_arm=lever_arm))
    assert loc.update_yaw(1.0, 0.0, 1e-4) is None
    assert loc.update_gnss(1.0, 0.0, 0.0, np.eye(2) * 0.25) is None
    t = 1.0
    for _ in range(100):
        t += 0.02
        loc.update_odom(t, 1.0, 0.0)
        loc.update_imu(t, 0.0)
    assert loc.initialized
    return loc, t


@pytest.mark.parametrize(('call', 'sensor'), [
    (lambda loc, t: loc.update_odom(t, math.nan, 0.0), 'odom'),
    (lambda loc, t: loc.update_odom(t, 1.0, math.inf), 'odom'),
    (lambda loc, t: loc.update_imu(t, math.nan), 'imu'),
    (lambda loc, t: loc.update_imu(t, 0.0, roll=math.nan, pitch=0.0), 'imu'),
    (lambda loc, t: loc.update_gnss(t, math.nan, 1.0), 'gnss'),
    (lambda loc, t: loc.update_gnss(t, 1.0, 1.0, np.full((2, 2), math.nan)), 'gnss'),
    (lambda loc, t: loc.update_yaw(t, math.nan), 'imu_yaw'),
    (lambda loc, t: loc.update_landmark(t, (5.0, 5.0), math.nan, 0.1), 'landmark'),
    (lambda loc, t: loc.update_odom(math.nan, 1.0, 0.0), 'odom'),
])
def test_non_finite_values_are_rejected_counted_and_change_nothing(call, sensor):
    loc, t = tracked()
    x, p = loc.x.copy(), loc.P.copy()
    assert call(loc, t + 0.01) == 'nan'
    assert loc.stats[sensor].rejected['nan'] == 1
    np.testing.assert_array_equal(loc.x, x)
    np.testing.assert_array_equal(loc.P, p)


def test_out_of_order_stamps_are_rejected_and_counted():
    loc, t = tracked()
    x = loc.x.copy()
    assert loc.update_gnss(t - 0.5, 50.0, 50.0) == 'out_of_order'
    assert loc.update_odom(t - 0.001, 1.0, 0.0) == 'out_of_order'
    assert loc.stats['gnss'].rejected['out_of_order'] == 1
    assert loc.stats['odom'].rejected['out_of_order'] == 1
    np.testing.assert_array_equal(loc.x, x)
    assert loc.update_odom(t, 1.0, 0.0) is None      # the same stamp is fine


def test_future_and_missing_stamps_are_rejected_and_counted():
    loc = Localizer()
    assert loc.check_stamp('gnss', 105.0, now=100.0, future_tolerance=0.5) == 'future'
    assert loc.check_stamp('gnss', 100.4, now=100.0, future_tolerance=0.5) is None
    assert loc.check_stamp('imu', 0.0, now=100.0, future_tolerance=0.5) == 'no_stamp'
    assert loc.check_stamp('imu', math.nan, now=100.0, future_tolerance=0.5) == 'no_stamp'
    assert loc.stats['gnss'].rejected == {'future': 1}
    assert loc.stats['imu'].rejected == {'no_stamp': 2}


def test_a_single_outlier_is_gated_and_the_state_is_untouched():
    loc, t = tracked()
    before = loc.pose()
    assert loc.update_gnss(t, before.x + 20.0, before.y, np.eye(2) * 6.25) == 'gate'
    assert loc.stats['gnss'].rejected['gate'] == 1
    assert loc.stats['gnss'].last_d2 > loc.config.gate_gnss
    assert loc.pose().x == pytest.approx(before.x)


def test_a_persistent_disagreement_is_believed_after_the_configured_number_of_rejections():
    """The rover was carried 20 m (kidnapped): after max_consecutive_rejections the fixes win."""
    loc, t = tracked()
    limit = loc.config.max_consecutive_rejections['gnss']
    for i in range(limit + 20):
        t += 0.1
        loc.update_odom(t, 0.0, 0.0)
        loc.update_gnss(t, 100.0, 20.0, np.eye(2) * 0.25)
        if i < limit - 1:
            assert loc.stats['gnss'].resets == 0
    assert loc.stats['gnss'].resets >= 1
    assert loc.stats['gnss'].rejected['gate'] == limit
    assert math.hypot(loc.x[0] - 100.0, loc.x[1] - 20.0) < 1.0
    assert is_symmetric_positive_definite(loc.P)


def test_landmark_fixes_wait_for_a_known_heading():
    loc = Localizer()
    assert loc.update_gnss(1.0, 0.0, 0.0) is None
    assert loc.update_landmark(1.1, (5.0, 0.0), 5.0, 0.0) == 'heading_unknown'
    assert loc.stats['landmark'].rejected['heading_unknown'] == 1


def test_landmark_fixes_alone_hold_the_position():
    """No GNSS after the start: range/bearing to two known markers keeps the estimate on truth."""
    loc, t = tracked()
    markers = [(20.0, 10.0), (30.0, -10.0)]
    truth_x = loc.x[0]
    loc.update_gnss(t, truth_x + 1.5, 1.5, np.eye(2) * 4.0)    # a poor fix: 2 m off
    for _ in range(300):
        t += 0.05
        truth_x += 0.05
        loc.update_odom(t, 1.0, 0.0)
        loc.update_imu(t, 0.0)
        for mx, my in markers:
            r = math.hypot(mx - truth_x, my)
            loc.update_landmark(t, (mx, my), r, math.atan2(my, mx - truth_x))
    assert math.hypot(loc.x[0] - truth_x, loc.x[1]) < 0.1
    assert abs(loc.x[2]) < 0.01
    assert loc.stats['landmark'].accepted > 500


def test_imu_yaw_sets_the_heading_at_once():
    loc = Localizer()
    assert not loc.heading_initialized
    assert loc.update_yaw(1.0, 2.0, 0.01) is None
    assert loc.heading_initialized
    assert loc.x[2] == pytest.approx(2.0)
    assert loc.P[2, 2] == pytest.approx(0.01)


def test_wheel_speed_is_projected_onto_the_plane_on_a_slope():
    loc = Localizer()
    pitch = math.radians(20.0)
    t = 1.0
    for _ in range(200):
        t += 0.01
        loc.update_imu(t, 0.0, roll=0.0, pitch=pitch)
        loc.update_odom(t, 1.0, 0.0)
    assert loc.x[3] == pytest.approx(math.cos(pitch), abs=0.01)


def test_standing_still_pins_the_gyro_bias():
    loc = Localizer()
    t = 1.0
    for _ in range(1000):     # 10 s still, gyro reads its bias
        t += 0.01
        loc.update_odom(t, 0.0, 0.0)
        loc.update_imu(t, 0.02)
    assert loc.gyro_bias() == pytest.approx(0.02, abs=5e-4)
    assert abs(loc.x[4]) < 1e-3
