"""Read and check the ros_gz_bridge configuration (config/gz_bridge.yaml) against the contract.

The file is the bridge's YAML list of ``{ros_topic_name, gz_topic_name, ros_type_name, gz_type_name,
direction}``. ``check_bridge`` returns a list of problems (empty = fine):

* every contract topic Gazebo produces (``FROM_GAZEBO``) is bridged GZ_TO_ROS once, with the
  contract's relative name and type; every other from_hardware topic is named in ``NOT_FROM_GAZEBO``
  (with the node that provides it instead) and is not bridged, so a new contract topic fails the check
  until someone decides;
* commands go ROS_TO_GZ only as the gz_wheel_adapter's per-joint topics ``gz/<joint>/cmd_vel`` (wheel
  joints) and ``gz/<joint>/cmd_pos`` (steering joints), std_msgs/Float64 <-> gz.msgs.Double;
* ``/clock`` comes from Gazebo; no other names, no duplicates, type pairs as in ros_gz_bridge.

``gazebo_topics(urdf_xml)`` lists the gz topics an expanded description (sim_gazebo:=true) declares,
so a test can tie the bridge's gz names to urdf/gazebo.xacro. Pure Python, no rclpy.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import yaml

DIRECTIONS = ('GZ_TO_ROS', 'ROS_TO_GZ', 'BIDIRECTIONAL')
FIELDS = ('ros_topic_name', 'gz_topic_name', 'ros_type_name', 'gz_type_name', 'direction')
OPTIONAL_FIELDS = ('subscriber_queue', 'publisher_queue', 'lazy')
# ROS type -> gz type, the pairs of the ros_gz_bridge README that this stack uses.
TYPE_PAIRS = {
    'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
    'sensor_msgs/msg/JointState': 'gz.msgs.Model',
    'sensor_msgs/msg/Imu': 'gz.msgs.IMU',
    'sensor_msgs/msg/NavSatFix': 'gz.msgs.NavSat',
    'sensor_msgs/msg/Image': 'gz.msgs.Image',
    'sensor_msgs/msg/CameraInfo': 'gz.msgs.CameraInfo',
    'sensor_msgs/msg/LaserScan': 'gz.msgs.LaserScan',
    'sensor_msgs/msg/BatteryState': 'gz.msgs.BatteryState',
    'std_msgs/msg/Float64': 'gz.msgs.Double',
    'std_msgs/msg/Bool': 'gz.msgs.Boolean',
}
FROM_GAZEBO = ('joint_states', 'imu/data', 'gnss/fix', 'camera/image_raw', 'camera/camera_info', 'scan')
NOT_FROM_GAZEBO = {   # from_hardware contract topics Gazebo does not produce, and who does
    'battery': 'not simulated in Gazebo (no battery model); nothing publishes it',
    'hardware_estop': 'gz_wheel_adapter publishes false (the simulated button is never pressed)',
}
CLOCK = '/clock'
COMMAND_RE = re.compile(r'^gz/((?:wheel|steer)_[a-z]+_(?:left|right)_joint)/(cmd_vel|cmd_pos)$')


class BridgeConfigError(ValueError):
    """The bridge file is not a list of bridge entries."""


@dataclass(frozen=True)
class BridgeEntry:
    ros_topic: str
    gz_topic: str
    ros_type: str
    gz_type: str
    direction: str


def parse_bridge(text: str, source: str = '<bridge>') -> list[BridgeEntry]:
    """Entries of a bridge YAML text; BridgeConfigError naming the entry and field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BridgeConfigError(f'{source}: not valid YAML: {error}') from None
    if not isinstance(data, list) or not data:
        raise BridgeConfigError(f'{source}: expected a non-empty YAML list of bridge entries')
    entries = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise BridgeConfigError(f'{source}: entry {index} is not a mapping')
        unknown = set(item) - set(FIELDS) - set(OPTIONAL_FIELDS)
        if unknown:
            raise BridgeConfigError(f'{source}: entry {index}: unknown keys {sorted(unknown)}')
        for field in FIELDS:
            if not isinstance(item.get(field), str) or not item[field]:
                raise BridgeConfigError(f'{source}: entry {index}: {field} must be non-empty text')
        if item['direction'] not in DIRECTIONS:
            raise BridgeConfigError(f'{source}: entry {index}: direction {item["direction"]!r} '
                                    f'not in {DIRECTIONS}')
        entries.append(BridgeEntry(*(item[f] for f in FIELDS)))
    return entries


