"""config/hardware_interface.yaml loads, names real types, QoS profiles and frames, and matches its docs."""
import ast
import copy
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

import rover_stack
from rover_stack.common.share_files import robot_variants
from rover_stack.contract import docs
from rover_stack.contract.checks import FieldError, get_field
from rover_stack.contract.model import (
    QOS_NAMES,
    ContractError,
    contract_from_dict,
    default_path,
    load_contract,
    message_class,
)
from rover_stack.description.xacro_expand import expand

# name: (direction, type, frame_id, rate_hz, qos)
REQUIRED_TOPICS = {
    'wheel_commands': ('to_hardware', 'sensor_msgs/msg/JointState', '', 50, 'command'),
    'steering_commands': ('to_hardware', 'sensor_msgs/msg/JointState', '', 50, 'command'),
    'joint_states': ('from_hardware', 'sensor_msgs/msg/JointState', '', 50, 'sensor'),
    'imu/data': ('from_hardware', 'sensor_msgs/msg/Imu', 'imu_link', 100, 'sensor'),
    'gnss/fix': ('from_hardware', 'sensor_msgs/msg/NavSatFix', 'gnss_link', 5, 'sensor'),
    'camera/image_raw': ('from_hardware', 'sensor_msgs/msg/Image', 'camera_optical_frame', 15, 'image'),
    'camera/camera_info': ('from_hardware', 'sensor_msgs/msg/CameraInfo', 'camera_optical_frame', 15,
                           'image'),
    'scan': ('from_hardware', 'sensor_msgs/msg/LaserScan', 'laser_link', 10, 'sensor'),
    'battery': ('from_hardware', 'sensor_msgs/msg/BatteryState', 'base_link', 1, 'sensor'),
    'status_light': ('to_hardware', 'rover_interfaces/msg/StatusLight', '', 0, 'latched'),
    'hardware_estop': ('from_hardware', 'std_msgs/msg/Bool', None, 1, 'latched'),
}


@pytest.fixture(scope='module')
def contract():
    return load_contract()


@pytest.fixture()
def raw():
    return yaml.safe_load(default_path().read_text())


def test_required_topics_have_the_agreed_shape(contract):
    for name, (direction, type_name, frame_id, rate, qos) in REQUIRED_TOPICS.items():
        topic = contract.topic(name)
        assert (topic.direction, topic.type, topic.frame_id, topic.rate_hz, topic.qos) == (
            direction, type_name, frame_id, rate, qos), name
    assert contract.topic('steering_commands').kinematics == ('corner',)
    assert contract.topic('wheel_commands').units['velocity'] == 'rad/s'


def test_every_type_imports_and_frame_id_matches_the_header(contract):
    for topic in contract.topics.values():
        msg = message_class(topic.type)()
        has_header = hasattr(msg, 'header')
        assert (topic.frame_id is not None) == has_header, f'{topic.name}: frame_id null iff no header'


def test_contract_modules_do_not_import_rclpy():
    modules = ', '.join(f'rover_stack.contract.{m}' for m in ('model', 'checks', 'samples', 'docs'))
    code = f'import sys, {modules}; assert "rclpy" not in sys.modules, "rclpy imported"'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr


