"""TransformBuffer: tree walks, time interpolation, static/dynamic edges, cache expiry, errors."""
import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.tf.buffer import (
    ExtrapolationError,
    FrameNotFoundError,
    FutureExtrapolationError,
    NotConnectedError,
    PastExtrapolationError,
    ReparentError,
    TransformBuffer,
    TransformLookupError,
)
from rover_stack.tf.transform import Transform

S = 1_000_000_000  # ns per s

MAP_ODOM = Transform.from_xyz_rpy((10.0, -5.0, 0.0), (0.0, 0.0, math.pi / 2))
BASE_CAMERA = Transform.from_xyz_rpy((0.3, 0.0, 0.5), (0.0, 0.2, 0.0))
CAMERA_OPTICAL = Transform.from_xyz_rpy((0.0, 0.0, 0.0), (-math.pi / 2, 0.0, -math.pi / 2))
BASE_IMU = Transform.from_xyz_rpy((-0.1, 0.05, 0.2), (math.pi, 0.0, 0.0))
ODOM_BASE_1S = Transform.from_xyz_rpy((1.0, 0.0, 0.0), (0.0, 0.0, 0.0))
ODOM_BASE_3S = Transform.from_xyz_rpy((3.0, 2.0, 0.0), (0.0, 0.0, math.pi / 2))


@pytest.fixture
def rover():
    """map -> odom (static), odom -> base_link (dynamic, samples at 1 s and 3 s),
    base_link -> camera_link -> camera_optical and base_link -> imu_link (static)."""
    buffer = TransformBuffer()
    buffer.set_transform('map', 'odom', 0, MAP_ODOM, static=True)
    buffer.set_transform('odom', 'base_link', 1 * S, ODOM_BASE_1S)
    buffer.set_transform('odom', 'base_link', 3 * S, ODOM_BASE_3S)
    buffer.set_transform('base_link', 'camera_link', 0, BASE_CAMERA, static=True)
    buffer.set_transform('camera_link', 'camera_optical', 0, CAMERA_OPTICAL, static=True)
    buffer.set_transform('base_link', 'imu_link', 0, BASE_IMU, static=True)
    return buffer


def close(a, b, tolerance=1e-9):
    return a.is_close(b, tolerance)


# ---------------------------------------------------------------- tree walks

def test_lookup_down_the_tree_composes_the_chain(rover):
    assert close(rover.lookup('base_link', 'camera_optical'), BASE_CAMERA @ CAMERA_OPTICAL)


def test_lookup_up_the_tree_is_the_inverse(rover):
    assert close(rover.lookup('camera_optical', 'base_link'), (BASE_CAMERA @ CAMERA_OPTICAL).inverse())


def test_lookup_across_branches_goes_up_then_down(rover):
    expected = BASE_IMU.inverse() @ BASE_CAMERA @ CAMERA_OPTICAL
    assert close(rover.lookup('imu_link', 'camera_optical'), expected)


def test_lookup_through_static_and_dynamic_edges(rover):
    expected = MAP_ODOM @ ODOM_BASE_3S @ BASE_CAMERA
    assert close(rover.lookup('map', 'camera_link', 3 * S), expected)
    assert close(rover.lookup('camera_link', 'map', 3 * S), expected.inverse())


def test_lookup_result_maps_points_from_source_into_target(rover):
    # a point 1 m in front of base_link at t=3 s: base_link is at (3, 2) in odom facing +y
    p_odom = rover.lookup('odom', 'base_link', 3 * S).apply([1.0, 0.0, 0.0])
    np.testing.assert_allclose(p_odom, [3.0, 3.0, 0.0], atol=1e-12)


def test_same_frame_is_identity_at_any_time(rover):
    assert rover.lookup('imu_link', 'imu_link', 123 * S) == Transform.identity()


# ---------------------------------------------------------------- time

def test_interpolation_at_sample_times_is_exact(rover):
    assert close(rover.lookup('odom', 'base_link', 1 * S), ODOM_BASE_1S)
    assert close(rover.lookup('odom', 'base_link', 3 * S), ODOM_BASE_3S)


