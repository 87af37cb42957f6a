"""urdf/gazebo.xacro: the Gazebo plugins and sensors of every variant, present only with sim_gazebo.

Gazebo itself is not installed here; where sdformat's `ign sdf` exists (Debian ignition-tools +
libsdformat-dev, scripts/install_system_deps.sh) the expanded URDF is also converted to SDF and
validated, which is what `gz sim` does when the rover is spawned.
"""
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from rover_stack.common.share_files import package_share_dir, robot_config_path, robot_variants
from rover_stack.description.geometry import load_geometry
from rover_stack.description.xacro_expand import expand

VARIANTS = robot_variants()
SIMULATOR = yaml.safe_load((package_share_dir() / 'config' / 'simulator.yaml').read_text())
SIM = SIMULATOR['/**/rover_simulator']['ros__parameters']
IGN = shutil.which('ign')


@pytest.fixture(scope='module', params=VARIANTS)
def described(request):
    geometry = load_geometry(robot_config_path(request.param))
    return geometry, ET.fromstring(expand(request.param, sim_gazebo=True))


def plugins(root, name):
    return [p for g in root.iter('gazebo') for p in g.iter('plugin') if p.get('name') == name]


def sensor(root, kind):
    found = [(g.get('reference'), s) for g in root.iter('gazebo') for s in g.iter('sensor') if s.get('type') == kind]
    assert len(found) == 1, f'expected one {kind} sensor, found {len(found)}'
    return found[0]


@pytest.mark.parametrize('variant', VARIANTS)
def test_no_gazebo_elements_without_sim_gazebo(variant):
    root = ET.fromstring(expand(variant))
    assert list(root.iter('gazebo')) == []
    assert list(root.iter('plugin')) == [] and list(root.iter('sensor')) == []


def test_one_velocity_controller_per_wheel_on_its_own_topic(described):
    geometry, root = described
    found = {p.findtext('joint_name'): p.findtext('topic')
             for p in plugins(root, 'gz::sim::systems::JointController')}
    assert found == {j: f'/rover/{j}/cmd_vel' for j in geometry.wheel_joints}
    for plugin in plugins(root, 'gz::sim::systems::JointController'):
        assert plugin.get('filename') == 'gz-sim-joint-controller-system'


def test_one_position_controller_per_steering_joint_corner_only(described):
    geometry, root = described
    found = {p.findtext('joint_name'): p.findtext('topic')
             for p in plugins(root, 'gz::sim::systems::JointPositionController')}
    assert found == {j: f'/rover/{j}/cmd_pos' for j in geometry.steering_joints}
    assert bool(found) == (geometry.kinematics == 'corner')


def test_joint_state_publisher_lists_exactly_the_contract_joints(described):
    geometry, root = described
    (plugin,) = plugins(root, 'gz::sim::systems::JointStatePublisher')
    assert plugin.get('filename') == 'gz-sim-joint-state-publisher-system'
    assert plugin.findtext('topic') == '/rover/joint_states'
    names = [e.text for e in plugin.findall('joint_name')]
    assert sorted(names) == sorted(geometry.wheel_joints + geometry.steering_joints)


@pytest.mark.parametrize('kind, mount, frame_id, topic, rate', [
    ('imu', 'imu', 'imu_link', '/rover/imu', 100),
    ('navsat', 'gnss', 'gnss_link', '/rover/navsat', 5),
    ('camera', 'camera', 'camera_optical_frame', '/rover/camera/image_raw', 15),
    ('gpu_lidar', 'range', 'laser_link', '/rover/scan', 10),
])
def test_sensor_on_the_real_frame_with_the_contract_rate(described, kind, mount, frame_id, topic, rate):
    geometry, root = described
    reference, element = sensor(root, kind)
    assert reference == geometry.sensors[mount].frame
    assert element.findtext('gz_frame_id') == frame_id
    assert element.findtext('topic') == topic
    assert float(element.findtext('update_rate')) == rate


def test_camera_matches_the_embedded_simulator(described):
    _, root = described
    _, camera = sensor(root, 'camera')
    width, height = int(camera.findtext('camera/image/width')), int(camera.findtext('camera/image/height'))
    assert (width, height) == (SIM['camera']['width'], SIM['camera']['height']) == (640, 480)
    hfov = float(camera.findtext('camera/horizontal_fov'))
    vfov = 2 * math.atan(math.tan(hfov / 2) * height / width)
    assert math.degrees(vfov) == pytest.approx(SIM['camera']['fovy'], abs=1e-6)
    assert camera.findtext('camera/camera_info_topic') == '/rover/camera/camera_info'


def test_lidar_matches_the_embedded_simulator(described):
    _, root = described
    _, lidar = sensor(root, 'gpu_lidar')
    horizontal = lidar.find('lidar/scan/horizontal')
    assert int(horizontal.findtext('samples')) == SIM['range']['samples']
    assert float(horizontal.findtext('min_angle')) == pytest.approx(SIM['range']['angle_min'])
    assert float(horizontal.findtext('max_angle')) == pytest.approx(SIM['range']['angle_max'])
    assert float(lidar.findtext('lidar/range/min')) == SIM['range']['range_min']
    assert float(lidar.findtext('lidar/range/max')) == SIM['range']['range_max']


@pytest.mark.skipif(IGN is None, reason='ign (Debian ignition-tools + libsdformat-dev) not installed')
@pytest.mark.parametrize('variant', VARIANTS)
def test_sdformat_converts_and_validates_the_gazebo_description(variant, tmp_path):
    urdf = tmp_path / f'{variant}.urdf'
    urdf.write_text(expand(variant, sim_gazebo=True))
    converted = subprocess.run([IGN, 'sdf', '-p', str(urdf)], capture_output=True, text=True, timeout=60)
    assert converted.returncode == 0, converted.stderr
    warnings = [line for line in converted.stderr.splitlines() if 'Warning' in line or 'Error' in line]
    assert warnings == [], '\n'.join(warnings)
    sdf = tmp_path / f'{variant}.sdf'
    sdf.write_text(converted.stdout)
    checked = subprocess.run([IGN, 'sdf', '-k', str(sdf)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and 'Valid.' in checked.stdout, checked.stdout + checked.stderr
    model = ET.fromstring(converted.stdout).find('model')
    assert len(model.findall('plugin')) == len(plugins(ET.fromstring(urdf.read_text()), 'gz::sim::systems::'
                                                                                     'JointController')) + \
        len(load_geometry(robot_config_path(variant)).steering_joints) + 1
    assert sorted(s.get('type') for s in model.iter('sensor')) == ['camera', 'gpu_lidar', 'imu', 'navsat']


@pytest.mark.skipif(IGN is None, reason='ign (Debian ignition-tools + libsdformat-dev) not installed')
def test_sdformat_check_can_fail(tmp_path):
    bad = tmp_path / 'bad.sdf'
    bad.write_text('<sdf version="1.9"><model name="m"><link name="l"/><link name="l"/></model></sdf>')
    result = subprocess.run([IGN, 'sdf', '-k', str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 or 'Valid.' not in result.stdout
