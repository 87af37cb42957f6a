"""rover_container's command line: one --node group per node, each with its own ROS arguments."""
import pytest

from rover_stack.bringup.container import ContainerArgsError, node_class, parse_members
from rover_stack.executables import COMPONENTS


def test_groups_split_at_each_node_flag():
    argv = ['--node', 'cmd_arbitration', '--ros-args', '-r', '__node:=arb', '-p', 'rate:=5.0',
            '--node', 'static_tf_publisher', '--ros-args', '-r', '__node:=tf']
    assert parse_members(argv) == [('cmd_arbitration', ['--ros-args', '-r', '__node:=arb', '-p', 'rate:=5.0']),
                                   ('static_tf_publisher', ['--ros-args', '-r', '__node:=tf'])]


@pytest.mark.parametrize(('argv', 'message'), [
    ([], 'expected --node EXECUTABLE first'),
    (['--ros-args'], 'expected --node EXECUTABLE first'),
    (['--node'], '--node without an executable'),
    (['--node', 'cmd_arbitration', '--node'], '--node without an executable'),
    (['--node', 'web_bridge'], "'web_bridge' cannot run in a container"),
])
def test_malformed_command_lines_are_refused(argv, message):
    with pytest.raises(ContainerArgsError, match=message):
        parse_members(argv)


@pytest.mark.parametrize('executable', sorted(COMPONENTS))
def test_every_component_names_a_node_class(executable):
    cls = node_class(executable)
    assert cls.__name__ == COMPONENTS[executable].split(':')[1] and hasattr(cls, 'destroy_node')