def qos_profile_names():
    """Keys of PROFILES in rover_stack/common/qos.py, read without importing it (it imports rclpy)."""
    tree = ast.parse((Path(rover_stack.__file__).parent / 'common' / 'qos.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == 'PROFILES' for t in node.targets):
            return {key.value for key in node.value.keys}
    pytest.fail('PROFILES not found in qos.py')


def test_qos_names_are_the_profiles_of_qos_py(contract):
    assert set(QOS_NAMES) == qos_profile_names()
    assert {topic.qos for topic in contract.topics.values()} <= set(QOS_NAMES)


def test_every_checked_field_exists_on_the_message_type(contract):
    for topic in contract.topics.values():
        msg = message_class(topic.type)()
        for check in topic.checks:
            paths = list(check.params.get('fields', ()))
            if 'field' in check.params:
                paths.append(check.params['field'])
            if check.unless:
                paths.append(check.unless[0])
            for path in paths:
                try:
                    get_field(msg, path)
                except FieldError as error:
                    pytest.fail(f'{topic.name} {check}: {error}')


@pytest.mark.parametrize('variant', robot_variants())
def test_every_contract_frame_is_a_link_of_the_robot_description(contract, variant):
    links = {link.get('name') for link in ET.fromstring(expand(variant)).findall('link')}
    frames = {topic.frame_id for topic in contract.topics.values() if topic.frame_id}
    assert frames <= links


def test_select_by_direction_and_kinematics(contract):
    from_hw = {t.name for t in contract.select('from_hardware')}
    assert from_hw == {n for n, spec in REQUIRED_TOPICS.items() if spec[0] == 'from_hardware'}
    assert 'steering_commands' not in {t.name for t in contract.select('to_hardware', 'skid')}
    assert 'steering_commands' in {t.name for t in contract.select('to_hardware', 'corner')}


def test_doc_page_tables_are_generated_from_the_yaml(contract):
    page = docs.DOC_FILE.read_text()
    assert docs.updated_page(page, contract) == page, 'run: python -m rover_stack.contract.docs'
    for name in REQUIRED_TOPICS:
        assert f'`{name}`' in page


def mutate(path, value):
    def apply(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return apply


DELETE = object()


def one_check(entry):
    return mutate(('topics', 'imu/data', 'checks'), [entry])


IMU = ('topics', 'imu/data')

BAD_CONTRACTS = [
    (mutate(('version',), 2), 'version must be 1'),
    (mutate(('topics',), {}), 'no topics'),
    (mutate((*IMU, 'direction'), 'sideways'), 'direction must be one of'),
    (mutate((*IMU, 'type'), 'sensor_msgs/Imu'), 'pkg/msg/Name'),
    (mutate((*IMU, 'qos'), 'fast'), 'qos must be one of'),
    (mutate((*IMU, 'rate_hz'), -1), 'rate_hz must be a number >= 0'),
    (mutate((*IMU, 'rate_hz'), 'fast'), 'rate_hz must be a number >= 0'),
    (mutate((*IMU, 'frame_id'), DELETE), "missing 'frame_id'"),
    (mutate((*IMU, 'frame_id'), 3), 'frame_id must be a string or null'),
    (mutate((*IMU, 'kinematics'), ['tracked']), 'kinematics must be'),
    (mutate((*IMU, 'colour'), 'red'), 'unknown keys'),
    (one_check({'check': 'sparkles'}), "unknown check 'sparkles'"),
    (one_check({'field': 'x'}), 'check: <kind>'),
    (one_check({'check': 'range'}), "missing parameters ['field']"),
    (one_check({'check': 'range', 'field': 'x'}), 'needs min, max or abs_max'),
    (one_check({'check': 'range', 'field': 'x', 'min': 2, 'max': 1}), 'min 2.0 > max 1.0'),
    (one_check({'check': 'range', 'field': 'x', 'abs_max': 1, 'min': 0}), 'abs_max excludes'),
    (one_check({'check': 'range', 'field': 'x', 'abs_max': 'warp_speed'}), 'RoverGeometry'),
    (one_check({'check': 'range', 'field': 'x', 'max': 1, 'colour': 1}), 'unknown parameters'),
    (one_check({'check': 'joint_names', 'field': 'name', 'joints': ['arm']}), 'joints must be'),
    (one_check({'check': 'finite', 'fields': []}), 'non-empty list of field paths'),
    (one_check({'check': 'stamped', 'unless': {'field': 'x'}}), 'unless must be'),
]


@pytest.mark.parametrize(('change', 'message'), BAD_CONTRACTS)
def test_bad_contracts_are_refused_with_a_clear_error(raw, change, message):
    document = copy.deepcopy(raw)
    change(document)
    with pytest.raises(ContractError, match=message.replace('[', r'\[').replace(']', r'\]')):
        contract_from_dict(document, 'test.yaml')


def test_leading_slash_topic_is_refused(raw):
    raw['topics']['/imu/data'] = raw['topics'].pop('imu/data')
    with pytest.raises(ContractError, match='relative ROS topic name'):
        contract_from_dict(raw)


def test_unreadable_and_invalid_files_are_refused(tmp_path):
    with pytest.raises(ContractError, match='cannot read'):
        load_contract(tmp_path / 'absent.yaml')
    broken = tmp_path / 'broken.yaml'
    broken.write_text('topics: [unclosed')
    with pytest.raises(ContractError, match='not valid YAML'):
        load_contract(broken)


def test_unknown_topic_lookup_names_the_known_ones(contract):
    with pytest.raises(ContractError, match='imu/data'):
        contract.topic('imu')


@pytest.mark.parametrize(('type_name', 'message'), [
    ('sensor_msgs/Imu', 'pkg/msg/Name'),
    ('no_such_pkg/msg/Thing', 'cannot import'),
    ('sensor_msgs/msg/NoSuchThing', 'has no NoSuchThing'),
])
def test_message_class_errors(type_name, message):
    with pytest.raises(ContractError, match=message):
        message_class(type_name)
