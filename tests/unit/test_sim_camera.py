"""Rendered camera: an ArUco post is detected with the right id at 2, 5 and 8 m; image size and K."""
import cv2
import numpy as np
import pytest

from rover_stack.geo.enu import Datum
from rover_stack.sim.course import Course, Post
from rover_stack.sim.engine import Simulator
from rover_stack.sim.sensors import ImageReading
from rover_stack.sim.terrain import TerrainSpec

TAG = 17


def post_course(distance: float) -> Course:
    """A post ``distance`` m in front of the rover's camera (rover at the origin facing east)."""
    return Course(name='post', description='', difficulty='easy', datum=Datum(38.4, -110.8, 1300.0),
                  terrain=TerrainSpec(size_x=40.0, size_y=40.0, resolution=16, max_height=0.0),
                  start_x=0.0, start_y=0.0, start_yaw=0.0, rocks=(),
                  posts=(Post(tag_id=TAG, x=0.45 + distance, y=0.0),), gates=(), objects=())


@pytest.mark.parametrize('distance', [2.0, 5.0, 8.0])
def test_aruco_marker_on_a_post_is_detected_with_its_id(distance):
    sim = Simulator(post_course(distance), 'skid4', seed=0)
    try:
        frames = [r for r in sim.step(round(0.2 / sim.dt)) if isinstance(r, ImageReading)]
    finally:
        sim.close()
    image = frames[-1].image
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    assert ids is not None and ids.ravel().tolist() == [TAG]
    # upright and not mirrored: corner 0 is the top-left one
    quad = corners[0][0]
    assert quad[0][0] < quad[1][0] and quad[0][1] < quad[3][1]
    # apparent size matches the pinhole model: f * 0.2 m / range to the face (post half-width 0.163 m)
    side = float(np.linalg.norm(quad[1] - quad[0]))
    focal = frames[-1].k[0]
    assert side == pytest.approx(focal * 0.2 / (distance - 0.163), rel=0.1)
