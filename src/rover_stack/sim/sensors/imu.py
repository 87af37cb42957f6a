"""IMU: angular rate and specific force in imu_link with white noise and random-walk biases, and an
orientation (ENU world, REP-145) with small white noise, as an AHRS would report it.

The specific force is what an accelerometer measures: (average acceleration over the sample period)
minus gravity, in the sensor frame, so a level IMU at rest reads about +9.81 m/s^2 on z and a tilted
one shows gravity along its tilted axes. Units: rad/s, m/s^2, rad; quaternions (x, y, z, w).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rover_stack.common.param_spec import param

GRAVITY = np.array([0.0, 0.0, -9.81])   # m/s^2, world frame


@dataclass
class ImuConfig:
    rate: float = param(100.0, 'imu/data rate', unit='Hz', low=1.0, high=1000.0, read_only=True)
    gyro_noise: float = param(0.003, 'Gyro white noise per sample (1 sigma)', unit='rad/s', low=0.0, high=1.0,
                              read_only=True)
    gyro_bias_initial: float = param(0.002, 'Gyro turn-on bias (1 sigma per axis)', unit='rad/s', low=0.0,
                                     high=1.0, read_only=True)
    gyro_bias_walk: float = param(0.0002, 'Gyro bias random walk', unit='rad/s/sqrt(s)', low=0.0, high=1.0,
                                  read_only=True)
    accel_noise: float = param(0.03, 'Accelerometer white noise per sample (1 sigma)', unit='m/s^2', low=0.0,
                               high=10.0, read_only=True)
    accel_bias_initial: float = param(0.03, 'Accelerometer turn-on bias (1 sigma per axis)', unit='m/s^2',
                                      low=0.0, high=10.0, read_only=True)
    accel_bias_walk: float = param(0.001, 'Accelerometer bias random walk', unit='m/s^2/sqrt(s)', low=0.0,
                                   high=1.0, read_only=True)
    orientation_noise: float = param(0.005, 'Orientation white noise per axis (1 sigma)', unit='rad',
                                     low=0.0, high=1.0, read_only=True)
    publish_orientation: bool = param(True, 'Report an orientation (false: orientation_covariance[0] = -1)',
                                      read_only=True)


@dataclass(frozen=True)
class ImuReading:
    stamp: float                                   # s
    orientation: tuple[float, float, float, float]  # x, y, z, w; imu_link in the ENU world
    angular_velocity: tuple[float, float, float]    # rad/s, imu_link
    linear_acceleration: tuple[float, float, float]  # m/s^2, imu_link, specific force
    orientation_variance: float                    # rad^2 per axis, -1 when no orientation
    angular_velocity_variance: float               # (rad/s)^2 per axis
    linear_acceleration_variance: float            # (m/s^2)^2 per axis


def _quat_multiply(a, b):
    """Hamilton product of (x, y, z, w) quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])


def small_rotation(vector) -> np.ndarray:
    """Quaternion (x, y, z, w) of the rotation vector ``vector`` (rad)."""
    vector = np.asarray(vector, float)
    angle = float(np.linalg.norm(vector))
    if angle < 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    axis = vector / angle
    return np.append(axis * math.sin(angle / 2.0), math.cos(angle / 2.0))


class ImuModel:
    """White noise plus random-walk bias on each axis of the gyro and the accelerometer."""

    def __init__(self, config: ImuConfig, rng: np.random.Generator):
        self.config = config
        self.rng = rng
        self.gyro_bias = rng.normal(0.0, config.gyro_bias_initial, 3)
        self.accel_bias = rng.normal(0.0, config.accel_bias_initial, 3)

    def advance_bias(self, dt: float) -> None:
        """Random-walk the biases over ``dt`` seconds."""
        c, root = self.config, math.sqrt(max(dt, 0.0))
        self.gyro_bias = self.gyro_bias + self.rng.normal(0.0, c.gyro_bias_walk * root, 3)
        self.accel_bias = self.accel_bias + self.rng.normal(0.0, c.accel_bias_walk * root, 3)

    def measure(self, stamp: float, dt: float, rotation_world_imu: np.ndarray, quat_world_imu, *,
                true_rate, mean_world_acceleration) -> ImuReading:
        """``rotation_world_imu``: 3x3 matrix of the sensor frame in the world; ``quat_world_imu`` the same
        as (x, y, z, w); ``true_rate`` rad/s in the sensor frame; ``mean_world_acceleration`` m/s^2 over
        the last period, world frame (gravity not included)."""
        c = self.config
        self.advance_bias(dt)
        specific_force = np.asarray(rotation_world_imu).T @ (np.asarray(mean_world_acceleration) - GRAVITY)
        gyro = np.asarray(true_rate, float) + self.gyro_bias + self.rng.normal(0.0, c.gyro_noise, 3)
        accel = specific_force + self.accel_bias + self.rng.normal(0.0, c.accel_noise, 3)
        if c.publish_orientation:
            q = _quat_multiply(quat_world_imu, small_rotation(self.rng.normal(0.0, c.orientation_noise, 3)))
            q = q / np.linalg.norm(q)
            orientation, variance = tuple(float(x) for x in q), c.orientation_noise ** 2
        else:
            orientation, variance = (0.0, 0.0, 0.0, 1.0), -1.0
        gyro_var = c.gyro_noise ** 2 + c.gyro_bias_initial ** 2
        accel_var = c.accel_noise ** 2 + c.accel_bias_initial ** 2
        return ImuReading(stamp=stamp, orientation=orientation,
                          angular_velocity=tuple(float(x) for x in gyro),
                          linear_acceleration=tuple(float(x) for x in accel),
                          orientation_variance=variance, angular_velocity_variance=gyro_var,
                          linear_acceleration_variance=accel_var)
