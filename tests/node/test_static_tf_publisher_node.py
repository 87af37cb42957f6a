"""static_tf_publisher publishes a URDF's fixed joints latched on tf_static and the URDF on
robot_description; a TransformListener in another node resolves them."""
import math

import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_msgs.msg import String

from rover_stack.common.qos import latched_qos
from rover_stack.testing.waiting import spin_until
from rover_stack.tf.buffer import TransformBuffer
from rover_stack.tf.listener import StaticTransformBroadcaster, TransformListener
from rover_stack.tf.static_tf_publisher_node import StaticTfPublisherNode, main
from rover_stack.tf.transform import Transform

URDF = """<robot name="mini">
  <link name="base_footprint"/><link name="base_link"/><link name="camera_link"/>
  <link name="camera_optical_frame"/><link name="wheel_left"/>
  <joint name="footprint_joint" type="fixed">
    <parent link="base_footprint"/><child link="base_link"/><origin xyz="0 0 0.15"/>
  </joint>
  <joint name="camera_joint" type="fixed">
    <parent link="base_link"/><child link="camera_link"/><origin xyz="0.45 -0.05 0.4" rpy="0 0.15 0.1"/>
  </joint>
  <joint name="camera_optical_joint" type="fixed">
    <parent link="camera_link"/><child link="camera_optical_frame"/>
    <origin rpy="-1.5707963267948966 0 -1.5707963267948966"/>
  </joint>
  <joint name="wheel_left_joint" type="continuous">
    <parent link="base_link"/><child link="wheel_left"/><origin xyz="0 0.3 0"/><axis xyz="0 1 0"/>
  </joint>
</robot>"""
TIMEOUT = 10.0


@pytest.fixture
def executor(ros_context):
    executor = SingleThreadedExecutor(context=ros_context)
    nodes = []

    def add(node):
        nodes.append(node)
        executor.add_node(node)
        return node

    executor.add = add
    yield executor
    executor.shutdown()
    for node in nodes:
        node.destroy_node()


def listener_node(ros_context, executor, name='tf_listener_test'):
    node = executor.add(rclpy.create_node(name, context=ros_context))
    buffer = TransformBuffer()
    return node, TransformListener(node, buffer), buffer


def publisher_with(ros_context, **params):
    overrides = [Parameter(name, value=value) for name, value in params.items()]
    return StaticTfPublisherNode(context=ros_context, parameter_overrides=overrides)


def test_listener_resolves_the_fixed_joints_of_an_inline_urdf(ros_context, executor):
    executor.add(publisher_with(ros_context, robot_description=URDF))
    _, _, buffer = listener_node(ros_context, executor)   # joins after the publisher sent: latched
    spin_until(executor, lambda: buffer.can_transform('base_link', 'camera_link'), TIMEOUT,
               'base_link -> camera_link on tf_static')
    camera = buffer.lookup('base_link', 'camera_link')
    np.testing.assert_allclose(camera.translation, [0.45, -0.05, 0.4], atol=1e-12)
    np.testing.assert_allclose(camera.rpy(), [0.0, 0.15, 0.1], atol=1e-12)
    spin_until(executor, lambda: buffer.can_transform('base_footprint', 'camera_optical_frame'), TIMEOUT,
               'the whole fixed chain')
    # the optical frame's z (forward) is the camera's x; seen from base_footprint it points ahead
    optical = buffer.lookup('base_footprint', 'camera_optical_frame')
    np.testing.assert_allclose(optical.translation, [0.45, -0.05, 0.55], atol=1e-12)
    forward = optical.apply([0.0, 0.0, 1.0]) - optical.translation
    expected = Transform.from_xyz_rpy(rpy=(0.0, 0.15, 0.1)).apply([1.0, 0.0, 0.0])
    np.testing.assert_allclose(forward, expected, atol=1e-12)
    # movable joints are not static transforms
    assert 'wheel_left' not in buffer.frames()
    assert buffer.all_frames_as_dict()['camera_link']['static'] is True


def test_robot_description_is_published_latched(ros_context, executor):
    executor.add(publisher_with(ros_context, robot_description=URDF))
    received = []
    node = executor.add(rclpy.create_node('description_listener', context=ros_context))
    node.create_subscription(String, 'robot_description', received.append, latched_qos())
    spin_until(executor, lambda: received, TIMEOUT, 'robot_description')
    assert received[0].data == URDF


def test_description_can_come_from_a_file(ros_context, executor, tmp_path):
    path = tmp_path / 'mini.urdf'
    path.write_text(URDF, encoding='utf-8')
    executor.add(publisher_with(ros_context, robot_description_file=str(path)))
    _, _, buffer = listener_node(ros_context, executor)
    spin_until(executor, lambda: buffer.can_transform('base_footprint', 'base_link'), TIMEOUT,
               'base_footprint -> base_link from the file')
    np.testing.assert_allclose(buffer.lookup('base_footprint', 'base_link').translation, [0, 0, 0.15])


def test_description_can_come_from_the_robot_config(ros_context, executor):
    executor.add(publisher_with(ros_context, robot_config='corner6'))
    _, _, buffer = listener_node(ros_context, executor)
    spin_until(executor, lambda: buffer.can_transform('base_link', 'gnss_link'), TIMEOUT,
               'base_link -> gnss_link from config/robot/corner6.yaml')
    # config/robot/corner6.yaml: gnss xyz [-0.35, 0.15, 0.60]
    np.testing.assert_allclose(buffer.lookup('base_link', 'gnss_link').translation, [-0.35, 0.15, 0.60])


@pytest.mark.parametrize(('params', 'message'), [
    ({}, 'set parameter robot_description'),
    ({'robot_config': 'tricycle'}, "cannot expand robot_config 'tricycle'"),
    ({'robot_description_file': '/nonexistent/rover.urdf'}, "cannot read robot_description_file"),
    ({'robot_description': '<robot name="r"><link name="a"/>'}, 'malformed robot description: .*XML'),
    ({'robot_description': '<robot name="r"/>'}, 'malformed robot description: the URDF has no <link>'),
])
def test_missing_or_malformed_description_refuses_to_start(ros_context, params, message):
    with pytest.raises(ValueError, match=message):
        publisher_with(ros_context, **params)


def test_main_exits_with_an_error_code_when_the_description_is_missing():
    assert main(['--ros-args', '-p', 'robot_description_file:=/nonexistent/rover.urdf']) == 1


def test_static_broadcaster_republishes_the_union_of_everything_sent(ros_context, executor):
    node = executor.add(rclpy.create_node('static_broadcaster_test', context=ros_context))
    broadcaster = StaticTransformBroadcaster(node)
    broadcaster.send_transform('base_link', 'imu_link', 0, Transform((0, 0, 0.1)))
    broadcaster.send_transform('base_link', 'gnss_link', 0, Transform((-0.3, 0, 0.6)))
    broadcaster.send_transform('base_link', 'imu_link', 0, Transform((0, 0, 0.2)))   # replaces
    assert [m.child_frame_id for m in broadcaster.transforms] == ['imu_link', 'gnss_link']
    _, listener, buffer = listener_node(ros_context, executor)   # late joiner: gets the last message only
    spin_until(executor, lambda: {'imu_link', 'gnss_link'} <= set(buffer.frames()), TIMEOUT,
               'both static transforms')
    assert buffer.lookup('base_link', 'imu_link').translation[2] == pytest.approx(0.2)
    assert buffer.lookup('base_link', 'gnss_link').translation[0] == pytest.approx(-0.3)
    assert listener.dropped == 0
    assert math.isclose(buffer.lookup('imu_link', 'gnss_link').translation[2], 0.4)
