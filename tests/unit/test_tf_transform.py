"""Rigid transform algebra: composition, inverse, application, rpy, interpolation, validation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.tf.transform import (
    Transform,
    normalized_quaternion,
    quaternion_from_axis_angle,
    quaternion_from_rpy,
    rpy_from_quaternion,
    slerp,
)

SETTINGS = settings(derandomize=True, max_examples=150, deadline=None)
coordinate = st.floats(-50.0, 50.0, allow_nan=False)
translations = st.tuples(coordinate, coordinate, coordinate)
quaternions = (st.tuples(*[st.floats(-1.0, 1.0, allow_nan=False)] * 4)
               .filter(lambda q: np.linalg.norm(q) > 0.1)
               .map(lambda q: np.asarray(q) / np.linalg.norm(q)))
transforms = st.builds(Transform, translations, quaternions)
points = st.lists(translations, min_size=1, max_size=5).map(np.array)


def yaw(angle):
    return Transform(rotation=quaternion_from_rpy(0.0, 0.0, angle))


@SETTINGS
@given(transforms, transforms, transforms)
def test_composition_is_associative(a, b, c):
    assert ((a @ b) @ c).is_close(a @ (b @ c), 1e-8)


@SETTINGS
@given(transforms)
def test_inverse_composes_to_identity_both_ways(a):
    assert (a @ a.inverse()).is_close(Transform.identity(), 1e-9)
    assert (a.inverse() @ a).is_close(Transform.identity(), 1e-9)
    assert a.inverse().inverse().is_close(a, 1e-9)


@SETTINGS
@given(transforms, transforms, points)
def test_applying_a_composition_equals_applying_in_turn(a, b, p):
    np.testing.assert_allclose((a @ b).apply(p), a.apply(b.apply(p)), atol=1e-8)


@SETTINGS
@given(transforms, points)
def test_apply_matches_the_homogeneous_matrix_and_inverse_undoes_it(a, p):
    homogeneous = np.hstack([p, np.ones((len(p), 1))])
    np.testing.assert_allclose(a.apply(p), (homogeneous @ a.as_matrix().T)[:, :3], atol=1e-9)
    np.testing.assert_allclose(a.inverse().apply(a.apply(p)), p, atol=1e-8)
    assert Transform.from_matrix(a.as_matrix()).is_close(a, 1e-9)


@SETTINGS
@given(st.floats(-3.1, 3.1), st.floats(-1.5, 1.5), st.floats(-3.1, 3.1))
def test_rpy_round_trip_away_from_gimbal_lock(roll, pitch, yaw_angle):
    t = Transform.from_xyz_rpy((0, 0, 0), (roll, pitch, yaw_angle))
    np.testing.assert_allclose(t.rpy(), (roll, pitch, yaw_angle), atol=1e-9)


def test_known_rotations_move_points_as_rep103_says():
    # yaw +90 deg turns x (forward) into y (left)
    np.testing.assert_allclose(yaw(math.pi / 2).apply([1.0, 0.0, 0.0]), [0.0, 1.0, 0.0], atol=1e-12)
    # pitch +90 deg turns x into -z
    pitch = Transform.from_xyz_rpy(rpy=(0.0, math.pi / 2, 0.0))
    np.testing.assert_allclose(pitch.apply([1.0, 0.0, 0.0]), [0.0, 0.0, -1.0], atol=1e-12)
    # translation is the child origin in the parent frame
    camera = Transform.from_xyz_rpy((0.2, 0.0, 0.3), (0.0, 0.0, math.pi))
    np.testing.assert_allclose(camera.apply([1.0, 0.0, 0.0]), [-0.8, 0.0, 0.3], atol=1e-12)


def test_rpy_is_fixed_axis_roll_then_pitch_then_yaw():
    roll, pitch, yaw_angle = 0.3, -0.4, 1.1
    composed = yaw(yaw_angle) @ Transform.from_xyz_rpy(rpy=(0, pitch, 0)) @ Transform.from_xyz_rpy(
        rpy=(roll, 0, 0))
    assert composed.is_close(Transform.from_xyz_rpy(rpy=(roll, pitch, yaw_angle)), 1e-12)


def test_gimbal_lock_pitch_is_recovered():
    q = quaternion_from_rpy(0.0, math.pi / 2, 0.0)
    assert rpy_from_quaternion(q)[1] == pytest.approx(math.pi / 2)


def test_interpolation_hits_endpoints_and_midpoint():
    a = Transform((0.0, 0.0, 0.0), quaternion_from_rpy(0, 0, 0.0))
    b = Transform((2.0, -4.0, 1.0), quaternion_from_rpy(0, 0, math.pi / 2))
    assert a.interpolate(b, 0.0).is_close(a, 1e-12)
    assert a.interpolate(b, 1.0).is_close(b, 1e-12)
    mid = a.interpolate(b, 0.5)
    np.testing.assert_allclose(mid.translation, [1.0, -2.0, 0.5])
    assert mid.rpy()[2] == pytest.approx(math.pi / 4)
    assert a.interpolate(b, 0.25).rpy()[2] == pytest.approx(math.pi / 8)


def test_slerp_takes_the_short_way_round():
    a = quaternion_from_rpy(0, 0, math.radians(170))
    b = quaternion_from_rpy(0, 0, math.radians(-170))
    mid = slerp(a, b, 0.5)
    assert abs(rpy_from_quaternion(mid)[2]) == pytest.approx(math.pi)


def test_slerp_of_nearly_equal_quaternions_is_unit_and_between():
    a = quaternion_from_rpy(0, 0, 0.0)
    b = quaternion_from_rpy(0, 0, 1e-6)
    mid = slerp(a, b, 0.5)
    assert np.linalg.norm(mid) == pytest.approx(1.0)
    assert rpy_from_quaternion(mid)[2] == pytest.approx(5e-7, abs=1e-12)


def test_axis_angle_matches_rpy_and_refuses_zero_axis():
    assert Transform(rotation=quaternion_from_axis_angle((0, 0, 2.0), 0.7)).is_close(yaw(0.7), 1e-12)
    with pytest.raises(ValueError, match='non-zero'):
        quaternion_from_axis_angle((0, 0, 0), 1.0)


def test_tuple_round_trip_gives_plain_floats():
    t = Transform((1, 2, 3), quaternion_from_rpy(0.1, 0.2, 0.3))
    value = t.as_tuple()
    assert all(type(v) is float for part in value for v in part)
    assert Transform.from_tuple(value) == t
    assert hash(Transform.from_tuple(value)) == hash(t)


def test_transforms_are_immutable():
    t = Transform((1, 2, 3))
    with pytest.raises(ValueError):
        t.translation[0] = 5.0
    with pytest.raises(AttributeError):
        t.foo = 1


def test_quaternion_close_to_unit_is_normalised_and_far_is_refused():
    q = normalized_quaternion((0.0, 0.0, 0.0, 1.0005))
    assert np.linalg.norm(q) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r'norm 1\.01'):
        Transform(rotation=(0.0, 0.0, 0.0, 1.01))
    with pytest.raises(ValueError, match='norm 0'):
        Transform(rotation=(0.0, 0.0, 0.0, 0.0))


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({'translation': (math.nan, 0, 0)}, 'translation .* not finite'),
    ({'translation': (0, math.inf, 0)}, 'translation .* not finite'),
    ({'translation': (0, 0)}, 'needs 3 values'),
    ({'rotation': (math.nan, 0, 0, 1)}, 'quaternion .* not finite'),
    ({'rotation': (0, 0, 1)}, 'needs 4 values'),
])
def test_invalid_values_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Transform(**kwargs)


def test_apply_refuses_wrong_shapes():
    with pytest.raises(ValueError, match=r'shape \(3,\) or \(N, 3\)'):
        Transform().apply([1.0, 2.0])
    with pytest.raises(ValueError, match='4x4'):
        Transform.from_matrix(np.eye(3))
