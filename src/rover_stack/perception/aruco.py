"""ArUco marker detection with pose, reprojection error and rejection rules (pure OpenCV, no ROS).

``MarkerDetector.detect(image, camera)`` finds markers with cv2.aruco.ArucoDetector (sub-pixel corner
refinement), solves each pose with cv2.solvePnP(SOLVEPNP_IPPE_SQUARE) against the CameraInfo K/D, and
sorts them into accepted observations and rejected ones (with the reason): too small in the image,
reprojection error too high, or a pose that could not be solved.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rover_stack.perception.pose import CameraModel, MarkerPose, solve_marker_pose

DEFAULT_DICTIONARY = 'DICT_4X4_50'

REJECT_SMALL = 'too_small'
REJECT_REPROJECTION = 'reprojection_error'
REJECT_POSE = 'no_pose'


@dataclass(frozen=True)
class MarkerConfig:
    dictionary: str = DEFAULT_DICTIONARY
    marker_size: float = 0.2               # m, side of the black square
    min_side_px: float = 12.0              # px, shortest side below which a marker is rejected
    max_reprojection_error: float = 2.0    # px, RMS over the four corners

    def __post_init__(self):
        if not self.dictionary.startswith('DICT_') or not hasattr(cv2.aruco, self.dictionary):
            raise ValueError(f'unknown ArUco dictionary {self.dictionary!r} (e.g. {DEFAULT_DICTIONARY})')
        if not self.marker_size > 0.0:
            raise ValueError(f'marker_size must be positive, got {self.marker_size}')


@dataclass(frozen=True)
class MarkerObservation:
    """One marker in one image. ``pose`` is T_camera_marker (None when rejected before PnP)."""

    marker_id: int
    corners: np.ndarray          # 4 x 2 px, ArUco order (top-left, top-right, bottom-right, bottom-left)
    side_px: float               # shortest side in the image
    pose: MarkerPose | None
    rejected: str | None = None  # None when accepted, else one of the REJECT_* reasons

    @property
    def reprojection_error(self) -> float:
        return self.pose.reprojection_error if self.pose is not None else float('nan')


def _dictionary(name: str):
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def shortest_side(corners: np.ndarray) -> float:
    c = np.asarray(corners, dtype=float).reshape(4, 2)
    return float(np.min(np.linalg.norm(c - np.roll(c, -1, axis=0), axis=1)))


class MarkerDetector:
    """Detects markers of one dictionary, all of side ``config.marker_size``."""

    def __init__(self, config: MarkerConfig = MarkerConfig()):
        self.config = config
        parameters = cv2.aruco.DetectorParameters()
        parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        self._detector = cv2.aruco.ArucoDetector(_dictionary(config.dictionary), parameters)

    def find(self, gray: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(id, 4 x 2 corners) of every marker in a grayscale uint8 image, no pose."""
        corners, ids, _ = self._detector.detectMarkers(gray)
        if ids is None:
            return []
        return [(int(i), c.reshape(4, 2).astype(np.float64))
                for i, c in zip(ids.ravel(), corners, strict=True)]

    def detect(self, image: np.ndarray, camera: CameraModel) -> list[MarkerObservation]:
        """Every marker found in ``image`` (grayscale, or RGB), accepted and rejected."""
        gray = to_gray(image)
        observations = []
        for marker_id, corners in self.find(gray):
            side = shortest_side(corners)
            if side < self.config.min_side_px:
                observations.append(MarkerObservation(marker_id, corners, side, None, REJECT_SMALL))
                continue
            pose = solve_marker_pose(corners, self.config.marker_size, camera)
            if pose is None:
                observations.append(MarkerObservation(marker_id, corners, side, None, REJECT_POSE))
            elif pose.reprojection_error > self.config.max_reprojection_error:
                observations.append(MarkerObservation(marker_id, corners, side, pose, REJECT_REPROJECTION))
            else:
                observations.append(MarkerObservation(marker_id, corners, side, pose))
        return observations


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale uint8 view of an H x W (mono) or H x W x 3 (RGB) image."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    raise ValueError(f'expected an H x W or H x W x 3 image, got shape {image.shape}')


def annotate(image_rgb: np.ndarray, observations: list[MarkerObservation], camera: CameraModel,
             size: float) -> np.ndarray:
    """A copy of the image with accepted markers outlined in green (with axes), rejected ones in red."""
    out = np.ascontiguousarray(image_rgb.copy())
    for obs in observations:
        colour = (0, 255, 0) if obs.rejected is None else (255, 0, 0)
        pts = obs.corners.reshape(-1, 1, 2).astype(np.int32)
        cv2.polylines(out, [pts], True, colour, 2)
        cv2.putText(out, str(obs.marker_id), tuple(int(x) for x in obs.corners[0]), cv2.FONT_HERSHEY_SIMPLEX,
                    0.6, colour, 2)
        if obs.rejected is None and obs.pose is not None:
            m = obs.pose.transform.as_matrix()
            rvec, _ = cv2.Rodrigues(m[:3, :3])
            cv2.drawFrameAxes(out, camera.k, camera.d, rvec, m[:3, 3], size / 2.0)
    return out
