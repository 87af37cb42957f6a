"""Sensor models of the simulator: noise statistics for a seed, bias walks, gravity, quantisation, drain."""
import math

import numpy as np
import pytest

from rover_stack.sim.sensors import (
    BatteryConfig,
    BatteryModel,
    EncoderConfig,
    GnssConfig,
    GnssModel,
    ImuConfig,
    ImuModel,
    WheelEncoders,
)
from rover_stack.sim.sensors.imu import GRAVITY


def rng(seed=0):
    return np.random.default_rng(seed)


def test_gnss_white_noise_has_the_configured_sigma_and_reports_it():
    model = GnssModel(GnssConfig(sigma=2.5, vertical_sigma=4.0), rng(1))
    samples = [model.measure(0.2 * k, 10.0, -5.0, 1.0) for k in range(4000)]
    east = np.array([s.east for s in samples]) - 10.0
    north = np.array([s.north for s in samples]) + 5.0
    up = np.array([s.up for s in samples]) - 1.0
    assert all(s.fix for s in samples)
    assert abs(east.mean()) < 0.15 and abs(north.mean()) < 0.15
    assert east.std() == pytest.approx(2.5, rel=0.05)
    assert north.std() == pytest.approx(2.5, rel=0.05)
    assert up.std() == pytest.approx(4.0, rel=0.05)
    assert samples[0].sigma_horizontal == 2.5 and samples[0].sigma_vertical == 4.0


def test_gnss_is_reproducible_for_a_seed_and_differs_between_seeds():
    def run(seed):
        model = GnssModel(GnssConfig(), rng(seed))
        return [model.measure(0.2 * k, 0.0, 0.0, 0.0).east for k in range(20)]
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_gnss_bias_walk_makes_slowly_wandering_errors():
    model = GnssModel(GnssConfig(sigma=0.0, vertical_sigma=0.0, bias_walk=0.2, bias_time_constant=1e6), rng(2))
    east = np.array([model.measure(0.2 * k, 0.0, 0.0, 0.0).east for k in range(3000)])   # 600 s
    steps = np.diff(east)
    assert steps.std() == pytest.approx(0.2 * math.sqrt(0.2), rel=0.1)   # random walk increments
    assert np.abs(east).max() > 3.0 * steps.std()                          # it wanders away


def test_gnss_dropouts_give_no_fix_for_their_duration():
    model = GnssModel(GnssConfig(dropout_probability=1.0, dropout_duration=1.0), rng(0))
    first = model.measure(0.0, 0.0, 0.0, 0.0)
    assert not first.fix and math.isnan(first.east)
    assert not model.measure(0.8, 0.0, 0.0, 0.0).fix
    cfg = GnssConfig(dropout_probability=0.02, dropout_duration=2.0)
    model = GnssModel(cfg, rng(5))
    fixes = [model.measure(0.2 * k, 0.0, 0.0, 0.0).fix for k in range(5000)]
    assert 0.05 < 1.0 - np.mean(fixes) < 0.35     # ~2 % starts x 10 samples each


def test_gnss_multipath_jumps_are_large_and_temporary():
    cfg = GnssConfig(sigma=0.1, multipath_probability=0.01, multipath_magnitude=8.0, multipath_duration=2.0)
    model = GnssModel(cfg, rng(7))
    errors = np.array([math.hypot(s.east, s.north) for s in
                       (model.measure(0.2 * k, 0.0, 0.0, 0.0) for k in range(5000))])
    jumped = errors > 1.0
    assert 0.02 < jumped.mean() < 0.3
    assert np.median(errors) < 0.3


def test_imu_at_rest_and_level_reads_gravity_up_and_tilted_reads_it_along_its_axes():
    cfg = ImuConfig(gyro_noise=0.0, gyro_bias_initial=0.0, gyro_bias_walk=0.0, accel_noise=0.0,
                    accel_bias_initial=0.0, accel_bias_walk=0.0, orientation_noise=0.0)
    imu = ImuModel(cfg, rng())
    level = imu.measure(0.01, 0.01, np.eye(3), (0, 0, 0, 1), true_rate=(0, 0, 0), mean_world_acceleration=(0, 0, 0))
    assert level.linear_acceleration == pytest.approx((0.0, 0.0, -GRAVITY[2]))
    pitch = 0.3   # nose down about +y
    c, s = math.cos(pitch), math.sin(pitch)
    rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    quat = (0.0, math.sin(pitch / 2), 0.0, math.cos(pitch / 2))
    tilted = imu.measure(0.02, 0.01, rotation, quat, true_rate=(0, 0, 0), mean_world_acceleration=(0, 0, 0))
    assert tilted.linear_acceleration == pytest.approx((-9.81 * s, 0.0, 9.81 * c))
    assert tilted.orientation == pytest.approx(quat)


