"""gz_wheel_adapter node: contract commands in, one Float64 per Gazebo joint out, over DDS."""
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, Float64

from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.common.share_files import robot_config_path
from rover_stack.description.geometry import load_geometry
from rover_stack.gazebo.bridge_config import command_topic, load_bridge
from rover_stack.gazebo.gz_wheel_adapter_node import GzWheelAdapterNode
from rover_stack.testing.waiting import spin_until

GEOMETRY = load_geometry(robot_config_path('corner6'))
TIMEOUT = 0.3   # s


@pytest.fixture
def rig(ros_context):
    adapter = GzWheelAdapterNode(context=ros_context, parameter_overrides=[
        Parameter('robot_config', value='corner6'), Parameter('command_timeout', value=TIMEOUT)])
    probe = rclpy.create_node('adapter_probe', context=ros_context)
    latest, estop = {}, []
    for joint in GEOMETRY.wheel_joints + GEOMETRY.steering_joints:
        topic = command_topic(joint, joint in GEOMETRY.steering_joints)
        probe.create_subscription(Float64, topic, lambda m, j=joint: latest.__setitem__(j, m.data), command_qos())
    probe.create_subscription(Bool, 'hardware_estop', estop.append, latched_qos())
    wheels = probe.create_publisher(JointState, 'wheel_commands', command_qos())
    steering = probe.create_publisher(JointState, 'steering_commands', command_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(adapter)
    executor.add_node(probe)
    spin_until(executor, lambda: adapter.count_publishers('wheel_commands') > 0
               and adapter.count_publishers('steering_commands') > 0, 5.0, 'discovery')
    yield executor, latest, estop, wheels, steering
    executor.shutdown()
    probe.destroy_node()
    adapter.destroy_node()


def test_topics_are_the_ones_the_bridge_carries():
    bridged = {e.ros_topic for e in load_bridge(robot_config_path('skid4').parents[2] / 'config' / 'gz_bridge.yaml')}
    for joint in GEOMETRY.wheel_joints:
        assert command_topic(joint, False) in bridged
    for joint in GEOMETRY.steering_joints:
        assert command_topic(joint, True) in bridged


def test_commands_are_split_per_joint_and_wheels_stop_on_timeout(rig):
    executor, latest, estop, wheels, steering = rig
    spin_until(executor, lambda: len(latest) == 10 and estop, 5.0, 'every joint topic and the e-stop heartbeat')
    assert set(latest.values()) == {0.0} and estop[-1].data is False
    speeds = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    wheels.publish(JointState(name=GEOMETRY.wheel_joints, velocity=speeds))
    steering.publish(JointState(name=GEOMETRY.steering_joints, position=[0.1, -0.1, 0.2, -0.2]))
    expected = dict(zip(GEOMETRY.wheel_joints + GEOMETRY.steering_joints, [*speeds, 0.1, -0.1, 0.2, -0.2],
                        strict=True))
    spin_until(executor, lambda: latest == expected, 2.0, 'the commanded values on every joint topic')
    spin_until(executor, lambda: all(latest[j] == 0.0 for j in GEOMETRY.wheel_joints), 2.0,
               'wheels zeroed after the command timeout')
    assert [latest[j] for j in GEOMETRY.steering_joints] == [0.1, -0.1, 0.2, -0.2]   # steering holds


def test_a_bad_command_changes_nothing(rig):
    executor, latest, _estop, wheels, steering = rig
    spin_until(executor, lambda: len(latest) == 10, 5.0, 'every joint topic')
    seen = []
    executor.get_nodes()[1].create_subscription(
        Float64, command_topic('wheel_front_left_joint', False), lambda m: seen.append(m.data), command_qos())
    wheels.publish(JointState(name=['wheel_front_left_joint'], velocity=[float('nan')]))
    wheels.publish(JointState(name=['wheel_nowhere_joint'], velocity=[1.0]))
    steering.publish(JointState(name=['steer_front_left_joint'], position=[3.0]))
    wheels.publish(JointState(name=['wheel_front_left_joint'], velocity=[1.5]))   # then a good one
    spin_until(executor, lambda: latest['wheel_front_left_joint'] == 1.5, 2.0, 'the good command')
    assert set(seen) <= {0.0, 1.5}
    assert latest['steer_front_left_joint'] == 0.0 and latest['wheel_front_right_joint'] == 0.0
