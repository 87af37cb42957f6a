"""Rigid transforms in 3-D: translation in m, rotation as a unit quaternion (x, y, z, w).

A ``Transform`` named ``T_a_b`` maps points given in frame b into frame a (``T_a_b.apply(p_b)``);
its translation is b's origin expressed in a, as in a ``geometry_msgs/TransformStamped`` whose
``header.frame_id`` is a and ``child_frame_id`` is b. ``T_a_b @ T_b_c == T_a_c``.

Roll, pitch, yaw are in rad about fixed x, y, z axes (R = Rz(yaw) Ry(pitch) Rx(roll)), the URDF and
REP-103 convention. Pure numpy and transforms3d (Euler angles); no ROS imports.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from transforms3d.euler import euler2quat, quat2euler

QUATERNION_TOLERANCE = 1e-3
"""How far from 1 a quaternion's norm may be and still be normalised instead of refused."""

TransformTuple = tuple[tuple[float, float, float], tuple[float, float, float, float]]


def normalized_quaternion(q: Iterable[float], tolerance: float = QUATERNION_TOLERANCE) -> np.ndarray:
    """``q`` (x, y, z, w) scaled to unit length; ValueError if not finite or its norm is off 1 by
    more than ``tolerance``."""
    q = np.asarray(q, dtype=float)
    if q.shape != (4,):
        raise ValueError(f'a quaternion needs 4 values (x, y, z, w), got shape {q.shape}')
    if not np.all(np.isfinite(q)):
        raise ValueError(f'quaternion {q.tolist()} is not finite')
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > tolerance:
        raise ValueError(f'quaternion {q.tolist()} has norm {norm:.6g}; expected 1 within {tolerance}')
    return q / norm


def quaternion_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b of (x, y, z, w) quaternions: rotate by b, then by a."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