def test_imu_gyro_bias_random_walk_grows_with_the_square_root_of_time():
    cfg = ImuConfig(gyro_bias_initial=0.0, gyro_bias_walk=0.001)
    finals = []
    for seed in range(300):
        imu = ImuModel(cfg, rng(seed))
        for _ in range(100):
            imu.advance_bias(1.0)        # 100 s
        finals.append(imu.gyro_bias)
    spread = np.std(np.array(finals))
    assert spread == pytest.approx(0.001 * math.sqrt(100.0), rel=0.1)


def test_imu_noise_and_reported_covariance():
    cfg = ImuConfig(gyro_noise=0.01, gyro_bias_initial=0.0, gyro_bias_walk=0.0)
    imu = ImuModel(cfg, rng(3))
    rates = np.array([imu.measure(0.01 * k, 0.01, np.eye(3), (0, 0, 0, 1), true_rate=(0.0, 0.0, 0.5), mean_world_acceleration=(0, 0, 0))
                      .angular_velocity for k in range(3000)])
    assert rates[:, 2].mean() == pytest.approx(0.5, abs=0.001)
    assert rates.std(axis=0) == pytest.approx([0.01] * 3, rel=0.08)
    reading = imu.measure(1.0, 0.01, np.eye(3), (0, 0, 0, 1), true_rate=(0, 0, 0), mean_world_acceleration=(0, 0, 0))
    assert reading.angular_velocity_variance == pytest.approx(0.01 ** 2)
    no_orientation = ImuModel(ImuConfig(publish_orientation=False), rng()).measure(
        0.01, 0.01, np.eye(3), (0, 0, 0, 1), true_rate=(0, 0, 0), mean_world_acceleration=(0, 0, 0))
    assert no_orientation.orientation_variance == -1.0


def test_encoders_quantise_positions_and_add_velocity_noise():
    enc = WheelEncoders(EncoderConfig(ticks_per_rev=360, velocity_noise=0.0, steering_noise=0.0), rng())
    tick = 2 * math.pi / 360
    reading = enc.measure(0.02, ['a', 'b'], [10.5 * tick, -2.2 * tick], [1.0, -1.0], [0.5, 0.0],
                          steering_names=['s'], steering_positions=[0.3], steering_velocities=[0.0],
                          steering_efforts=[0.1])
    assert reading.names == ('a', 'b', 's')
    assert reading.positions == pytest.approx((10 * tick, -3 * tick, 0.3))
    assert reading.velocities == pytest.approx((1.0, -1.0, 0.0))
    assert reading.efforts == pytest.approx((0.5, 0.0, 0.1))
    noisy = WheelEncoders(EncoderConfig(velocity_noise=0.05), rng(1))
    v = np.array([noisy.measure(0.0, ['a'], [0.0], [2.0], [0.0]).velocities[0] for _ in range(2000)])
    assert v.std() == pytest.approx(0.05, rel=0.1)


def test_battery_drains_faster_under_load_and_its_voltage_sags():
    cfg = BatteryConfig(voltage_noise=0.0)
    idle, loaded = BatteryModel(cfg, rng()), BatteryModel(cfg, rng())
    for _ in range(600):
        idle.drain(1.0, [0.0] * 4, [0.0] * 4)
        loaded.drain(1.0, [20.0] * 4, [8.0] * 4)
    assert idle.charge == pytest.approx(20.0 - 2.0 * 600 / 3600)
    assert loaded.charge < idle.charge - 1.0
    a, b = idle.measure(600.0), loaded.measure(600.0)
    assert b.voltage < a.voltage < cfg.full_voltage
    assert b.current < a.current < 0.0          # discharging: negative (sensor_msgs/BatteryState)
    assert 0.0 < b.percentage < a.percentage < 1.0
