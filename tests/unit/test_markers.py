"""ArUco marker images: OpenCV's detector reads the id back, head-on and in perspective."""
import cv2
import numpy as np
import pytest

from rover_stack.sim.markers import (
    dictionary_size,
    marker_cells,
    marker_image,
    marker_texture_rgb,
    quiet_zone_scale,
)


def detect(image):
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50),
                                       cv2.aruco.DetectorParameters())
    _corners, ids, _rejected = detector.detectMarkers(image)
    return [] if ids is None else sorted(int(i) for i in ids.ravel())


@pytest.mark.parametrize('tag_id', [0, 1, 7, 23, 49])
def test_detector_reads_the_id(tag_id):
    assert detect(marker_image(tag_id)) == [tag_id]


@pytest.mark.parametrize('tag_id', [3, 42])
def test_detector_reads_the_id_after_a_perspective_warp(tag_id):
    marker = marker_image(tag_id, pixels_per_cell=12)
    side = marker.shape[0]
    canvas = np.full((400, 400), 255, np.uint8)
    src = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    dst = np.float32([[120, 90], [260, 130], [250, 300], [110, 320]])    # seen obliquely
    warped = cv2.warpPerspective(marker, cv2.getPerspectiveTransform(src, dst), (400, 400),
                                 dst=canvas, borderMode=cv2.BORDER_TRANSPARENT)
    warped = cv2.GaussianBlur(warped, (3, 3), 0)
    assert detect(warped) == [tag_id]


def test_size_quiet_zone_and_texture_layout():
    image = marker_image(5, pixels_per_cell=10, quiet_zone_cells=2)
    assert image.dtype == np.uint8 and image.shape == ((6 + 4) * 10, (6 + 4) * 10)
    assert (image[:20, :] == 255).all() and (image[:, -20:] == 255).all()   # white quiet zone
    assert (image[20:30, 20:30] == 0).all()                                 # black marker border
    texture = marker_texture_rgb(5, pixels_per_cell=10, quiet_zone_cells=2)
    assert texture.shape == (100, 100, 3) and texture.dtype == np.uint8 and texture.flags['C_CONTIGUOUS']
    assert (texture[:, :, 0] == image).all() and (texture[:, :, 2] == image).all()
    assert quiet_zone_scale(quiet_zone_cells=1) == pytest.approx(8 / 6)
    assert marker_cells() == 6 and dictionary_size() == 50


@pytest.mark.parametrize('tag_id', [50, -1, True, 2.0])
def test_invalid_ids_are_rejected(tag_id):
    with pytest.raises(ValueError, match='tag id'):
        marker_image(tag_id)


def test_unknown_dictionary_is_rejected():
    with pytest.raises(ValueError, match='unknown ArUco dictionary'):
        marker_image(1, dictionary='DICT_9X9_7')
    with pytest.raises(ValueError, match='unknown ArUco dictionary'):
        marker_image(1, dictionary='getPredefinedDictionary')
