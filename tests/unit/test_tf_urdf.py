"""URDF parsing: links, joints with origins, axes and limits; fixed transforms; malformed input."""
import math

import numpy as np
import pytest

from rover_stack.tf.transform import Transform
from rover_stack.tf.urdf import JointLimit, UrdfError, fixed_transforms, joint_transform, parse_urdf

ROVER = """<?xml version="1.0"?>
<robot name="mini">
  <link name="base_link"/>
  <link name="camera_link"/>
  <link name="imu_link"/>
  <link name="mast_link"/>
  <link name="wheel_front_left"/>
  <joint name="camera_joint" type="fixed">
    <parent link="mast_link"/>
    <child link="camera_link"/>
    <origin xyz="0.05 0 0.1" rpy="0 0.3 0"/>
  </joint>
  <joint name="imu_joint" type="fixed">
    <parent link="base_link"/>
    <child link="imu_link"/>
  </joint>
  <joint name="mast_pan_joint" type="revolute">
    <parent link="base_link"/>
    <child link="mast_link"/>
    <origin xyz="0.2 0 0.4"/>
    <axis xyz="0 0 2"/>
    <limit lower="-1.5" upper="1.5" effort="5" velocity="1.0"/>
  </joint>
  <joint name="wheel_front_left_joint" type="continuous">
    <parent link="base_link"/>
    <child link="wheel_front_left"/>
    <origin xyz="0.25 0.3 0" rpy="-1.5707963267948966 0 0"/>
    <axis xyz="0 0 1"/>
  </joint>
</robot>
"""


def test_links_and_joints_are_read():
    urdf = parse_urdf(ROVER)
    assert urdf.name == 'mini'
    assert urdf.links == ('base_link', 'camera_link', 'imu_link', 'mast_link', 'wheel_front_left')
    assert urdf.root_link == 'base_link'
    assert list(urdf.joints) == ['camera_joint', 'imu_joint', 'mast_pan_joint', 'wheel_front_left_joint']


def test_fixed_joint_origin_and_defaults():
    urdf = parse_urdf(ROVER)
    camera = urdf.joints['camera_joint']
    assert (camera.type, camera.parent, camera.child) == ('fixed', 'mast_link', 'camera_link')
    assert camera.origin_xyz == (0.05, 0.0, 0.1)
    assert camera.origin_rpy == (0.0, 0.3, 0.0)
    assert camera.limit is None
    imu = urdf.joints['imu_joint']
    assert (imu.origin_xyz, imu.origin_rpy, imu.axis) == ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))


def test_revolute_joint_axis_is_normalised_and_limits_read():
    pan = parse_urdf(ROVER).joints['mast_pan_joint']
    assert pan.type == 'revolute'
    assert pan.axis == (0.0, 0.0, 1.0)
    assert pan.limit == JointLimit(lower=-1.5, upper=1.5, effort=5.0, velocity=1.0)


def test_continuous_joint_needs_no_limit():
    wheel = parse_urdf(ROVER).joints['wheel_front_left_joint']
    assert (wheel.type, wheel.limit, wheel.axis) == ('continuous', None, (0.0, 0.0, 1.0))
    assert wheel.origin_rpy == pytest.approx((-math.pi / 2, 0.0, 0.0))


def test_fixed_transforms_lists_only_fixed_joints():
    result = fixed_transforms(ROVER)
    assert [(p, c) for p, c, _ in result] == [('mast_link', 'camera_link'), ('base_link', 'imu_link')]
    camera = result[0][2]
    np.testing.assert_allclose(camera.translation, [0.05, 0.0, 0.1])
    np.testing.assert_allclose(camera.rpy(), [0.0, 0.3, 0.0], atol=1e-12)
    assert result[1][2] == Transform.identity()
    assert fixed_transforms(parse_urdf(ROVER)) == result


def test_joint_transform_turns_revolute_and_continuous_joints_about_their_axis():
    urdf = parse_urdf(ROVER)
    pan = joint_transform(urdf.joints['mast_pan_joint'], math.pi / 2)
    np.testing.assert_allclose(pan.apply([1.0, 0.0, 0.0]), [0.2, 1.0, 0.4], atol=1e-12)
    wheel = urdf.joints['wheel_front_left_joint']
    assert joint_transform(wheel, 0.0).is_close(wheel.origin)
    # the wheel's z axis is the parent's +y after the -90 deg roll; spinning keeps the axle fixed
    axle_point = joint_transform(wheel, 1.0).apply([0.0, 0.0, 1.0])
    np.testing.assert_allclose(axle_point, [0.25, 1.3, 0.0], atol=1e-12)
    assert joint_transform(urdf.joints['imu_joint']) == Transform.identity()
    with pytest.raises(ValueError, match='not finite'):
        joint_transform(wheel, math.nan)


