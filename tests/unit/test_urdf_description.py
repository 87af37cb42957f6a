"""urdf/rover.urdf.xacro expanded for every robot config agrees with RoverGeometry and passes check_urdf."""
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import xacro
import yaml

from rover_stack.common.share_files import (
    ROBOT_CONFIG_DIR,
    package_share_dir,
    robot_config_path,
    robot_variants,
)
from rover_stack.description.geometry import GeometryError, load_geometry
from rover_stack.description.xacro_expand import XACRO_FILE, DescriptionError, expand

VARIANTS = robot_variants()
TOL = 1e-9


def test_the_three_shipped_variants_are_found():
    assert {'skid4', 'skid6', 'corner6'} <= set(VARIANTS)


def floats(text):
    return tuple(float(v) for v in text.split())


class Urdf:
    """Minimal parser-free view of an expanded URDF."""

    def __init__(self, xml_text):
        self.root = ET.fromstring(xml_text)
        self.links = {link.get('name'): link for link in self.root.findall('link')}
        self.joints = {joint.get('name'): joint for joint in self.root.findall('joint')}
        self.parent_joint = {j.find('child').get('link'): j for j in self.joints.values()}

    def joints_of_type(self, kind):
        return {name for name, joint in self.joints.items() if joint.get('type') == kind}

    def origin(self, joint):
        element = joint.find('origin')
        return floats(element.get('xyz', '0 0 0')), floats(element.get('rpy', '0 0 0'))

    def position_in(self, link, frame):
        """Translation of link in frame, along a chain of joints with zero rotation."""
        x = y = z = 0.0
        while link != frame:
            joint = self.parent_joint[link]
            xyz, rpy = self.origin(joint)
            assert rpy == (0.0, 0.0, 0.0), f'{joint.get("name")} is rotated; position_in needs zero rpy'
            x, y, z = x + xyz[0], y + xyz[1], z + xyz[2]
            link = joint.find('parent').get('link')
        return x, y, z


@pytest.fixture(scope='module', params=VARIANTS)
def variant(request):
    geometry = load_geometry(robot_config_path(request.param))
    return request.param, geometry, Urdf(expand(request.param))


def run_check_urdf(xml_text, tmp_path):
    tool = shutil.which('check_urdf')
    if tool is None:
        pytest.fail('check_urdf not found: install the Debian package liburdfdom-tools')
    path = tmp_path / 'rover.urdf'
    path.write_text(xml_text)
    return subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize('name', VARIANTS)
