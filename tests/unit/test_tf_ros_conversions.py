"""TransformStamped <-> (parent, child, stamp_ns, Transform), and refusal of bad incoming data.
Uses message types only (no rclpy)."""
import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time

from rover_stack.tf.ros_conversions import from_msg, ns_to_stamp, stamp_to_ns, to_msg, to_tf_message
from rover_stack.tf.transform import Transform

CAMERA = Transform.from_xyz_rpy((0.45, -0.1, 0.3), (0.1, 0.2, 0.3))


def test_round_trip_keeps_frames_stamp_and_transform():
    msg = to_msg('base_link', 'camera_link', 12_500_000_001, CAMERA)
    assert msg.header.frame_id == 'base_link'
    assert msg.child_frame_id == 'camera_link'
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (12, 500_000_001)
    assert msg.transform.translation.x == 0.45
    parent, child, stamp_ns, transform = from_msg(msg)
    assert (parent, child, stamp_ns) == ('base_link', 'camera_link', 12_500_000_001)
    assert transform.is_close(CAMERA, 1e-15)


def test_tf_message_holds_every_transform():
    msg = to_tf_message([('a', 'b', 0, Transform()), ('b', 'c', 5, CAMERA)])
    assert [(t.header.frame_id, t.child_frame_id) for t in msg.transforms] == [('a', 'b'), ('b', 'c')]


def test_stamp_conversions():
    assert stamp_to_ns(Time(sec=3, nanosec=7)) == 3_000_000_007
    assert ns_to_stamp(3_000_000_007) == Time(sec=3, nanosec=7)
    with pytest.raises(ValueError, match='negative'):
        ns_to_stamp(-1)
    with pytest.raises(ValueError, match='negative'):
        stamp_to_ns(Time(sec=-1, nanosec=0))


def test_nearly_unit_quaternion_is_normalised():
    msg = to_msg('a', 'b', 0, Transform())
    msg.transform.rotation.w = 1.0009
    _, _, _, transform = from_msg(msg)
    assert np.linalg.norm(transform.rotation) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(transform.rotation, [0, 0, 0, 1])


def bad(field, value):
    msg = to_msg('odom', 'base_link', 0, Transform())
    if field == 'frame_id':
        msg.header.frame_id = value
    elif field == 'child_frame_id':
        msg.child_frame_id = value
    elif field == 'nanosec':
        msg.header.stamp.nanosec = value
    else:
        group, axis = field.split('.')
        setattr(getattr(msg.transform, group), axis, value)
    return msg


@pytest.mark.parametrize(('field', 'value', 'message'), [
    ('rotation.w', 1.002, 'norm 1.002'),
    ('rotation.w', 0.0, 'norm 0'),
    ('rotation.x', math.nan, 'quaternion .* not finite'),
    ('rotation.z', math.inf, 'quaternion .* not finite'),
    ('translation.x', math.nan, 'translation .* not finite'),
    ('translation.y', -math.inf, 'translation .* not finite'),
    ('frame_id', '', 'header.frame_id is empty'),
    ('child_frame_id', '', 'child_frame_id is empty'),
    ('frame_id', '/odom', "header.frame_id '/odom' starts with '/'"),
    ('child_frame_id', 'odom', 'header.frame_id equals child_frame_id'),
    ('nanosec', 1_000_000_000, r'nanosec=1000000000 is outside \[0, 1e9\)'),
])
def test_invalid_messages_are_refused_naming_the_edge(field, value, message):
    with pytest.raises(ValueError, match=message) as caught:
        from_msg(bad(field, value))
    assert str(caught.value).startswith('invalid transform ')
