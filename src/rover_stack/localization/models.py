"""Motion and measurement models of the planar localization EKF. Pure numpy, no ROS.

State vector (map frame, REP-103/105: x east, y north, yaw counter-clockwise from east):

    index  name    unit    meaning
    0      x       m       base_link origin, east of the datum
    1      y       m       base_link origin, north of the datum
    2      yaw     rad     heading of base_link +x, CCW from east, wrapped to (-pi, pi]
    3      v       m/s     forward speed over the ground (horizontal plane)
    4      w       rad/s   yaw rate (rate of the map-frame yaw)
    5      bias    rad/s   IMU gyro z bias (body frame)

Each measurement model returns (predicted measurement h(x), Jacobian H). Tilt (roll, pitch in rad,
from the IMU) projects body-frame wheel speeds and gyro rates onto the map plane.
"""
from __future__ import annotations

import math

import numpy as np

from rover_stack.common.angles import wrap_angle

X, Y, YAW, V, W, BIAS = range(6)
STATE_SIZE = 6
STATE_NAMES = ('x', 'y', 'yaw', 'v', 'w', 'gyro_bias_z')




def rotation_2d(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def predict_state(x: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Constant speed / constant turn rate over ``dt`` s: (new state, Jacobian F).

    Position advances along the mid-interval heading (second-order accurate, no singularity at w=0).
    """
    yaw, v, w = x[YAW], x[V], x[W]
    mid = yaw + 0.5 * w * dt
    c, s = math.cos(mid), math.sin(mid)
    out = x.copy()
    out[X] += v * c * dt
    out[Y] += v * s * dt
    out[YAW] = wrap_angle(yaw + w * dt)
    f = np.eye(STATE_SIZE)
    f[X, YAW] = -v * s * dt
    f[X, V] = c * dt
    f[X, W] = -v * s * 0.5 * dt * dt
    f[Y, YAW] = v * c * dt
    f[Y, V] = s * dt
    f[Y, W] = v * c * 0.5 * dt * dt
    f[YAW, W] = dt
    return out, f


def process_noise(dt: float, spectral_density: np.ndarray, yaw: float, lateral_density: float) -> np.ndarray:
    """Q for a step of ``dt`` s: white noise of the given spectral densities (per state, unit^2/s).

    The position noise is anisotropic: ``spectral_density[X]`` along the heading (wheel slip, odometry
    scale), ``lateral_density`` across it (wheeled rovers barely slide sideways), rotated by ``yaw``.
    """
    q = np.diag(spectral_density * dt)
    c, s = math.cos(yaw), math.sin(yaw)
    along, across = spectral_density[X] * dt, lateral_density * dt
    q[X, X] = c * c * along + s * s * across
    q[Y, Y] = s * s * along + c * c * across
    q[X, Y] = q[Y, X] = c * s * (along - across)
    return q


def tilt_factors(roll: float, pitch: float) -> tuple[float, float]:
    """(speed factor, yaw-rate factor): map-plane speed = factor * body speed; body gyro z =
    yaw-rate factor * map yaw rate (for level pitch/roll rates, Euler kinematics)."""
    cp, cr = math.cos(pitch), math.cos(roll)
    return cp, cp / max(cr, 1e-3)


def odom_twist_model(x: np.ndarray, roll: float = 0.0, pitch: float = 0.0):
    """Wheel odometry (body forward speed m/s, body yaw rate rad/s)."""
    speed_factor, rate_factor = tilt_factors(roll, pitch)
    speed_factor = max(speed_factor, 1e-3)
    h = np.array([x[V] / speed_factor, x[W] * rate_factor])
    jac = np.zeros((2, STATE_SIZE))
    jac[0, V] = 1.0 / speed_factor
    jac[1, W] = rate_factor
    return h, jac


def gyro_model(x: np.ndarray, roll: float = 0.0, pitch: float = 0.0):
    """IMU angular velocity z in rad/s: body yaw rate plus the gyro bias."""
    _, rate_factor = tilt_factors(roll, pitch)
    jac = np.zeros((1, STATE_SIZE))
    jac[0, W] = rate_factor
    jac[0, BIAS] = 1.0
    return np.array([x[W] * rate_factor + x[BIAS]]), jac


def yaw_model(x: np.ndarray):
    """Absolute yaw in rad (IMU orientation, compass)."""
    jac = np.zeros((1, STATE_SIZE))
    jac[0, YAW] = 1.0
    return np.array([x[YAW]]), jac


def lever_arm_in_plane(lever_arm: np.ndarray, roll: float, pitch: float) -> np.ndarray:
    """The (x, y) of a base_link offset (x, y, z in m) after tilting by roll and pitch, before yaw."""
    lx, ly, lz = lever_arm
    cr, sr, cp, sp = math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch)
    # R = Ry(pitch) Rx(roll); only the first two rows matter in the plane.
    return np.array([cp * lx + sp * sr * ly + sp * cr * lz, cr * ly - sr * lz])


def gnss_model(x: np.ndarray, lever_arm: np.ndarray, roll: float = 0.0, pitch: float = 0.0):
    """Antenna position (east, north) in m: base_link position plus the lever arm rotated by the
    attitude. The lever arm (antenna in base_link) comes from the robot geometry."""
    lx, ly = lever_arm_in_plane(lever_arm, roll, pitch)
    c, s = math.cos(x[YAW]), math.sin(x[YAW])
    h = np.array([x[X] + c * lx - s * ly, x[Y] + s * lx + c * ly])
    jac = np.zeros((2, STATE_SIZE))
    jac[0, X] = 1.0
    jac[1, Y] = 1.0
    jac[0, YAW] = -s * lx - c * ly
    jac[1, YAW] = c * lx - s * ly
    return h, jac


def landmark_model(x: np.ndarray, landmark: tuple[float, float]):
    """Range (m, horizontal) and bearing (rad, CCW from base_link +x) to a landmark at known map
    (x, y). The bearing row is an angle: wrap its innovation."""
    dx, dy = landmark[0] - x[X], landmark[1] - x[Y]
    q = max(dx * dx + dy * dy, 1e-6)
    r = math.sqrt(q)
    h = np.array([r, wrap_angle(math.atan2(dy, dx) - x[YAW])])
    jac = np.zeros((2, STATE_SIZE))
    jac[0, X], jac[0, Y] = -dx / r, -dy / r
    jac[1, X], jac[1, Y], jac[1, YAW] = dy / q, -dx / q, -1.0
    return h, jac