@pytest.mark.parametrize('sim_gazebo', [False, True])
def test_check_urdf_accepts_the_description(name, sim_gazebo, tmp_path):
    result = run_check_urdf(expand(name, sim_gazebo=sim_gazebo), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Successfully Parsed XML' in result.stdout
    assert 'root Link: base_footprint' in result.stdout


def test_check_urdf_rejects_a_broken_description(tmp_path):
    """The check above can fail: a joint to a missing link is refused."""
    broken = expand('skid4').replace('<child link="base_link"/>', '<child link="no_such_link"/>')
    assert run_check_urdf(broken, tmp_path).returncode != 0


def test_robot_name_is_the_config_name(variant):
    _, geometry, urdf = variant
    assert urdf.root.get('name') == geometry.name


def test_joint_names_and_types_match_geometry(variant):
    _, geometry, urdf = variant
    assert urdf.joints_of_type('continuous') == set(geometry.wheel_joints)
    assert urdf.joints_of_type('revolute') == set(geometry.steering_joints)
    assert len(geometry.wheel_joints) == len(geometry.wheels)
    if geometry.kinematics == 'corner':
        assert len(geometry.steering_joints) == 4
    else:
        assert urdf.joints_of_type('revolute') == set()
    movable = {n for n, j in urdf.joints.items() if j.get('type') != 'fixed'}
    assert movable == set(geometry.wheel_joints) | set(geometry.steering_joints)


def test_base_footprint_is_root_and_base_link_at_axle_height(variant):
    _, geometry, urdf = variant
    roots = set(urdf.links) - set(urdf.parent_joint)
    assert roots == {'base_footprint'}
    joint = urdf.parent_joint['base_link']
    assert joint.find('parent').get('link') == 'base_footprint'
    assert joint.get('type') == 'fixed'
    assert urdf.origin(joint) == ((0.0, 0.0, geometry.wheel_radius), (0.0, 0.0, 0.0))


def test_wheels_sit_where_geometry_puts_them(variant):
    _, geometry, urdf = variant
    for wheel in geometry.wheels:
        joint = urdf.joints[wheel.joint]
        link = joint.find('child').get('link')
        x, y, z = urdf.position_in(link, 'base_link')
        assert (x, y, z) == pytest.approx((wheel.x, wheel.y, 0.0), abs=TOL), wheel.joint
        assert floats(joint.find('axis').get('xyz')) == (0.0, 1.0, 0.0)
        limit = joint.find('limit')
        assert float(limit.get('velocity')) == pytest.approx(geometry.max_wheel_speed)
        expected_parent = f'steer_{wheel.name}_link' if wheel.steering_joint else 'base_link'
        assert joint.find('parent').get('link') == expected_parent


def test_wheel_cylinders_have_the_configured_size(variant):
    _, geometry, urdf = variant
    for wheel in geometry.wheels:
        link = urdf.links[urdf.joints[wheel.joint].find('child').get('link')]
        for kind in ('visual', 'collision'):
            element = link.find(kind)
            cylinder = element.find('geometry/cylinder')
            assert float(cylinder.get('radius')) == pytest.approx(geometry.wheel_radius)
            assert float(cylinder.get('length')) == pytest.approx(geometry.wheel_width)
            # URDF cylinders lie along z; rolled by pi/2 their axis is the wheel axis y.
            rpy = floats(element.find('origin').get('rpy'))
            assert rpy == pytest.approx((math.pi / 2, 0.0, 0.0))


def test_steering_joints_turn_about_z_within_the_limit(variant):
    _, geometry, urdf = variant
    for name in geometry.steering_joints:
        joint = urdf.joints[name]
        assert floats(joint.find('axis').get('xyz')) == (0.0, 0.0, 1.0)
        limit = joint.find('limit')
        assert float(limit.get('lower')) == pytest.approx(-geometry.max_steering_angle)
        assert float(limit.get('upper')) == pytest.approx(geometry.max_steering_angle)
        assert float(limit.get('velocity')) == pytest.approx(geometry.max_steering_rate)
        assert float(limit.get('effort')) > 0


def test_sensor_frames_have_the_configured_pose(variant):
    _, geometry, urdf = variant
    frames = {m.frame for m in geometry.sensors.values()}
    assert frames == {'camera_link', 'imu_link', 'gnss_link', 'laser_link'}
    for mount in geometry.sensors.values():
        joint = urdf.parent_joint[mount.frame]
        assert joint.get('type') == 'fixed'
        assert joint.find('parent').get('link') == 'base_link'
        xyz, rpy = urdf.origin(joint)
        assert xyz == pytest.approx(mount.xyz, abs=TOL)
        assert rpy == pytest.approx(mount.rpy, abs=TOL)


def test_camera_optical_frame_uses_the_optical_rotation(variant):
    _, geometry, urdf = variant
    joint = urdf.parent_joint['camera_optical_frame']
    assert joint.find('parent').get('link') == geometry.sensors['camera'].frame
    xyz, rpy = urdf.origin(joint)
    assert xyz == (0.0, 0.0, 0.0)
    assert rpy == pytest.approx((-math.pi / 2, 0.0, -math.pi / 2))


def test_every_link_with_collision_has_a_physical_inertia(variant):
    _, geometry, urdf = variant
    massive = [name for name, link in urdf.links.items() if link.find('collision') is not None]
    assert 'base_link' in massive
    for name in massive:
        inertial = urdf.links[name].find('inertial')
        assert inertial is not None, name
        assert float(inertial.find('mass').get('value')) > 0, name
        inertia = inertial.find('inertia')
        ixx, iyy, izz = (float(inertia.get(k)) for k in ('ixx', 'iyy', 'izz'))
        assert min(ixx, iyy, izz) > 0, name
        # Principal moments of a real body satisfy the triangle inequality.
        assert ixx + iyy >= izz and iyy + izz >= ixx and ixx + izz >= iyy, name
        assert urdf.links[name].find('visual') is not None, name
    chassis = urdf.links['base_link']
    assert float(chassis.find('inertial/mass').get('value')) == pytest.approx(geometry.chassis_mass)
    box = floats(chassis.find('collision/geometry/box').get('size'))
    assert box == pytest.approx(geometry.chassis_size)
    length, width, _height = geometry.chassis_size
    assert float(chassis.find('inertial/inertia').get('izz')) == pytest.approx(
        geometry.chassis_mass * (length**2 + width**2) / 12)
    for wheel in geometry.wheels:
        link = urdf.links[f'wheel_{wheel.name}_link']
        assert float(link.find('inertial/mass').get('value')) == pytest.approx(geometry.wheel_mass)
        iyy = float(link.find('inertial/inertia').get('iyy'))
        assert iyy == pytest.approx(geometry.wheel_mass * geometry.wheel_radius**2 / 2)


def minimal_config(tmp_path, **overrides):
    """A config with only the required fields, so the xacro's defaults must equal geometry.py's."""
    rover = {'name': 'rover_minimal', 'kinematics': 'corner', 'wheel_count': 6, 'wheel_radius': 0.2,
             'wheel_width': 0.12, 'track': 0.9, 'wheelbase': 1.1}
    rover.update(overrides)
    path = tmp_path / 'minimal.yaml'
    path.write_text(yaml.safe_dump({'rover': rover}))
    return path


def test_xacro_defaults_equal_geometry_defaults(tmp_path):
    path = minimal_config(tmp_path)
    geometry = load_geometry(path)
    urdf = Urdf(expand(path))
    assert urdf.root.get('name') == 'rover_minimal'
    wheel = geometry.wheels[0]
    wheel_limit = urdf.joints[wheel.joint].find('limit')
    assert float(wheel_limit.get('velocity')) == pytest.approx(geometry.max_wheel_speed)
    steer = urdf.joints[geometry.steering_joints[0]].find('limit')
    assert float(steer.get('upper')) == pytest.approx(geometry.max_steering_angle)
    assert float(steer.get('velocity')) == pytest.approx(geometry.max_steering_rate)
    assert float(urdf.links[f'wheel_{wheel.name}_link'].find('inertial/mass').get('value')) == pytest.approx(
        geometry.wheel_mass)
    chassis = urdf.links['base_link']
    assert floats(chassis.find('visual/geometry/box').get('size')) == pytest.approx(geometry.chassis_size)
    assert float(chassis.find('inertial/mass').get('value')) == pytest.approx(geometry.chassis_mass)
    assert 'camera_optical_frame' not in urdf.links  # no sensors configured, no sensor frames
    wheel_links = {f'wheel_{w.name}_link' for w in geometry.wheels}
    steer_links = {f'steer_{w.name}_link' for w in geometry.wheels if w.steering_joint}
    assert set(urdf.links) == {'base_footprint', 'base_link'} | wheel_links | steer_links


def test_negative_wheel_radius_is_refused_with_the_field_named(tmp_path):
    with pytest.raises(GeometryError, match='wheel_radius'):
        expand(minimal_config(tmp_path, wheel_radius=-0.1))


def test_unknown_variant_is_refused_with_the_known_ones_listed():
    with pytest.raises(DescriptionError, match='skid4'):
        expand('no_such_rover')


def test_missing_config_file_is_refused(tmp_path):
    with pytest.raises(GeometryError, match='cannot read'):
        expand(tmp_path / 'absent.yaml')


def test_xacro_default_robot_config_is_skid4():
    """Expanded without robot_config (as a launch file may do), the xacro finds skid4 next to it."""
    document = xacro.process_file(str(package_share_dir() / XACRO_FILE))
    assert ET.fromstring(document.toxml()).get('name') == load_geometry(
        package_share_dir() / ROBOT_CONFIG_DIR / 'skid4.yaml').name


def test_gazebo_placeholder_is_well_formed_xacro():
    root = ET.parse(package_share_dir() / 'urdf' / 'gazebo.xacro').getroot()
    assert root.tag == 'robot'
