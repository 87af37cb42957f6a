"""ros2msg definitions for the Foxglove bridge: parsing field types and concatenating .msg files."""
from __future__ import annotations

import pytest

from rover_stack.base_station.foxglove_channels import relayed_topics
from rover_stack.base_station.ros2msg_schema import (
    SEPARATOR,
    SchemaError,
    ament_prefixes,
    field_types,
    message_definition,
    split_type,
)


@pytest.fixture
def share(tmp_path):
    """A fake ament prefix with three packages."""
    def write(package, name, text):
        path = tmp_path / 'share' / package / 'msg' / f'{name}.msg'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    write('pkg', 'Outer', '# comment line\nuint8 MODE_A = 1  # a constant\nstd_msgs/Header header\n'
          'Inner[] items\nInner[<=3] bounded\nstring<=10 label\nfloat64[36] covariance\n')
    write('pkg', 'Inner', 'builtin_interfaces/Time stamp\nint32 value\n')
    write('std_msgs', 'Header', 'builtin_interfaces/Time stamp\nstring frame_id\n')
    write('builtin_interfaces', 'Time', 'int32 sec\nuint32 nanosec\n')
    return [tmp_path]


@pytest.mark.parametrize(('name', 'expected'), [('nav_msgs/msg/Odometry', ('nav_msgs', 'Odometry')),
                                                 ('std_msgs/Header', ('std_msgs', 'Header'))])
def test_split_type(name, expected):
    assert split_type(name) == expected


@pytest.mark.parametrize('name', ['Odometry', 'a/b/c/d', 'nav_msgs/srv/X', '/Odometry'])
def test_split_type_refuses_other_shapes(name):
    with pytest.raises(SchemaError):
        split_type(name)


def test_field_types_skip_primitives_constants_and_comments():
    text = ('uint8 RED = 1\n# Header header\nHeader header\nfloat64[] x\nstring<=8 s\n'
            'geometry_msgs/msg/Pose[<=2] poses\nLocal local  # same package\n')
    assert field_types(text, 'pkg') == ['std_msgs/Header', 'geometry_msgs/Pose', 'pkg/Local']


def test_field_types_refuse_a_line_they_cannot_read():
    with pytest.raises(SchemaError):
        field_types('9lives x\n', 'pkg')


def test_definition_lists_each_dependency_once_depth_first(share):
    text = message_definition('pkg/msg/Outer', share)
    headers = [line for line in text.splitlines() if line.startswith('MSG: ')]
    assert headers == ['MSG: std_msgs/Header', 'MSG: builtin_interfaces/Time', 'MSG: pkg/Inner']
    assert text.startswith('# comment line\nuint8 MODE_A = 1')
    assert text.count(SEPARATOR) == 3


def test_missing_dependency_is_a_clear_error(share):
    (share[0] / 'share' / 'builtin_interfaces' / 'msg' / 'Time.msg').unlink()
    with pytest.raises(SchemaError, match='builtin_interfaces/Time'):
        message_definition('pkg/msg/Outer', share)


def test_ament_prefixes_split_the_path():
    assert [str(p) for p in ament_prefixes({'AMENT_PREFIX_PATH': '/a:/b::'})] == ['/a', '/b']
    assert ament_prefixes({}) == []


@pytest.mark.parametrize('relayed', relayed_topics(camera=True), ids=lambda r: r.topic)
def test_every_relayed_type_has_a_definition_in_this_environment(relayed):
    text = message_definition(relayed.type_name)
    assert text and 'MSG: ' + relayed.type_name.replace('/msg/', '/') not in text


@pytest.mark.parametrize('type_name', ['nav_msgs/msg/Odometry', 'sensor_msgs/msg/NavSatFix', 'nav_msgs/msg/Path'])
def test_dependency_order_matches_rosbags(type_name):
    typesys = pytest.importorskip('rosbags.typesys')
    theirs = typesys.get_typestore(typesys.Stores.ROS2_JAZZY).generate_msgdef(type_name, ros_version=2)[0]
    ours = message_definition(type_name)
    assert [ln for ln in ours.splitlines() if ln.startswith('MSG: ')] == \
        [ln for ln in theirs.splitlines() if ln.startswith('MSG: ')]
