"""Procedural heightfield: determinism, roughness level, layout (row = y), bilinear lookup, slopes."""
import math

import numpy as np
import pytest

from rover_stack.sim.terrain import Heightfield, Hill, TerrainSpec


def rough(seed=3, roughness=0.05, **kw):
    spec = dict(size_x=100.0, size_y=80.0, resolution=128, max_height=5.0, roughness=roughness, seed=seed)
    spec.update(kw)
    return Heightfield.from_spec(TerrainSpec(**spec))


def test_same_seed_same_terrain_other_seed_other_terrain():
    assert np.array_equal(rough(seed=3).heights, rough(seed=3).heights)
    assert not np.allclose(rough(seed=3).heights, rough(seed=4).heights)


@pytest.mark.parametrize('roughness', [0.01, 0.05, 0.2])
def test_roughness_is_the_rms_of_the_noise(roughness):
    field = rough(roughness=roughness)
    assert float(np.std(field.heights)) == pytest.approx(roughness, rel=0.02)
    assert field.heights.min() == 0.0


def test_flat_terrain_is_zero_and_level():
    field = rough(roughness=0.0)
    assert not field.heights.any()
    assert field.max_slope() == 0.0
    assert field.normal_at(3.0, -7.0) == pytest.approx([0.0, 0.0, 1.0])


def test_heights_stay_within_zero_and_max_height():
    field = rough(roughness=0.05, max_height=1.0, hills=(Hill(0.0, 0.0, 20.0, 3.0), Hill(20.0, 0.0, 10.0, -1.0)))
    assert field.heights.min() >= 0.0
    assert field.heights.max() == pytest.approx(1.0)   # the hill is clipped at max_height


def test_rows_are_y_and_columns_are_x():
    field = rough(roughness=0.0, hills=(Hill(30.0, -20.0, 10.0, 2.0),))
    assert field.heights.shape == (128, 128)
    row, col = np.unravel_index(np.argmax(field.heights), field.heights.shape)
    assert float(field.x_of(col)) == pytest.approx(30.0, abs=field.dx)
    assert float(field.y_of(row)) == pytest.approx(-20.0, abs=field.dy)
    assert field.height_at(30.0, -20.0) == pytest.approx(2.0, abs=0.01)
    assert field.height_at(-20.0, 30.0) < 0.01


def test_bilinear_lookup_is_exact_at_nodes_and_linear_between():
    field = rough()
    rng = np.random.default_rng(0)
    for row, col in zip(rng.integers(0, 128, 20), rng.integers(0, 128, 20), strict=True):
        assert field.height_at(float(field.x_of(col)), float(field.y_of(row))) == pytest.approx(
            field.heights[row, col], abs=1e-12)
    x0, y0 = float(field.x_of(40)), float(field.y_of(50))
    midpoint = field.height_at(x0 + field.dx / 2, y0)
    assert midpoint == pytest.approx((field.heights[50, 40] + field.heights[50, 41]) / 2)
    xs, ys = np.array([x0, x0 + 1.0]), np.array([y0, y0])
    assert field.height_at(xs, ys) == pytest.approx([field.height_at(x0, y0), field.height_at(x0 + 1.0, y0)])


def test_outside_the_terrain_the_edge_height_is_used():
    field = rough()
    assert field.height_at(500.0, 0.0) == pytest.approx(field.height_at(50.0, 0.0), abs=1e-12)
    assert field.height_at(-50.0, -40.0) == field.heights[0, 0]


def test_slope_of_a_gaussian_hill_matches_the_analytic_value():
    height, radius = 3.0, 20.0
    field = Heightfield.from_spec(TerrainSpec(200.0, 200.0, 256, 5.0, 0.0, 0, (Hill(0.0, 0.0, radius, height),)))
    sigma = radius / 2
    analytic = math.atan(height / sigma * math.exp(-0.5))      # steepest at r = sigma
    assert field.max_slope() == pytest.approx(analytic, rel=0.05)
    assert field.slope_at(sigma, 0.0) == pytest.approx(analytic, rel=0.05)
    # The flank east of the summit tilts east: the normal leans +x, still mostly up.
    normal = field.normal_at(sigma, 0.0)
    assert normal[0] > 0.1 and abs(normal[1]) < 0.01 and normal[2] > 0.8
    assert np.linalg.norm(normal) == pytest.approx(1.0)


def test_rough_ground_is_drivable():
    assert math.degrees(rough(roughness=0.03).max_slope()) < 15.0


def test_invalid_array_is_rejected():
    with pytest.raises(ValueError, match='2-D'):
        Heightfield(np.zeros(5), 10.0, 10.0, 1.0)
