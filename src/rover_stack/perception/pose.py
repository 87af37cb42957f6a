"""Pinhole camera model (CameraInfo K/D), calibration files, and marker pose from four corners.

Frames: the camera optical frame (z forward, x right, y down). A marker's frame has its origin at the
marker centre, x to the marker's right, y up, z out of the printed face (towards a viewer).
Units: metres, radians, pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from rover_stack.tf.transform import Transform

#: Numbers of distortion coefficients OpenCV accepts (k1 k2 p1 p2 [k3 [k4 k5 k6 [s1..s4 [tx ty]]]]).
DISTORTION_SIZES = (4, 5, 8, 12, 14)


class CalibrationError(ValueError):
    """A calibration file or CameraInfo that cannot be used."""


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics of one camera: 3x3 ``k`` (px), distortion ``d`` (plumb_bob / OpenCV order)."""

    width: int
    height: int
    k: np.ndarray
    d: np.ndarray = field(default_factory=lambda: np.zeros(5))
    distortion_model: str = 'plumb_bob'
    name: str = 'camera'
    r: np.ndarray = field(default_factory=lambda: np.eye(3))
    p: np.ndarray | None = None

    def __post_init__(self):
        k = np.asarray(self.k, dtype=float).reshape(3, 3)
        d = np.asarray(self.d, dtype=float).ravel()
        if self.width <= 0 or self.height <= 0:
            raise CalibrationError(f'image size {self.width}x{self.height} must be positive')
        if not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0 or k[2, 2] != 1.0:
            raise CalibrationError(f'camera matrix {k.ravel().tolist()} is not a valid K '
                                   '(fx, fy > 0, K[2,2] = 1)')
        if not np.all(np.isfinite(d)):
            raise CalibrationError('distortion coefficients must be finite')
        if d.size not in DISTORTION_SIZES:
            raise CalibrationError(f'{d.size} distortion coefficients; OpenCV takes '
                                   f'{", ".join(map(str, DISTORTION_SIZES))}')
        object.__setattr__(self, 'k', k)
        object.__setattr__(self, 'd', d)
        object.__setattr__(self, 'r', np.asarray(self.r, dtype=float).reshape(3, 3))
        p = (np.hstack([k, np.zeros((3, 1))]) if self.p is None
             else np.asarray(self.p, dtype=float).reshape(3, 4))
        object.__setattr__(self, 'p', p)

    @classmethod
    def from_fov(cls, width: int, height: int, fovy_deg: float) -> CameraModel:
        """Ideal pinhole with square pixels, principal point at the image centre."""
        f = (height / 2.0) / np.tan(np.radians(fovy_deg) / 2.0)
        return cls(width, height, np.array([[f, 0, width / 2.0], [0, f, height / 2.0], [0, 0, 1.0]]))

    @classmethod
    def from_camera_info(cls, info) -> CameraModel:
        """From a sensor_msgs/CameraInfo (duck-typed: width, height, k, d, distortion_model)."""
        d = list(info.d) if len(info.d) else [0.0] * 5
        return cls(int(info.width), int(info.height), np.asarray(info.k, dtype=float),
                   np.asarray(d, dtype=float), info.distortion_model or 'plumb_bob')

    def scaled_to(self, width: int, height: int) -> CameraModel:
        """The same camera at another resolution (K and P scaled per axis)."""
        sx, sy = width / self.width, height / self.height
        scale = np.diag([sx, sy, 1.0])
        return CameraModel(width, height, scale @ self.k, self.d, self.distortion_model, self.name, self.r,
                           scale @ self.p)

    def undistort_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Normalised image coordinates (x/z, y/z) of N x 2 pixel positions."""
        pts = np.asarray(pixels, dtype=np.float64).reshape(-1, 1, 2)
        return cv2.undistortPoints(pts, self.k, self.d).reshape(-1, 2)

    def ray(self, u: float, v: float) -> np.ndarray:
        """Direction (x, y, z = 1) in the optical frame through pixel (u, v)."""
        x, y = self.undistort_pixels(np.array([[u, v]]))[0]
        return np.array([x, y, 1.0])


def load_calibration(path: str | Path) -> CameraModel:
    """Read a ROS camera_info YAML file (camera_calibration / camera_info_manager format)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as error:
        raise CalibrationError(f'{path}: cannot read: {error.strerror}') from None
    except yaml.YAMLError as error:
        raise CalibrationError(f'{path}: not valid YAML: {error}') from None
    if not isinstance(data, dict):
        raise CalibrationError(f'{path}: expected a mapping with image_width, camera_matrix, ...')

    def matrix(key: str, rows: int, cols: int, required: bool = True):
        item = data.get(key)
        if item is None and not required:
            return None
        if not isinstance(item, dict) or 'data' not in item:
            raise CalibrationError(f'{path}: {key} must be a mapping with rows, cols and data')
        values = item['data']
        if not isinstance(values, list) or len(values) != rows * cols \
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            raise CalibrationError(f'{path}: {key}.data must hold {rows * cols} numbers')
        return np.asarray(values, dtype=float).reshape(rows, cols)

    try:
        width, height = int(data['image_width']), int(data['image_height'])
    except (KeyError, TypeError, ValueError):
        raise CalibrationError(f'{path}: image_width and image_height must be integers') from None
    dist = data.get('distortion_coefficients') or {'data': []}
    n_dist = len(dist.get('data') or []) if isinstance(dist, dict) else -1
    if n_dist < 0:
        raise CalibrationError(f'{path}: distortion_coefficients must be a mapping with data')
    d = matrix('distortion_coefficients', 1, n_dist) if n_dist else np.zeros((1, 5))
    try:
        return CameraModel(width, height, matrix('camera_matrix', 3, 3), d.ravel(),
                           str(data.get('distortion_model', 'plumb_bob')),
                           str(data.get('camera_name', 'camera')),
                           matrix('rectification_matrix', 3, 3, required=False)
                           if data.get('rectification_matrix') is not None else np.eye(3),
                           matrix('projection_matrix', 3, 4, required=False))
    except CalibrationError as error:
        raise CalibrationError(f'{path}: {error}') from None


