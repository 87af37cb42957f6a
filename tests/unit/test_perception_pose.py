"""Camera model, calibration files (ROS camera_info YAML) and range/bearing."""
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rover_stack.perception.pose import CalibrationError, CameraModel, load_calibration, range_bearing

EXAMPLE = Path(__file__).resolve().parents[2] / 'config' / 'camera_info' / 'example_640x480.yaml'


def test_example_calibration_loads():
    camera = load_calibration(EXAMPLE)
    assert (camera.width, camera.height) == (640, 480)
    assert camera.k[0, 0] == pytest.approx(514.7) and camera.k[1, 2] == pytest.approx(238.9)
    assert camera.d.shape == (5,) and camera.distortion_model == 'plumb_bob'
    assert camera.p.shape == (3, 4) and camera.name == 'rover_front'


@pytest.mark.parametrize(('text', 'match'), [
    ('image_width: 640\n', 'image_width and image_height'),
    ('[1, 2]\n', 'mapping'),
    ('image_width: 640\nimage_height: 480\ncamera_matrix: {rows: 3, cols: 3, data: [1, 2]}\n', '9 numbers'),
    ('image_width: 640\nimage_height: 480\ncamera_matrix: {rows: 3, cols: 3, data: [0, 0, 1, 0, 1, 1, 0, 0, 1]}\n',
     'not a valid K'),
    ('image_width: [\n', 'not valid YAML'),
])
def test_bad_calibration_files_are_refused(tmp_path, text, match):
    path = tmp_path / 'cam.yaml'
    path.write_text(text)
    with pytest.raises(CalibrationError, match=match):
        load_calibration(path)


def test_missing_calibration_file_is_refused(tmp_path):
    with pytest.raises(CalibrationError, match='cannot read'):
        load_calibration(tmp_path / 'nope.yaml')


def test_camera_info_and_scaling():
    info = SimpleNamespace(width=640, height=480, k=[500.0, 0, 320, 0, 500, 240, 0, 0, 1], d=[],
                           distortion_model='')
    camera = CameraModel.from_camera_info(info)
    half = camera.scaled_to(320, 240)
    assert half.k[0, 0] == pytest.approx(250.0) and half.k[0, 2] == pytest.approx(160.0)
    assert np.allclose(camera.ray(320, 240), [0.0, 0.0, 1.0])
    assert np.allclose(camera.ray(820, 240), [1.0, 0.0, 1.0])


def test_range_and_bearing_are_horizontal_and_ccw():
    r, b = range_bearing(np.array([3.0, 4.0, 10.0]))
    assert r == pytest.approx(5.0) and b == pytest.approx(math.atan2(4, 3))
    assert range_bearing(np.array([0.0, -2.0, 0.0]))[1] == pytest.approx(-math.pi / 2)
