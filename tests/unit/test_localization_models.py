"""Motion and measurement models: Jacobians against finite differences, angle conventions."""
import math

import numpy as np
import pytest

from rover_stack.common.angles import wrap_angle
from rover_stack.localization import models

STATES = [np.array([1.0, -2.0, 0.3, 1.2, 0.2, 0.01]), np.array([-5.0, 4.0, 3.1, -0.5, -0.4, -0.02]),
          np.array([0.0, 0.0, -3.1, 0.0, 0.0, 0.0])]


def numeric_jacobian(fn, x, angle_rows=(), eps=1e-6):
    base = fn(x)
    jac = np.zeros((len(base), len(x)))
    for j in range(len(x)):
        dx = np.zeros(len(x))
        dx[j] = eps
        diff = fn(x + dx) - fn(x - dx)
        for row in angle_rows:
            diff[row] = wrap_angle(diff[row])
        jac[:, j] = diff / (2 * eps)
    return jac


@pytest.mark.parametrize('x', STATES)
def test_motion_jacobian(x):
    _, f = models.predict_state(x, 0.1)
    np.testing.assert_allclose(f, numeric_jacobian(lambda s: models.predict_state(s, 0.1)[0], x, (2,)),
                               atol=1e-6)


@pytest.mark.parametrize('x', STATES)
@pytest.mark.parametrize(('model', 'angle_rows'), [
    (lambda x: models.odom_twist_model(x, 0.1, -0.2), ()),
    (lambda x: models.gyro_model(x, 0.2, 0.1), ()),
    (models.yaw_model, (0,)),
    (lambda x: models.gnss_model(x, np.array([-0.3, 0.15, 0.6]), 0.05, -0.1), ()),
    (lambda x: models.landmark_model(x, (7.0, 3.0)), (1,)),
])
def test_measurement_jacobians(x, model, angle_rows):
    _, jac = model(x)
    np.testing.assert_allclose(jac, numeric_jacobian(lambda s: model(s)[0], x, angle_rows), atol=1e-5)


def test_rep103_conventions():
    x = np.array([0.0, 0.0, math.pi / 2, 1.0, 0.0, 0.0])     # facing north
    moved, _ = models.predict_state(x, 1.0)
    assert moved[:2] == pytest.approx([0.0, 1.0], abs=1e-12)   # north is +y
    # a marker straight ahead (north) has bearing 0; one to the west is on the left (+pi/2)
    assert models.landmark_model(x, (0.0, 5.0))[0] == pytest.approx([5.0, 0.0])
    assert models.landmark_model(x, (-5.0, 0.0))[0][1] == pytest.approx(math.pi / 2)
    # an antenna 1 m forward of base_link is 1 m north of it
    assert models.gnss_model(x, np.array([1.0, 0.0, 0.0]))[0] == pytest.approx([0.0, 1.0])


def test_wrap_angle():
    assert wrap_angle(math.pi) == pytest.approx(math.pi)
    assert wrap_angle(-math.pi) == pytest.approx(math.pi)
    assert wrap_angle(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert wrap_angle(-7.0) == pytest.approx(-7.0 + 2 * math.pi)


def test_lateral_process_noise_is_rotated_with_the_heading():
    density = np.array([0.01, 0.01, 0.0, 0.0, 0.0, 0.0])
    q = models.process_noise(1.0, density, math.pi / 2, 0.0001)
    assert q[0, 0] == pytest.approx(0.0001)       # heading north: east is across
    assert q[1, 1] == pytest.approx(0.01)
    assert np.all(np.linalg.eigvalsh(q[:2, :2]) > 0)