def quaternion_from_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Unit quaternion (x, y, z, w) of fixed-axis roll, pitch, yaw in rad (transforms3d, static xyz)."""
    w, x, y, z = euler2quat(roll, pitch, yaw, 'sxyz')
    return np.array([x, y, z, w])


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Yaw (rad, about z, in [-pi, pi]) of unit quaternion (x, y, z, w): a planar pose's heading."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def rpy_from_quaternion(q: Iterable[float]) -> tuple[float, float, float]:
    """(roll, pitch, yaw) in rad of unit quaternion ``q`` (x, y, z, w); pitch in [-pi/2, pi/2]
    (transforms3d, static xyz)."""
    x, y, z, w = np.asarray(q, dtype=float)
    roll, pitch, yaw = quat2euler((w, x, y, z), 'sxyz')
    return float(roll), float(pitch), float(yaw)


def quaternion_from_axis_angle(axis: Iterable[float], angle: float) -> np.ndarray:
    """Unit quaternion of a rotation by ``angle`` rad about ``axis`` (any non-zero length)."""
    axis = np.asarray(axis, dtype=float)
    norm = float(np.linalg.norm(axis))
    if not math.isfinite(norm) or norm == 0.0:
        raise ValueError(f'rotation axis {axis.tolist()} must be finite and non-zero')
    return np.append(axis / norm * math.sin(angle / 2), math.cos(angle / 2))


def slerp(a: np.ndarray, b: np.ndarray, fraction: float) -> np.ndarray:
    """Spherical interpolation from unit quaternion a (fraction 0) to b (fraction 1), shortest arc."""
    dot = float(np.dot(a, b))
    if dot < 0.0:
        b, dot = -b, -dot
    if dot > 0.9995:  # nearly parallel: linear interpolation is accurate and avoids 0/0
        q = a + fraction * (b - a)
        return q / np.linalg.norm(q)
    theta = math.acos(dot)
    sin_theta = math.sin(theta)
    return (math.sin((1 - fraction) * theta) * a + math.sin(fraction * theta) * b) / sin_theta


class Transform:
    """Rigid transform: ``translation`` (x, y, z) in m and unit ``rotation`` (x, y, z, w).

    Immutable. The constructor refuses non-finite values and quaternions whose norm is off 1 by
    more than ``QUATERNION_TOLERANCE`` (ValueError), and normalises the rest.
    """

    __slots__ = ('_rotation', '_translation')

    def __init__(self, translation: Iterable[float] = (0.0, 0.0, 0.0),
                 rotation: Iterable[float] = (0.0, 0.0, 0.0, 1.0)):
        t = np.array(translation, dtype=float)
        if t.shape != (3,):
            raise ValueError(f'a translation needs 3 values (x, y, z), got shape {t.shape}')
        if not np.all(np.isfinite(t)):
            raise ValueError(f'translation {t.tolist()} is not finite')
        q = normalized_quaternion(rotation)
        t.flags.writeable = False
        q.flags.writeable = False
        self._translation = t
        self._rotation = q

    @property
    def translation(self) -> np.ndarray:
        """(x, y, z) in m, read-only array."""
        return self._translation

    @property
    def rotation(self) -> np.ndarray:
        """Unit quaternion (x, y, z, w), read-only array."""
        return self._rotation

    @classmethod
    def identity(cls) -> Transform:
        return cls()

    @classmethod
    def from_xyz_rpy(cls, xyz: Iterable[float] = (0.0, 0.0, 0.0),
                     rpy: Iterable[float] = (0.0, 0.0, 0.0)) -> Transform:
        """From a translation in m and fixed-axis roll, pitch, yaw in rad (URDF ``<origin>``)."""
        roll, pitch, yaw = (float(v) for v in rpy)
        if not all(math.isfinite(v) for v in (roll, pitch, yaw)):
            raise ValueError(f'rpy {(roll, pitch, yaw)} is not finite')
        return cls(xyz, quaternion_from_rpy(roll, pitch, yaw))

    @classmethod
    def from_tuple(cls, value: TransformTuple) -> Transform:
        """From ``((x, y, z), (qx, qy, qz, qw))``."""
        translation, rotation = value
        return cls(translation, rotation)

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> Transform:
        """From a 4x4 homogeneous matrix whose upper-left 3x3 block is a rotation."""
        m = np.asarray(matrix, dtype=float)
        if m.shape != (4, 4):
            raise ValueError(f'expected a 4x4 matrix, got shape {m.shape}')
        return cls(m[:3, 3], _quaternion_from_rotation_matrix(m[:3, :3]))

    def as_tuple(self) -> TransformTuple:
        """``((x, y, z), (qx, qy, qz, qw))`` of plain floats."""
        t, q = self._translation, self._rotation
        return (float(t[0]), float(t[1]), float(t[2])), (float(q[0]), float(q[1]), float(q[2]), float(q[3]))

    def rpy(self) -> tuple[float, float, float]:
        """(roll, pitch, yaw) of the rotation in rad."""
        return rpy_from_quaternion(self._rotation)

    def rotation_matrix(self) -> np.ndarray:
        """3x3 rotation matrix."""
        x, y, z, w = self._rotation
        return np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ])

    def as_matrix(self) -> np.ndarray:
        """4x4 homogeneous matrix."""
        m = np.eye(4)
        m[:3, :3] = self.rotation_matrix()
        m[:3, 3] = self._translation
        return m

    def compose(self, other: Transform) -> Transform:
        """``self @ other``: apply ``other`` first, then ``self`` (T_a_b @ T_b_c = T_a_c)."""
        translation = self._translation + self.rotation_matrix() @ other._translation
        return Transform(translation, _renormalized(quaternion_multiply(self._rotation, other._rotation)))

    def __matmul__(self, other: Transform) -> Transform:
        if not isinstance(other, Transform):
            return NotImplemented
        return self.compose(other)

    def inverse(self) -> Transform:
        """T_b_a from T_a_b."""
        x, y, z, w = self._rotation
        conjugate = np.array([-x, -y, -z, w])
        translation = -(self.rotation_matrix().T @ self._translation)
        return Transform(translation, conjugate)

    def apply(self, points: Iterable[float] | np.ndarray) -> np.ndarray:
        """Points (shape (3,) or (N, 3), m) in the child frame, expressed in the parent frame."""
        p = np.asarray(points, dtype=float)
        if p.shape[-1:] != (3,) or p.ndim > 2:
            raise ValueError(f'points must have shape (3,) or (N, 3), got {p.shape}')
        return p @ self.rotation_matrix().T + self._translation

    def interpolate(self, other: Transform, fraction: float) -> Transform:
        """Transform ``fraction`` of the way from self (0) to other (1): linear translation,
        slerp rotation."""
        translation = self._translation + fraction * (other._translation - self._translation)
        return Transform(translation, _renormalized(slerp(self._rotation, other._rotation, fraction)))

    def is_close(self, other: Transform, tolerance: float = 1e-9) -> bool:
        """Same translation within ``tolerance`` m and same rotation (q or -q) within ``tolerance``."""
        same_rotation = min(np.max(np.abs(self._rotation - other._rotation)),
                            np.max(np.abs(self._rotation + other._rotation))) <= tolerance
        return bool(np.max(np.abs(self._translation - other._translation)) <= tolerance and same_rotation)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transform):
            return NotImplemented
        return bool(np.array_equal(self._translation, other._translation)
                    and np.array_equal(self._rotation, other._rotation))

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __repr__(self) -> str:
        t, q = self.as_tuple()
        return f'Transform(translation={t}, rotation={q})'


def _renormalized(q: np.ndarray) -> np.ndarray:
    """Remove floating-point drift from a product of unit quaternions."""
    return q / np.linalg.norm(q)


def _quaternion_from_rotation_matrix(r: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w) of a 3x3 rotation matrix (Shepperd's method)."""
    trace = float(np.trace(r))
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = [(r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4]
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = 2.0 * math.sqrt(max(1.0 + r[0, 0] - r[1, 1] - r[2, 2], 0.0))
        q = [s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s]
    elif r[1, 1] > r[2, 2]:
        s = 2.0 * math.sqrt(max(1.0 + r[1, 1] - r[0, 0] - r[2, 2], 0.0))
        q = [(r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(max(1.0 + r[2, 2] - r[0, 0] - r[1, 1], 0.0))
        q = [(r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4, (r[1, 0] - r[0, 1]) / s]
    return np.array(q)
