"""TransformBroadcaster -> tf -> TransformListener -> TransformBuffer: dynamic transforms, time
interpolation, and invalid transforms dropped and counted."""
import math

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import TransformStamped
from rclpy.executors import SingleThreadedExecutor

from rover_stack.testing.waiting import spin_until
from rover_stack.tf.buffer import FutureExtrapolationError, TransformBuffer
from rover_stack.tf.listener import TF_TOPIC, TransformBroadcaster, TransformListener, tf_qos
from rover_stack.tf.ros_conversions import to_msg
from rover_stack.tf.transform import Transform
from tf2_msgs.msg import TFMessage

S = 1_000_000_000
TIMEOUT = 10.0


@pytest.fixture
def setup(ros_context):
    executor = SingleThreadedExecutor(context=ros_context)
    talker = rclpy.create_node('tf_talker_test', context=ros_context)
    listener_node = rclpy.create_node('tf_listener_test', context=ros_context)
    buffer = TransformBuffer()
    listener = TransformListener(listener_node, buffer)
    for node in (talker, listener_node):
        executor.add_node(node)
    # wait until the talker's tf publisher sees the listener, so volatile messages are not lost
    probe = talker.create_publisher(TFMessage, TF_TOPIC, tf_qos())
    spin_until(executor, lambda: probe.get_subscription_count() >= 1, TIMEOUT, 'tf subscriber matched')
    yield executor, talker, listener, buffer, probe
    listener.destroy()
    executor.shutdown()
    talker.destroy_node()
    listener_node.destroy_node()


def test_dynamic_transforms_interpolate_between_stamps(setup):
    executor, talker, _, buffer, _ = setup
    broadcaster = TransformBroadcaster(talker)
    spin_until(executor, lambda: broadcaster.subscription_count() >= 1, TIMEOUT, 'broadcaster matched')
    first = Transform.from_xyz_rpy((1.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    second = Transform.from_xyz_rpy((3.0, 2.0, 0.0), (0.0, 0.0, math.pi / 2))
    broadcaster.send_transform('odom', 'base_link', 10 * S, first)
    broadcaster.send([to_msg('odom', 'base_link', 12 * S, second)])
    spin_until(executor, lambda: buffer.can_transform('odom', 'base_link', 12 * S), TIMEOUT,
               'odom -> base_link at 12 s')
    middle = buffer.lookup('odom', 'base_link', 11 * S)
    np.testing.assert_allclose(middle.translation, [2.0, 1.0, 0.0], atol=1e-12)
    assert middle.rpy()[2] == pytest.approx(math.pi / 4)
    assert buffer.lookup_with_stamp('odom', 'base_link')[1] == 12 * S
    with pytest.raises(FutureExtrapolationError, match=r't=12\.500000000 s'):
        buffer.lookup('odom', 'base_link', 12 * S + S // 2)


def test_invalid_transforms_are_dropped_and_counted_the_rest_stored(setup):
    executor, _, listener, buffer, probe = setup
    nan_translation = to_msg('odom', 'base_link', 1 * S, Transform())
    nan_translation.transform.translation.x = math.nan
    bad_quaternion = to_msg('odom', 'base_link', 2 * S, Transform())
    bad_quaternion.transform.rotation.w = 2.0
    no_parent = TransformStamped(child_frame_id='imu_link')
    good = to_msg('odom', 'base_link', 3 * S, Transform((4.0, 0.0, 0.0)))
    reparent = to_msg('map', 'base_link', 3 * S, Transform())
    probe.publish(TFMessage(transforms=[nan_translation, bad_quaternion, no_parent, good, reparent]))
    spin_until(executor, lambda: listener.received == 5, TIMEOUT, 'the five transforms')
    assert listener.dropped == 4
    assert buffer.frames() == ['base_link', 'odom']
    assert buffer.lookup('odom', 'base_link').translation[0] == 4.0


def test_broadcaster_refuses_invalid_transforms_before_publishing(setup):
    _, talker, _, _, _ = setup
    broadcaster = TransformBroadcaster(talker)
    bad = to_msg('odom', 'base_link', 0, Transform())
    bad.transform.rotation.x = math.inf
    with pytest.raises(ValueError, match="invalid transform 'odom' -> 'base_link'"):
        broadcaster.send([to_msg('odom', 'a', 0, Transform()), bad])
