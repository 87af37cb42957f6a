"""Classical ground-object detector on synthetic images: mallet (orange) and bottle (blue)."""
import math

import numpy as np
import pytest

from rover_stack.perception.objects import BOTTLE, MALLET, ColourBlobDetector, ColourClass, ObjectDetector
from rover_stack.perception.pose import CameraModel
from rover_stack.perception.synthetic import background, degrade, draw_upright_object

CAMERA = CameraModel.from_fov(640, 480, 45.0)
MALLET_RGB = (255, 115, 0)      # simulator head colour (1.0, 0.45, 0.0)
BOTTLE_RGB = (51, 128, 230)     # simulator bottle colour (0.2, 0.5, 0.9)
SKY_RGB = (140, 178, 230)
GROUND_RGB = (158, 117, 84)


def scene(objects, seed=0):
    image = background(CAMERA, seed=seed)
    for centre, width, height, rgb in objects:
        draw_upright_object(image, CAMERA, centre, width, height, rgb)
    return degrade(image, noise_sigma=3.0, blur_sigma=0.6, seed=seed)


def test_the_classical_detector_satisfies_the_interface():
    detector: ObjectDetector = ColourBlobDetector()
    assert detector.detect(scene([]), CAMERA) == []


@pytest.mark.parametrize('distance', [1.0, 2.0, 4.0, 6.0])
@pytest.mark.parametrize('lateral', [-0.3, 0.0, 0.25])
def test_mallet_head_range_and_bearing(distance, lateral):
    centre = (lateral * distance, 0.3, distance)
    (det,) = ColourBlobDetector().detect(scene([(centre, 0.12, MALLET.size, MALLET_RGB)]), CAMERA)
    assert det.label == 'mallet'
    true_range = math.hypot(centre[0], centre[2])
    assert math.hypot(det.position_camera[0], det.position_camera[2]) == pytest.approx(true_range, rel=0.1)
    assert det.bearing_camera == pytest.approx(math.atan2(-centre[0], centre[2]), abs=0.02)
    assert 0.0 < det.confidence <= 1.0


@pytest.mark.parametrize('distance', [1.5, 3.0, 5.0])
def test_bottle_range_from_its_height(distance):
    centre = (0.2, 0.25, distance)
    (det,) = ColourBlobDetector().detect(scene([(centre, 0.07, BOTTLE.size, BOTTLE_RGB)]), CAMERA)
    assert det.label == 'bottle'
    assert det.position_camera[2] == pytest.approx(distance, rel=0.1)


def test_both_objects_in_one_image_and_no_confusion_with_sky_or_ground():
    image = scene([((-0.5, 0.3, 3.0), 0.12, 0.09, MALLET_RGB), ((0.6, 0.2, 2.5), 0.07, 0.22, BOTTLE_RGB),
                   ((0.0, -1.5, 8.0), 3.0, 1.0, SKY_RGB), ((0.0, 1.3, 4.0), 2.0, 0.4, GROUND_RGB)])
    labels = sorted(d.label for d in ColourBlobDetector().detect(image, CAMERA))
    assert labels == ['bottle', 'mallet']


def test_blobs_of_the_wrong_shape_are_ignored():
    # an orange square (aspect 1) is not a mallet head seen from the side; a squat blue box is no bottle
    image = scene([((-0.5, 0.3, 3.0), 0.2, 0.2, MALLET_RGB), ((0.6, 0.2, 2.5), 0.3, 0.1, BOTTLE_RGB)])
    assert ColourBlobDetector().detect(image, CAMERA) == []


def test_wrapping_hue_range_and_bad_classes():
    red = ColourClass('red', (170, 100, 100), (10, 255, 255), size=0.1)
    image = scene([((0.0, 0.0, 2.0), 0.2, 0.1, (230, 20, 30))])
    assert [d.label for d in ColourBlobDetector([red]).detect(image, CAMERA)] == ['red']
    with pytest.raises(ValueError):
        ColourClass('x', (0, 0, 0), (10, 255, 255), size=0.0)
    with pytest.raises(ValueError):
        ColourClass('x', (0, 0, 0), (10, 255, 255), size=0.1, size_side='diagonal')
    with pytest.raises(ValueError, match='RGB'):
        ColourBlobDetector().detect(np.zeros((10, 10), np.uint8), CAMERA)
