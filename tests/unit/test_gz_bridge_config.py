"""config/gz_bridge.yaml against the contract and against the gz topics of urdf/gazebo.xacro."""
import dataclasses

import pytest

from rover_stack.common.share_files import package_share_dir, robot_config_path, robot_variants
from rover_stack.contract.model import load_contract
from rover_stack.description.geometry import load_geometry
from rover_stack.description.xacro_expand import expand
from rover_stack.gazebo.bridge_config import (
    CLOCK,
    FROM_GAZEBO,
    NOT_FROM_GAZEBO,
    BridgeConfigError,
    check_bridge,
    gazebo_topics,
    load_bridge,
    parse_bridge,
)

CONTRACT = load_contract()
BRIDGE = load_bridge(package_share_dir() / 'config' / 'gz_bridge.yaml')
GEOMETRIES = [load_geometry(robot_config_path(v)) for v in robot_variants()]
WHEELS = {j for g in GEOMETRIES for j in g.wheel_joints}
STEERING = {j for g in GEOMETRIES for j in g.steering_joints}
# What declares a gz topic in the description -> the gz message type it publishes or takes.
DECLARED_TYPE = {'imu': 'gz.msgs.IMU', 'navsat': 'gz.msgs.NavSat', 'camera': 'gz.msgs.Image',
                 'camera_info': 'gz.msgs.CameraInfo', 'gpu_lidar': 'gz.msgs.LaserScan',
                 'gz::sim::systems::JointController': 'gz.msgs.Double',
                 'gz::sim::systems::JointPositionController': 'gz.msgs.Double',
                 'gz::sim::systems::JointStatePublisher': 'gz.msgs.Model'}


def problems(entries):
    return check_bridge(entries, CONTRACT, WHEELS, STEERING)


def test_the_committed_bridge_passes():
    assert problems(BRIDGE) == []


def test_every_from_hardware_topic_is_classified():
    names = {t.name for t in CONTRACT.select('from_hardware')}
    assert names == set(FROM_GAZEBO) | set(NOT_FROM_GAZEBO)


def test_gz_side_equals_what_the_descriptions_declare():
    declared = {}
    for variant in robot_variants():
        declared.update(gazebo_topics(expand(variant, sim_gazebo=True)))
    bridged = {e.gz_topic: e.gz_type for e in BRIDGE if e.ros_topic != CLOCK}
    assert set(bridged) == set(declared)
    for topic, declared_by in declared.items():
        assert bridged[topic] == DECLARED_TYPE[declared_by], topic


def replace(name, **changes):
    return [dataclasses.replace(e, **changes) if e.ros_topic == name else e for e in BRIDGE]


def without(name):
    return [e for e in BRIDGE if e.ros_topic != name]


EXTRA = dataclasses.replace(BRIDGE[1], ros_topic='odom', gz_topic='/rover/odom')
BATTERY = dataclasses.replace(BRIDGE[1], ros_topic='battery', gz_topic='/rover/battery',
                              ros_type='sensor_msgs/msg/BatteryState', gz_type='gz.msgs.BatteryState')
BAD_JOINT = dataclasses.replace(BRIDGE[-1], ros_topic='gz/wheel_fifth_left_joint/cmd_vel')


@pytest.mark.parametrize('entries, expected', [
    (without('imu/data'), 'imu/data: produced by Gazebo but not bridged'),
    (replace('scan', ros_type='sensor_msgs/msg/PointCloud2', gz_type='gz.msgs.PointCloudPacked'),
     'not one this stack bridges'),
    (replace('gnss/fix', gz_type='gz.msgs.IMU'), 'pairs with gz.msgs.NavSat'),
    (replace('joint_states', direction='BIDIRECTIONAL'), 'joint_states: direction BIDIRECTIONAL'),
    (replace('camera/image_raw', ros_type='sensor_msgs/msg/CameraInfo', gz_type='gz.msgs.CameraInfo'),
     'contract says sensor_msgs/msg/Image'),
    ([*BRIDGE, EXTRA], 'odom: not a contract topic'),
    ([*BRIDGE, BATTERY], 'battery: bridged, but listed as not produced by Gazebo'),
    ([*BRIDGE, BRIDGE[2]], 'bridged more than once'),
    ([*BRIDGE, BAD_JOINT], 'wheel_fifth_left_joint is not a wheel joint'),
    (without('gz/steer_rear_left_joint/cmd_pos'), 'steer_rear_left_joint: no command topic bridged'),
    (replace('gz/wheel_front_left_joint/cmd_vel', direction='GZ_TO_ROS'), 'must be std_msgs/msg/Float64, ROS_TO_GZ'),
    (replace(CLOCK, direction='ROS_TO_GZ'), '/clock: must be'),
], ids=lambda v: v if isinstance(v, str) else '')
def test_each_fault_is_named(entries, expected):
    found = problems(entries)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize('text, message', [
    ('{}', 'non-empty YAML list'),
    ('- 3', 'entry 0 is not a mapping'),
    ('- {ros_topic_name: a, gz_topic_name: b, ros_type_name: c, gz_type_name: d, direction: UP}', 'direction'),
    ('- {ros_topic_name: a, gz_topic_name: b, ros_type_name: c, direction: GZ_TO_ROS}', 'gz_type_name'),
    ('- {topic_name: a}', 'unknown keys'),
    (': bad', 'not valid YAML'),
])
def test_malformed_files_are_refused(text, message):
    with pytest.raises(BridgeConfigError, match=message):
        parse_bridge(text)