def test_prismatic_and_floating_joints():
    text = """<robot name="r"><link name="a"/><link name="b"/><link name="c"/>
      <joint name="slide" type="prismatic"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/>
        <limit upper="0.5" effort="1" velocity="0.1"/></joint>
      <joint name="free" type="floating"><parent link="a"/><child link="c"/></joint></robot>"""
    urdf = parse_urdf(text)
    np.testing.assert_allclose(joint_transform(urdf.joints['slide'], 0.25).translation, [0, 0, 0.25])
    assert urdf.joints['slide'].limit.lower == 0.0
    with pytest.raises(ValueError, match='floating has no single-position transform'):
        joint_transform(urdf.joints['free'], 0.0)


def robot(body: str) -> str:
    return f'<robot name="r"><link name="a"/><link name="b"/>{body}</robot>'


def joint(kind='fixed', inner='<parent link="a"/><child link="b"/>', name='j'):
    return robot(f'<joint name="{name}" type="{kind}">{inner}</joint>')


@pytest.mark.parametrize(('text', 'message'), [
    ('', 'the URDF is empty'),
    ('<robot name="r"><link name="a"></robot>', 'not well-formed XML'),
    ('<model name="r"/>', r"root element is <model>, expected <robot>"),
    ('<robot><link name="a"/></robot>', '<robot> has no name attribute'),
    ('<robot name="r"/>', 'has no <link>'),
    ('<robot name="r"><link/></robot>', 'a <link> has no name attribute'),
    ('<robot name="r"><link name="a"/><link name="a"/></robot>', "link 'a' is defined twice"),
    (robot('<joint type="fixed"><parent link="a"/><child link="b"/></joint>'), 'a <joint> has no name'),
    (joint(kind='hinge'), "joint 'j' has type 'hinge'; expected one of revolute, continuous"),
    (joint(inner='<child link="b"/>'), r"joint 'j' has no <parent link=...>"),
    (joint(inner='<parent link="a"/><child link="z"/>'), "names child link 'z', which is not defined"),
    (joint(inner='<parent link="a"/><child link="a"/>'), "link 'a' as both parent and child"),
    (joint(inner='<parent link="a"/><child link="b"/><origin xyz="1 2"/>'),
     r'<origin xyz="1 2"> is not three finite numbers'),
    (joint(inner='<parent link="a"/><child link="b"/><origin rpy="0 x 0"/>'),
     r'<origin rpy="0 x 0"> is not three numbers'),
    (joint(inner='<parent link="a"/><child link="b"/><origin xyz="0 nan 0"/>'), 'not three finite numbers'),
    (joint(kind='revolute', inner='<parent link="a"/><child link="b"/>'),
     "revolute joint 'j' has no <limit>"),
    (joint(kind='continuous', inner='<parent link="a"/><child link="b"/><axis xyz="0 0 0"/>'),
     "joint 'j' has a zero axis"),
    (joint(kind='revolute', inner='<parent link="a"/><child link="b"/><limit lower="0" upper="1"/>'),
     '<limit> has no effort attribute'),
    (joint(kind='revolute',
           inner='<parent link="a"/><child link="b"/><limit upper="fast" effort="1" velocity="1"/>'),
     r'<limit upper="fast"> is not a number'),
    (joint(kind='revolute',
           inner='<parent link="a"/><child link="b"/><limit lower="1" upper="0" effort="1" velocity="1"/>'),
     'lower 1.0 is above upper 0.0'),
    (robot('<joint name="j" type="fixed"><parent link="a"/><child link="b"/></joint>'
           '<joint name="j" type="fixed"><parent link="b"/><child link="a"/></joint>'),
     "joint 'j' is defined twice"),
    ('<robot name="r"><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="a"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint></robot>',
     "link 'c' is the child of two joints"),
    (robot(''), r"one tree with one root link; roots found: \['a', 'b'\]"),
    ('<robot name="r"><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="b"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="c"/><child link="b"/></joint></robot>',
     "the joints form a loop through link"),
])
def test_malformed_urdf_is_refused_with_a_clear_error(text, message):
    with pytest.raises(UrdfError, match=message):
        parse_urdf(text)


def test_urdf_errors_are_value_errors():
    assert issubclass(UrdfError, ValueError)
