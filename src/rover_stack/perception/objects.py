"""Ground-object detection (URC mallet and water bottle): an interface and a classical colour detector.

Interface: any object with ``detect(image_rgb, camera) -> list[ObjectDetection]`` (``ObjectDetector``),
so a learned detector can replace the classical one without touching the node.

``ColourBlobDetector`` thresholds each class's HSV range (OpenCV scale: H 0..180, S and V 0..255),
cleans the mask with an opening, and keeps connected blobs with enough pixels and the expected
elongation (long / short side of the blob's minimum-area rectangle), taller than wide for upright
classes. Range comes from the known
physical size of one side of the blob (the pinhole relation depth = f * size / pixels), bearing from
the pixel column through the calibrated camera.

Default classes match the simulator (rover_stack/sim/model_builder.py): the mallet's rubber head is an
orange (RGB 1.0, 0.45, 0.0) cylinder 9 cm across and 12 cm long lying on the ground, its handle brown
and not used; the bottle an upright blue (RGB 0.2, 0.5, 0.9) cylinder 22 cm tall and 7 cm across.
Real competition objects differ (the URC bottle colour is not fixed): tune ``hsv_low``/``hsv_high``
and the sizes in config/perception.yaml.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from rover_stack.perception.pose import CameraModel


@dataclass(frozen=True)
class ObjectDetection:
    label: str
    centre_px: tuple[float, float]       # (u, v) of the blob centroid
    corners: np.ndarray                  # 4 x 2 px, the blob's minimum-area rectangle
    size_px: float                       # px, the blob side matched to ``size``
    size: float                          # m, the known physical size used for the range
    position_camera: np.ndarray          # (x, y, z) m in the optical frame
    bearing_camera: float                # rad, CCW about the camera's up axis (left positive)
    confidence: float                    # 0..1


class ObjectDetector(Protocol):
    def detect(self, image_rgb: np.ndarray, camera: CameraModel) -> list[ObjectDetection]:
        """Every object found in an H x W x 3 RGB uint8 image."""


@dataclass(frozen=True)
class ColourClass:
    label: str
    hsv_low: tuple[int, int, int]
    hsv_high: tuple[int, int, int]
    size: float                  # m, physical length of the blob side named by ``size_side``
    size_side: str = 'short'     # 'short' or 'long' side of the minimum-area rectangle
    min_aspect: float = 1.0      # long / short side
    max_aspect: float = 10.0
    min_area_px: int = 40
    max_range: float = 15.0      # m, farther estimates are discarded
    upright: bool = False        # the blob must be taller than wide (a standing bottle)

    def __post_init__(self):
        if self.size_side not in ('short', 'long'):
            raise ValueError(f'{self.label}: size_side must be short or long, got {self.size_side!r}')
        if not self.size > 0 or not 1.0 <= self.min_aspect <= self.max_aspect:
            raise ValueError(f'{self.label}: need size > 0 and 1 <= min_aspect <= max_aspect')
        for low, high in zip(self.hsv_low, self.hsv_high, strict=True):
            if not 0 <= low <= 255 or not 0 <= high <= 255:
                raise ValueError(f'{self.label}: HSV bounds must be within 0..255')


MALLET = ColourClass('mallet', (5, 210, 120), (20, 255, 255), size=0.09, size_side='short', min_aspect=1.1,
                     max_aspect=4.0)
BOTTLE = ColourClass('bottle', (95, 150, 60), (125, 255, 255), size=0.22, size_side='long', min_aspect=1.8,
                     max_aspect=5.5, upright=True)
DEFAULT_CLASSES = (MALLET, BOTTLE)


class ColourBlobDetector:
    """Classical detector: one HSV range per class (see module docstring)."""

    def __init__(self, classes=DEFAULT_CLASSES, max_per_class: int = 3):
        self.classes = tuple(classes)
        self.max_per_class = max_per_class
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def mask(self, hsv: np.ndarray, spec: ColourClass) -> np.ndarray:
        lo, hi = np.array(spec.hsv_low, np.uint8), np.array(spec.hsv_high, np.uint8)
        if lo[0] <= hi[0]:
            mask = cv2.inRange(hsv, lo, hi)
        else:   # hue range wrapping through red (e.g. 170..10)
            mask = cv2.inRange(hsv, lo, np.array([180, hi[1], hi[2]], np.uint8)) | cv2.inRange(
                hsv, np.array([0, lo[1], lo[2]], np.uint8), hi)
        return cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)

    def detect(self, image_rgb: np.ndarray, camera: CameraModel) -> list[ObjectDetection]:
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
            raise ValueError(f'expected an H x W x 3 RGB image, got shape {image_rgb.shape}')
        hsv = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2HSV)
        found = []
        for spec in self.classes:
            found.extend(self._detect_class(hsv, spec, camera))
        return found

    def _detect_class(self, hsv: np.ndarray, spec: ColourClass, camera: CameraModel) -> list[ObjectDetection]:
        mask = self.mask(hsv, spec)
        count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        candidates = []
        for i in range(1, count):
            area = int(stats[i, cv2.CC_STAT_AREA])
            if area < spec.min_area_px:
                continue
            x, y, w, h = (int(stats[i, k]) for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH,
                                                     cv2.CC_STAT_HEIGHT))
            points = cv2.findNonZero((labels[y:y + h, x:x + w] == i).astype(np.uint8))
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(points)
            long_side, short_side = max(rw, rh) + 1.0, min(rw, rh) + 1.0   # +1: pixel extent, not centres
            aspect = long_side / short_side
            if not spec.min_aspect <= aspect <= spec.max_aspect or (spec.upright and h < w):
                continue
            size_px = short_side if spec.size_side == 'short' else long_side
            u, v = float(centroids[i][0]), float(centroids[i][1])
            ray = camera.ray(u, v)
            focal = math.sqrt(camera.k[0, 0] * camera.k[1, 1])
            depth = focal * spec.size / size_px
            if depth > spec.max_range:
                continue
            position = ray * depth
            corners = cv2.boxPoints(((cx + x, cy + y), (rw, rh), angle)).astype(np.float64)
            fill = area / max(1.0, long_side * short_side)
            confidence = float(np.clip(fill, 0.0, 1.0) * min(1.0, area / (4.0 * spec.min_area_px)))
            bearing = math.atan2(-position[0], position[2])
            candidates.append(ObjectDetection(spec.label, (u, v), corners, float(size_px), spec.size,
                                              position, bearing, confidence))
        candidates.sort(key=lambda d: -d.confidence)
        return candidates[:self.max_per_class]
