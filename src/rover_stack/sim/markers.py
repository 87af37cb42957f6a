"""ArUco marker images for the simulated posts and gates (OpenCV's aruco module).

A marker of a 4x4 dictionary is 6 x 6 cells (4 data cells plus a one-cell black border); a white
quiet zone of ``quiet_zone_cells`` cells is added around it, as on a printed competition marker
(detectors need the white surround to find the black square). The printed marker size of a post
(``Post.marker_size``) is the black square, without the quiet zone.
"""
from __future__ import annotations

import cv2
import numpy as np

DEFAULT_DICTIONARY = 'DICT_4X4_50'


def _dictionary(name: str):
    if not name.startswith('DICT_') or not hasattr(cv2.aruco, name):
        raise ValueError(f'unknown ArUco dictionary {name!r} (expected e.g. {DEFAULT_DICTIONARY})')
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def dictionary_size(name: str = DEFAULT_DICTIONARY) -> int:
    """Number of marker ids in the dictionary (ids are 0 .. size-1)."""
    return int(_dictionary(name).bytesList.shape[0])


def marker_cells(name: str = DEFAULT_DICTIONARY) -> int:
    """Cells per side of a marker including its black border (6 for a 4x4 dictionary)."""
    return int(_dictionary(name).markerSize) + 2


def marker_image(tag_id: int, dictionary: str = DEFAULT_DICTIONARY, pixels_per_cell: int = 16,
                 quiet_zone_cells: int = 1) -> np.ndarray:
    """Grayscale uint8 image (0 black, 255 white) of the marker with a white quiet zone.

    Side in pixels: (marker_cells + 2 * quiet_zone_cells) * pixels_per_cell.
    """
    aruco_dict = _dictionary(dictionary)
    size = int(aruco_dict.bytesList.shape[0])
    if isinstance(tag_id, bool) or not isinstance(tag_id, int | np.integer) or not 0 <= tag_id < size:
        raise ValueError(f'tag id must be an integer in [0, {size - 1}] for {dictionary}, got {tag_id!r}')
    if pixels_per_cell < 1 or quiet_zone_cells < 0:
        raise ValueError('pixels_per_cell must be >= 1 and quiet_zone_cells >= 0')
    side = (int(aruco_dict.markerSize) + 2) * pixels_per_cell
    marker = cv2.aruco.generateImageMarker(aruco_dict, int(tag_id), side, borderBits=1)
    pad = quiet_zone_cells * pixels_per_cell
    return np.pad(marker, pad, mode='constant', constant_values=255)


def marker_texture_rgb(tag_id: int, dictionary: str = DEFAULT_DICTIONARY, pixels_per_cell: int = 16,
                       quiet_zone_cells: int = 1) -> np.ndarray:
    """The marker image as an H x W x 3 uint8 RGB array (a MuJoCo texture), C-contiguous."""
    gray = marker_image(tag_id, dictionary, pixels_per_cell, quiet_zone_cells)
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def quiet_zone_scale(dictionary: str = DEFAULT_DICTIONARY, quiet_zone_cells: int = 1) -> float:
    """Side of the textured square over the side of the black marker (e.g. 8/6 for 4x4, 1 cell)."""
    cells = marker_cells(dictionary)
    return (cells + 2 * quiet_zone_cells) / cells
