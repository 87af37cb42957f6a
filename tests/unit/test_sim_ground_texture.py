"""The simulated ground's regolith texture: deterministic, tileable, sand-coloured and busy."""
import numpy as np
import pytest

from rover_stack.sim.ground_texture import SAND_RGB, regolith_texture


def test_same_seed_same_texture_and_another_seed_another():
    a, b, c = regolith_texture(128, seed=3), regolith_texture(128, seed=3), regolith_texture(128, seed=4)
    assert a.shape == (128, 128, 3) and a.dtype == np.uint8 and a.flags['C_CONTIGUOUS']
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_it_tiles_without_a_seam():
    texture = regolith_texture(256, seed=0).astype(float)
    inner = np.abs(np.diff(texture, axis=1)).mean()            # neighbouring columns inside the image
    across = np.abs(texture[:, 0] - texture[:, -1]).mean()     # last column -> first column of the next tile
    down = np.abs(texture[0] - texture[-1]).mean()
    assert across < 1.5 * inner and down < 1.5 * inner, (inner, across, down)


def test_sand_coloured_with_pebbles_and_shade():
    texture = regolith_texture(512, seed=0).astype(float)
    assert np.allclose(texture.reshape(-1, 3).mean(axis=0), SAND_RGB, rtol=0.08)
    grey = texture.mean(axis=2)
    assert grey.std() > 10.0                                   # not a flat colour: detectors see texture
    assert (grey < 0.75 * np.mean(SAND_RGB)).mean() > 0.01     # dark pebbles
    assert (grey > 1.15 * np.mean(SAND_RGB)).mean() > 0.005    # light pebbles


def test_too_small_a_texture_is_refused():
    with pytest.raises(ValueError, match='at least 16'):
        regolith_texture(8)
