"""Synthetic camera images for tests and benchmarks: ArUco markers placed by a homography at known
poses in a pinhole render, upright coloured objects, noise and blur. Pure numpy/OpenCV.

Frames as in pose.py: camera optical frame (z forward, x right, y down); marker frame x right, y up,
z out of the face.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from rover_stack.perception.pose import CameraModel
from rover_stack.tf.transform import Transform, quaternion_from_axis_angle


def facing_pose(x: float, y: float, z: float, yaw: float = 0.0) -> Transform:
    """T_camera_marker for a marker centred at (x, y, z) in the optical frame whose face points back at
    the camera, turned by ``yaw`` rad about its own vertical (y) axis."""
    facing = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])   # columns: marker x, y, z
    c, s = math.cos(yaw), math.sin(yaw)
    turn = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    m = np.eye(4)
    m[:3, :3] = facing @ turn
    m[:3, 3] = (x, y, z)
    return Transform.from_matrix(m)


def marker_texture(marker_id: int, dictionary: str = 'DICT_4X4_50', pixels_per_cell: int = 32,
                   quiet_zone_cells: int = 1) -> tuple[np.ndarray, float]:
    """Grayscale marker with a white quiet zone, and the ratio (plate side / black square side)."""
    aruco_dict = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
    cells = aruco_dict.markerSize + 2
    marker = cv2.aruco.generateImageMarker(aruco_dict, int(marker_id), cells * pixels_per_cell, borderBits=1)
    pad = quiet_zone_cells * pixels_per_cell
    return np.pad(marker, pad, constant_values=255), (cells + 2 * quiet_zone_cells) / cells


def background(camera: CameraModel, level: int = 110, seed: int = 0) -> np.ndarray:
    """A dull textured RGB background: a vertical gradient (sky to ground) plus mild structure."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(level + 40, level - 30, camera.height)[:, None]
    img = np.repeat(rows, camera.width, axis=1)
    img = img + cv2.GaussianBlur(rng.normal(0, 12, (camera.height, camera.width)), (0, 0), 6)
    rgb = np.stack([img * 1.05, img, img * 0.9], axis=2)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def draw_marker(image: np.ndarray, camera: CameraModel, marker_id: int, size: float,  # noqa: PLR0917
                t_camera_marker: Transform, dictionary: str = 'DICT_4X4_50', supersample: int = 3) -> None:
    """Paint the marker (black square of side ``size`` m, plus quiet zone) into ``image`` in place.
    Renders at ``supersample`` times the resolution and averages down, like a camera's pixel area."""
    texture, scale = marker_texture(marker_id, dictionary)
    side = texture.shape[0]
    plate = size * scale
    # marker-texture pixel (a, b) -> marker plane (x, y), pixel centres at (a + 0.5) / side
    to_plane = np.array([[plate / side, 0.0, plate * (0.5 / side - 0.5)],
                         [0.0, -plate / side, plate * (0.5 - 0.5 / side)],
                         [0.0, 0.0, 1.0]])
    m = t_camera_marker.as_matrix()
    s = float(supersample)
    k_hi = np.diag([s, s, 1.0]) @ camera.k
    k_hi[0, 2] = s * (camera.k[0, 2] + 0.5) - 0.5   # keep pixel centres aligned after down-sampling
    k_hi[1, 2] = s * (camera.k[1, 2] + 0.5) - 0.5
    homography = k_hi @ np.column_stack([m[:3, 0], m[:3, 1], m[:3, 3]]) @ to_plane
    size_hi = (camera.width * supersample, camera.height * supersample)
    warped = cv2.warpPerspective(texture, homography, size_hi, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full_like(texture, 255), homography, size_hi, flags=cv2.INTER_LINEAR)
    size_lo = (camera.width, camera.height)
    warped = cv2.resize(warped, size_lo, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(mask, size_lo, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    base = image.astype(np.float32)
    blended = base * (1 - alpha[..., None]) + (warped * alpha)[..., None]
    image[...] = np.clip(blended, 0, 255).astype(np.uint8)


def draw_upright_object(image: np.ndarray, camera: CameraModel, centre_camera, width: float,  # noqa: PLR0917
                        height: float, rgb: tuple[int, int, int], ellipse: bool = False) -> None:
    """Paint an object of ``width`` x ``height`` m facing the camera, centred at ``centre_camera`` (m,
    optical frame), as a filled rectangle (or ellipse) in ``rgb``."""
    x, y, z = (float(v) for v in centre_camera)
    fx, fy, cx, cy = camera.k[0, 0], camera.k[1, 1], camera.k[0, 2], camera.k[1, 2]
    u, v = fx * x / z + cx, fy * y / z + cy
    half_w, half_h = fx * width / z / 2.0, fy * height / z / 2.0
    colour = tuple(int(c) for c in rgb)
    if ellipse:
        axes = (max(1, round(half_w)), max(1, round(half_h)))
        cv2.ellipse(image, (round(u), round(v)), axes, 0, 0, 360, colour, -1)
    else:
        top_left = (round(u - half_w), round(v - half_h))
        cv2.rectangle(image, top_left, (round(u + half_w) - 1, round(v + half_h) - 1), colour, -1)


def degrade(image: np.ndarray, noise_sigma: float = 0.0, blur_sigma: float = 0.0,
            seed: int = 0) -> np.ndarray:
    """Gaussian blur (sigma px) then Gaussian pixel noise (sigma grey levels), seeded."""
    out = image.astype(np.float32)
    if blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_sigma)
    if noise_sigma > 0:
        out = out + np.random.default_rng(seed).normal(0.0, noise_sigma, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def rotation_about(axis, angle: float) -> Transform:
    return Transform((0.0, 0.0, 0.0), quaternion_from_axis_angle(axis, angle))