def marker_object_points(size: float) -> np.ndarray:
    """The four corners (x right, y up, z = 0) of a square marker of side ``size`` m, in ArUco order
    (top-left, top-right, bottom-right, bottom-left, seen from the front) as solvePnP IPPE_SQUARE wants."""
    h = size / 2.0
    return np.array([[-h, h, 0.0], [h, h, 0.0], [h, -h, 0.0], [-h, -h, 0.0]], dtype=np.float64)


@dataclass(frozen=True)
class MarkerPose:
    """T_camera_marker and the RMS reprojection error of the corners (px)."""

    transform: Transform
    reprojection_error: float


IPPE_FALLBACK_ERROR_PX = 1.0
"""Above this RMS error of the IPPE solution, SQPnP is tried too. OpenCV's IPPE_SQUARE returns a wrong
rotation (error of tens of px) for exactly symmetric corners of a marker seen straight on."""


def _reprojection_error(object_points, image_points, rvec, tvec, camera: CameraModel) -> float:
    projected, _ = cv2.projectPoints(object_points, rvec, tvec, camera.k, camera.d)
    return float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - image_points) ** 2, axis=1))))


def _solutions(object_points, image_points, camera: CameraModel, flag: int) -> list:
    count, rvecs, tvecs, _ = cv2.solvePnPGeneric(object_points, image_points, camera.k, camera.d, flags=flag)
    out = []
    for rvec, tvec in zip(rvecs[:count], tvecs[:count], strict=True):
        if np.all(np.isfinite(rvec)) and np.all(np.isfinite(tvec)) and tvec[2, 0] > 0.0:
            out.append((_reprojection_error(object_points, image_points, rvec, tvec, camera), rvec, tvec))
    return out


def solve_marker_pose(corners: np.ndarray, size: float, camera: CameraModel) -> MarkerPose | None:
    """Pose of a square marker from its 4 image corners (4 x 2 px, ArUco order), or None if PnP fails.

    cv2.solvePnP's SOLVEPNP_IPPE_SQUARE (both solutions, the one with the smaller reprojection error);
    SQPnP as a fallback when that error exceeds IPPE_FALLBACK_ERROR_PX."""
    image_points = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    object_points = marker_object_points(size)
    candidates = _solutions(object_points, image_points, camera, cv2.SOLVEPNP_IPPE_SQUARE)
    if not candidates or min(c[0] for c in candidates) > IPPE_FALLBACK_ERROR_PX:
        candidates += _solutions(object_points, image_points, camera, cv2.SOLVEPNP_SQPNP)
    if not candidates:
        return None
    error, rvec, tvec = min(candidates, key=lambda c: c[0])
    rotation, _ = cv2.Rodrigues(rvec)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = tvec.ravel()
    return MarkerPose(Transform.from_matrix(matrix), error)


def range_bearing(point_base: np.ndarray) -> tuple[float, float]:
    """Horizontal range (m) and bearing (rad, CCW from +x) of a point in a REP-103 body frame."""
    x, y = float(point_base[0]), float(point_base[1])
    return float(np.hypot(x, y)), float(np.arctan2(y, x))