def load_bridge(path: str | Path) -> list[BridgeEntry]:
    path = Path(path)
    return parse_bridge(path.read_text(), str(path))


def check_bridge(entries: list[BridgeEntry], contract, wheel_joints: set[str],
                 steering_joints: set[str]) -> list[str]:
    """Problems of ``entries`` against ``contract`` (rover_stack.contract.model.Contract) and the
    union of the wheel and steering joint names of every robot variant."""
    problems = []
    names = [e.ros_topic for e in entries]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f'{name}: bridged more than once')
    for entry in entries:
        expected_gz = TYPE_PAIRS.get(entry.ros_type)
        if expected_gz is None:
            problems.append(f'{entry.ros_topic}: ROS type {entry.ros_type} is not one this stack bridges')
        elif entry.gz_type != expected_gz:
            problems.append(f'{entry.ros_topic}: {entry.ros_type} pairs with {expected_gz}, '
                            f'not {entry.gz_type}')
    by_name = {e.ros_topic: e for e in entries}
    from_hardware = {t.name: t for t in contract.select('from_hardware')}
    for name in set(FROM_GAZEBO) - set(from_hardware):
        problems.append(f'{name}: listed as produced by Gazebo but not a from_hardware topic of the contract')
    for name, topic in from_hardware.items():
        if name in NOT_FROM_GAZEBO:
            if name in by_name:
                problems.append(f'{name}: bridged, but listed as not produced by Gazebo')
            continue
        if name not in FROM_GAZEBO:
            problems.append(f'{name}: contract topic neither bridged from Gazebo '
                            'nor listed in NOT_FROM_GAZEBO')
            continue
        entry = by_name.get(name)
        if entry is None:
            problems.append(f'{name}: produced by Gazebo but not bridged')
            continue
        if entry.ros_type != topic.type:
            problems.append(f'{name}: bridged as {entry.ros_type}, contract says {topic.type}')
        if entry.direction != 'GZ_TO_ROS':
            problems.append(f'{name}: direction {entry.direction}, must be GZ_TO_ROS')
    for entry in entries:
        if entry.ros_topic in FROM_GAZEBO:
            continue
        if entry.ros_topic == CLOCK:
            if entry.direction != 'GZ_TO_ROS' or entry.ros_type != 'rosgraph_msgs/msg/Clock':
                problems.append(f'{CLOCK}: must be rosgraph_msgs/msg/Clock, GZ_TO_ROS')
            continue
        match = COMMAND_RE.match(entry.ros_topic)
        if match is None:
            problems.append(f'{entry.ros_topic}: not a contract topic, /clock or a gz/<joint>/cmd_* topic')
            continue
        joint, command = match.groups()
        known = wheel_joints if command == 'cmd_vel' else steering_joints
        if joint not in known:
            kind = 'wheel' if command == 'cmd_vel' else 'steering'
            problems.append(f'{entry.ros_topic}: {joint} is not a {kind} joint of any robot variant')
        if entry.direction != 'ROS_TO_GZ' or entry.ros_type != 'std_msgs/msg/Float64':
            problems.append(f'{entry.ros_topic}: must be std_msgs/msg/Float64, ROS_TO_GZ')
    commanded = {COMMAND_RE.match(e.ros_topic).group(1) for e in entries if COMMAND_RE.match(e.ros_topic)}
    for joint in sorted((wheel_joints | steering_joints) - commanded):
        problems.append(f'{joint}: no command topic bridged')
    return problems


def command_topic(joint: str, steering: bool) -> str:
    """The adapter's ROS topic for one joint: gz/<joint>/cmd_pos (steering) or gz/<joint>/cmd_vel."""
    return f'gz/{joint}/{"cmd_pos" if steering else "cmd_vel"}'


def gazebo_topics(urdf_xml: str) -> dict[str, str]:
    """gz topic -> what declares it (sensor type or plugin class) in an expanded description."""
    root = ET.fromstring(urdf_xml)
    topics = {}
    for gazebo in root.iter('gazebo'):
        for sensor in gazebo.iter('sensor'):
            topics[sensor.findtext('topic')] = sensor.get('type')
            info = sensor.find('camera/camera_info_topic')
            if info is not None:
                topics[info.text] = 'camera_info'
        for plugin in gazebo.iter('plugin'):
            topic = plugin.findtext('topic')
            if topic is not None:
                topics[topic] = plugin.get('name')
    return topics
