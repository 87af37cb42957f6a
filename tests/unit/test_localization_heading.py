"""Initial heading from the GNSS track (Procrustes fit of dead reckoning onto fixes)."""
import math

import numpy as np
import pytest

from rover_stack.localization.heading import HeadingInitializer
from rover_stack.localization.models import rotation_2d


@pytest.mark.parametrize('true_yaw', [0.3, -2.5, 3.0])
@pytest.mark.parametrize('w', [0.0, 0.15])
def test_recovers_the_heading_and_pose(true_yaw, w):
    lever = np.array([-0.3, 0.15, 0.6])
    init = HeadingInitializer(lever, min_distance=8.0)
    rng = np.random.default_rng(1)
    start = np.array([4.0, -7.0])
    yaw, pos = true_yaw, start.copy()
    fit = None
    for _ in range(400):
        dt, v = 0.1, 1.0
        mid = yaw + 0.5 * w * dt
        pos = pos + v * dt * np.array([math.cos(mid), math.sin(mid)])
        yaw += w * dt
        init.advance(v, w, dt)
        antenna = pos + rotation_2d(yaw) @ lever[:2] + rng.normal(0.0, 0.3, 2)
        init.add_fix(antenna, 0.09)
        fit = init.fit()
        if fit is not None:
            break
    assert fit is not None
    assert 8.0 <= init.span() < 8.5
    xy, estimated_yaw = init.map_pose(fit)
    assert abs(math.remainder(estimated_yaw - yaw, 2 * math.pi)) < math.radians(3.0)
    assert np.hypot(*(xy - pos)) < 0.5
    assert fit.rotation_variance > 0.0


def test_no_fit_before_the_rover_has_moved():
    init = HeadingInitializer((0.0, 0.0, 0.0), min_distance=8.0)
    for _ in range(50):
        init.advance(0.0, 0.0, 0.1)
        init.add_fix(np.array([1.0, 2.0]), 6.25)
    assert init.fit() is None
    assert init.span() == 0.0
