"""ArUco detection and pose on synthetic pinhole renders of known poses (noise and blur added)."""
import math

import numpy as np
import pytest

from rover_stack.perception.aruco import (
    REJECT_REPROJECTION,
    REJECT_SMALL,
    MarkerConfig,
    MarkerDetector,
)
from rover_stack.perception.pose import CameraModel, solve_marker_pose
from rover_stack.perception.synthetic import background, degrade, draw_marker, facing_pose

CAMERA = CameraModel.from_fov(640, 480, 45.0)
SIZE = 0.2


def render(markers, seed=0, noise=3.0, blur=0.7):
    image = background(CAMERA, seed=seed)
    for marker_id, pose in markers:
        draw_marker(image, CAMERA, marker_id, SIZE, pose)
    return degrade(image, noise_sigma=noise, blur_sigma=blur, seed=seed)


def test_several_markers_have_their_ids():
    image = render([(3, facing_pose(-0.6, 0.0, 2.5)), (17, facing_pose(0.5, 0.1, 3.0, 0.3)),
                    (42, facing_pose(0.0, -0.2, 1.5, -0.4))])
    found = MarkerDetector().detect(image, CAMERA)
    assert sorted(o.marker_id for o in found if o.rejected is None) == [3, 17, 42]


def test_background_alone_has_no_markers():
    for seed in range(3):
        assert MarkerDetector().detect(render([], seed=seed), CAMERA) == []


CASES = [(r, side * r, yaw) for r in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
         for side, yaw in ((0.0, 0.0), (0.25, 0.3), (-0.25, 0.3), (0.0, -0.3))]   # lateral offset: a fraction of range


@pytest.mark.parametrize(('distance', 'lateral', 'yaw'), CASES)
def test_pose_error_within_3_percent_of_range(distance, lateral, yaw):
    seed = round(distance * 10 + lateral * 100 + yaw * 1000) % 997
    truth = facing_pose(lateral, 0.15, distance, yaw)
    found = MarkerDetector().detect(render([(7, truth)], seed=seed), CAMERA)
    assert [o.marker_id for o in found] == [7]
    obs = found[0]
    assert obs.rejected is None
    error = np.linalg.norm(obs.pose.transform.translation - truth.translation)
    assert error <= 0.03 * np.linalg.norm(truth.translation), f'{error:.3f} m at {distance} m'
    # the marker's z axis (out of its face) points back at the camera
    z_axis = obs.pose.transform.rotation_matrix()[:, 2]
    assert z_axis[2] < -0.8
    assert obs.reprojection_error < 1.0


def test_mono_image_gives_the_same_result():
    image = render([(5, facing_pose(0.2, 0.0, 2.0))])
    gray = image.mean(axis=2).astype(np.uint8)
    (obs,) = MarkerDetector().detect(gray, CAMERA)
    assert obs.marker_id == 5 and obs.rejected is None


def test_small_markers_are_rejected():
    image = render([(9, facing_pose(0.0, 0.0, 4.0))])   # about 29 px a side
    (obs,) = MarkerDetector(MarkerConfig(min_side_px=40.0)).detect(image, CAMERA)
    assert obs.rejected == REJECT_SMALL and obs.pose is None
    assert 25.0 < obs.side_px < 33.0
    (obs,) = MarkerDetector(MarkerConfig(min_side_px=20.0)).detect(image, CAMERA)
    assert obs.rejected is None


def test_high_reprojection_error_is_rejected():
    image = render([(9, facing_pose(0.3, 0.0, 2.0, 0.2))])
    (obs,) = MarkerDetector(MarkerConfig(max_reprojection_error=1e-4)).detect(image, CAMERA)
    assert obs.rejected == REJECT_REPROJECTION


def test_a_non_square_quadrilateral_has_a_large_reprojection_error():
    corners = np.array([[300.0, 200.0], [360.0, 200.0], [380.0, 290.0], [300.0, 260.0]])
    pose = solve_marker_pose(corners, SIZE, CAMERA)
    assert pose is None or pose.reprojection_error > 3.0


def test_unknown_dictionary_and_bad_size_are_refused():
    with pytest.raises(ValueError, match='dictionary'):
        MarkerConfig(dictionary='DICT_NOPE')
    with pytest.raises(ValueError, match='marker_size'):
        MarkerConfig(marker_size=0.0)


def test_markers_of_another_dictionary_are_not_reported():
    image = render([(3, facing_pose(0.0, 0.0, 2.0))])
    found = MarkerDetector(MarkerConfig(dictionary='DICT_6X6_250')).detect(image, CAMERA)
    assert all(o.rejected is not None for o in found)


def test_distortion_is_used_by_the_pose():
    """The same corners with and without distortion give different poses (K/D reach solvePnP)."""
    corners = np.array([[500.0, 100.0], [560.0, 100.0], [560.0, 160.0], [500.0, 160.0]])
    plain = solve_marker_pose(corners, SIZE, CAMERA)
    barrel = CameraModel(640, 480, CAMERA.k, np.array([-0.3, 0.1, 0.0, 0.0, 0.0]))
    distorted = solve_marker_pose(corners, SIZE, barrel)
    shift = np.linalg.norm(plain.transform.translation - distorted.transform.translation)
    assert shift > 0.01
    assert math.isfinite(distorted.reprojection_error)


def test_a_marker_seen_exactly_straight_on_has_the_right_pose():
    """OpenCV's IPPE_SQUARE fails on exactly symmetric corners; the fallback must give the true pose."""
    truth = facing_pose(0.1, 0.0, 1.6)
    corners = np.array([[-0.1, 0.1, 0.0], [0.1, 0.1, 0.0], [0.1, -0.1, 0.0], [-0.1, -0.1, 0.0]])
    points = truth.apply(corners)
    pixels = (CAMERA.k @ points.T).T
    pose = solve_marker_pose(pixels[:, :2] / pixels[:, 2:], SIZE, CAMERA)
    assert pose.reprojection_error < 0.01
    assert np.allclose(pose.transform.translation, truth.translation, atol=1e-3)
    assert np.allclose(pose.transform.rotation_matrix(), truth.rotation_matrix(), atol=1e-3)