def test_interpolation_at_midpoint_is_linear_and_slerped(rover):
    mid = rover.lookup('odom', 'base_link', 2 * S)
    np.testing.assert_allclose(mid.translation, [2.0, 1.0, 0.0], atol=1e-12)
    assert mid.rpy()[2] == pytest.approx(math.pi / 4)
    quarter = rover.lookup('odom', 'base_link', 1 * S + S // 2)
    np.testing.assert_allclose(quarter.translation, [1.5, 0.5, 0.0], atol=1e-12)
    assert quarter.rpy()[2] == pytest.approx(math.pi / 8)


def test_interpolation_between_unevenly_spaced_samples():
    buffer = TransformBuffer()
    buffer.set_transform('a', 'b', 0, Transform((0, 0, 0)))
    buffer.set_transform('a', 'b', 1 * S, Transform((1, 0, 0)))
    buffer.set_transform('a', 'b', 5 * S, Transform((9, 0, 0)))
    assert buffer.lookup('a', 'b', 3 * S).translation[0] == pytest.approx(5.0)
    assert buffer.lookup('a', 'b', S // 2).translation[0] == pytest.approx(0.5)


def test_latest_uses_the_newest_time_common_to_every_dynamic_edge(rover):
    rover.set_transform('base_link', 'arm', 2 * S, Transform((0, 0, 1)))
    rover.set_transform('base_link', 'arm', 2 * S + S // 2, Transform((0, 0, 2)))
    transform, stamp = rover.lookup_with_stamp('odom', 'arm')
    assert stamp == 2 * S + S // 2     # arm ends before base_link does
    base = rover.lookup('odom', 'base_link', stamp)
    assert close(transform, base @ Transform((0, 0, 2)))
    assert rover.lookup_with_stamp('odom', 'base_link')[1] == 3 * S


def test_static_only_path_is_valid_at_every_time(rover):
    _, stamp = rover.lookup_with_stamp('base_link', 'camera_optical')
    assert stamp == 0
    for t in (1, 5 * S, 10**18):
        assert close(rover.lookup('base_link', 'camera_optical', t), BASE_CAMERA @ CAMERA_OPTICAL)


def test_a_static_transform_given_again_replaces_the_old_one(rover):
    moved = Transform((0.4, 0.0, 0.5))
    rover.set_transform('base_link', 'camera_link', 7 * S, moved, static=True)
    assert close(rover.lookup('base_link', 'camera_link', 1 * S), moved)


def test_a_sample_at_a_stored_stamp_replaces_it(rover):
    rover.set_transform('odom', 'base_link', 3 * S, Transform((7, 0, 0)))
    assert rover.lookup('odom', 'base_link', 3 * S).translation[0] == 7.0
    assert rover.all_frames_as_dict()['base_link']['samples'] == 2


def test_samples_may_arrive_out_of_order():
    buffer = TransformBuffer()
    for t in (3, 1, 2):
        buffer.set_transform('a', 'b', t * S, Transform((t, 0, 0)))
    assert buffer.lookup('a', 'b', S + S // 2).translation[0] == pytest.approx(1.5)


# ---------------------------------------------------------------- cache

def test_samples_older_than_the_cache_duration_are_forgotten():
    buffer = TransformBuffer(cache_duration_s=10.0)
    for t in range(21):
        buffer.set_transform('odom', 'base_link', t * S, Transform((t, 0, 0)))
    info = buffer.all_frames_as_dict()['base_link']
    assert (info['oldest_s'], info['newest_s'], info['samples']) == (10.0, 20.0, 11)
    assert buffer.lookup('odom', 'base_link', 10 * S).translation[0] == 10.0
    with pytest.raises(PastExtrapolationError):
        buffer.lookup('odom', 'base_link', 9 * S)


def test_a_sample_older_than_the_cache_window_is_not_stored():
    buffer = TransformBuffer(cache_duration_s=2.0)
    buffer.set_transform('a', 'b', 10 * S, Transform())
    assert buffer.set_transform('a', 'b', 7 * S, Transform()) is False
    assert buffer.set_transform('a', 'b', 8 * S, Transform()) is True
    assert buffer.all_frames_as_dict()['b']['samples'] == 2


def test_static_edges_never_expire():
    buffer = TransformBuffer(cache_duration_s=1.0)
    buffer.set_transform('base_link', 'camera_link', 0, BASE_CAMERA, static=True)
    buffer.set_transform('odom', 'base_link', 0, Transform())
    buffer.set_transform('odom', 'base_link', 100 * S, Transform())
    assert close(buffer.lookup('odom', 'camera_link', 100 * S), BASE_CAMERA)


@pytest.mark.parametrize('duration', [0.0, -1.0, math.nan, math.inf])
def test_cache_duration_must_be_positive_and_finite(duration):
    with pytest.raises(ValueError, match='cache_duration_s'):
        TransformBuffer(cache_duration_s=duration)


# ---------------------------------------------------------------- lookup errors

def test_unknown_frame_names_it_and_lists_known_frames(rover):
    with pytest.raises(FrameNotFoundError) as caught:
        rover.lookup('map', 'lidar_link')
    assert str(caught.value) == ("frame 'lidar_link' does not exist; known frames: base_link, camera_link, "
                                 "camera_optical, imu_link, map, odom")
    assert isinstance(caught.value, LookupError)
    with pytest.raises(FrameNotFoundError, match="frame 'nowhere' does not exist; known frames: "):
        rover.lookup('nowhere', 'map')


def test_unknown_frame_in_an_empty_buffer():
    with pytest.raises(FrameNotFoundError, match=r"frame 'a' does not exist; known frames: \(none\)"):
        TransformBuffer().lookup('a', 'a')


def test_frames_in_different_trees_are_not_connected(rover):
    rover.set_transform('earth', 'utm', 0, Transform(), static=True)
    with pytest.raises(NotConnectedError) as caught:
        rover.lookup('utm', 'camera_link')
    assert str(caught.value) == ("frames 'utm' and 'camera_link' are not connected: 'utm' is in the tree "
                                 "rooted at 'earth', 'camera_link' in the tree rooted at 'map'")
    assert isinstance(caught.value, TransformLookupError)


def test_extrapolation_into_the_past_states_time_and_range(rover):
    with pytest.raises(PastExtrapolationError) as caught:
        rover.lookup('map', 'camera_link', S // 2)
    assert str(caught.value) == (
        "lookup 'camera_link' -> 'map' at t=0.500000000 s would extrapolate into the past: "
        "edge 'odom' -> 'base_link' has data from 1.000000000 s to 3.000000000 s")
    error = caught.value
    assert (error.requested_ns, error.oldest_ns, error.newest_ns) == (S // 2, S, 3 * S)
    assert isinstance(error, ExtrapolationError)
    assert isinstance(error, LookupError)


def test_extrapolation_into_the_future_states_time_and_range(rover):
    with pytest.raises(FutureExtrapolationError) as caught:
        rover.lookup('base_link', 'odom', 3 * S + 1)
    assert str(caught.value) == (
        "lookup 'odom' -> 'base_link' at t=3.000000001 s would extrapolate into the future: "
        "edge 'odom' -> 'base_link' has data from 1.000000000 s to 3.000000000 s")


def test_a_single_sample_answers_only_its_own_time_and_latest():
    buffer = TransformBuffer()
    buffer.set_transform('a', 'b', 5 * S, Transform((1, 0, 0)))
    assert buffer.lookup_with_stamp('a', 'b') == (Transform((1, 0, 0)), 5 * S)
    assert buffer.lookup('a', 'b', 5 * S) == Transform((1, 0, 0))
    with pytest.raises(FutureExtrapolationError):
        buffer.lookup('a', 'b', 6 * S)


def test_can_transform_mirrors_lookup(rover):
    assert rover.can_transform('map', 'camera_optical')
    assert rover.can_transform('map', 'camera_optical', 2 * S)
    assert not rover.can_transform('map', 'camera_optical', 4 * S)
    assert not rover.can_transform('map', 'lidar_link')
    rover.set_transform('earth', 'utm', 0, Transform(), static=True)
    assert not rover.can_transform('map', 'utm')


# ---------------------------------------------------------------- storing errors

def test_reparenting_a_frame_is_refused(rover):
    with pytest.raises(ReparentError, match="frame 'base_link' already has parent 'odom'; refusing to "
                                            "re-parent it to 'map'"):
        rover.set_transform('map', 'base_link', 2 * S, Transform())
    assert rover.parent_of('base_link') == 'odom'


def test_an_edge_closing_a_loop_is_refused(rover):
    with pytest.raises(ReparentError,
                       match="would close a loop: 'map' is already an ancestor of 'camera_link'"):
        rover.set_transform('camera_link', 'map', 0, Transform(), static=True)


def test_an_edge_cannot_switch_between_static_and_dynamic(rover):
    with pytest.raises(ReparentError, match="'base_link' -> 'camera_link' is static; it cannot also be "
                                            'published as dynamic'):
        rover.set_transform('base_link', 'camera_link', 1 * S, BASE_CAMERA)
    with pytest.raises(ReparentError, match='is dynamic; it cannot also be published as static'):
        rover.set_transform('odom', 'base_link', 1 * S, ODOM_BASE_1S, static=True)


@pytest.mark.parametrize(('parent', 'child', 'stamp', 'message'), [
    ('', 'b', 0, 'must be a non-empty string'),
    ('a', '/b', 0, "must not start with '/'"),
    ('a', ' b', 0, 'whitespace'),
    ('a', 'a', 0, "frame 'a' cannot be its own parent"),
    ('a', 'b', -1, 'non-negative integer'),
    ('a', 'b', 1.5, 'non-negative integer'),
    ('a', 'b', True, 'non-negative integer'),
])
def test_bad_frames_and_stamps_are_refused(parent, child, stamp, message):
    buffer = TransformBuffer()
    with pytest.raises(ValueError, match=message):
        buffer.set_transform(parent, child, stamp, Transform())
    assert buffer.frames() == []


def test_only_transforms_are_stored():
    with pytest.raises(TypeError, match='must be a Transform'):
        TransformBuffer().set_transform('a', 'b', 0, ((0, 0, 0), (0, 0, 0, 1)))


# ---------------------------------------------------------------- inspecting

def test_yaml_dump_describes_every_edge(rover):
    dump = yaml.safe_load(rover.all_frames_as_yaml())
    assert dump['base_link'] == {'parent': 'odom', 'static': False, 'samples': 2,
                                 'oldest_s': 1.0, 'newest_s': 3.0}
    assert dump['camera_optical']['parent'] == 'camera_link'
    assert dump['camera_optical']['static'] is True
    assert set(dump) == {'odom', 'base_link', 'camera_link', 'camera_optical', 'imu_link'}
    assert yaml.safe_load(TransformBuffer().all_frames_as_yaml()) == {}


def test_clear_forgets_everything(rover):
    rover.clear()
    assert rover.frames() == []
    assert rover.parent_of('base_link') is None


# ---------------------------------------------------------------- property: random trees

coordinate = st.floats(-10.0, 10.0, allow_nan=False)
angle = st.floats(-math.pi, math.pi, allow_nan=False)
random_transforms = st.builds(Transform.from_xyz_rpy, st.tuples(coordinate, coordinate, coordinate),
                              st.tuples(angle, angle, angle))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100), random_transforms), min_size=2, max_size=8),
       st.data())
def test_lookups_in_a_random_tree_chain_and_invert(edges, data):
    buffer = TransformBuffer()
    for i, (parent_choice, transform) in enumerate(edges, start=1):   # frame i gets a parent < i
        buffer.set_transform(f'f{parent_choice % i}', f'f{i}', 0, transform, static=True)
    frames = buffer.frames()
    a, b, c = (data.draw(st.sampled_from(frames)) for _ in range(3))
    assert (buffer.lookup(a, b) @ buffer.lookup(b, c)).is_close(buffer.lookup(a, c), 1e-7)
    assert buffer.lookup(a, b).is_close(buffer.lookup(b, a).inverse(), 1e-7)
