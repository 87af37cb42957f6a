"""rover_container as a process: two nodes, each with only its own ROS arguments, one clean stop."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import rclpy
from rcl_interfaces.srv import GetParameters

from rover_stack.testing.waiting import spin_until

MODULE = 'rover_stack.bringup.container'
MEMBERS = ['--node', 'static_tf_publisher', '--ros-args', '-r', '__ns:=/a', '-p', 'robot_config:=skid4',
           '--node', 'cmd_arbitration', '--ros-args', '-r', '__ns:=/b', '-p', 'use_sim_time:=true']


def start(argv):
    return subprocess.Popen([sys.executable, '-m', MODULE, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)


def use_sim_time(node, executor, fqn: str) -> bool:
    client = node.create_client(GetParameters, f'{fqn}/get_parameters')
    spin_until(executor, client.service_is_ready, 20.0, f'{fqn}/get_parameters')
    future = client.call_async(GetParameters.Request(names=['use_sim_time']))
    spin_until(executor, future.done, 10.0, f'use_sim_time of {fqn}')
    node.destroy_client(client)
    return future.result().values[0].bool_value


def test_two_nodes_share_a_process_with_their_own_arguments_and_stop_cleanly(ros_context):
    process = start(MEMBERS)
    node = rclpy.create_node('container_probe', context=ros_context)
    executor = rclpy.executors.SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        spin_until(executor, lambda: {('static_tf_publisher', '/a'), ('cmd_arbitration', '/b')}
                   <= set(node.get_node_names_and_namespaces()), 30.0, 'both nodes in the graph')
        assert use_sim_time(node, executor, '/b/cmd_arbitration') is True      # its -p only
        assert use_sim_time(node, executor, '/a/static_tf_publisher') is False
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15.0)
        assert process.returncode == 0, output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        executor.shutdown()
        node.destroy_node()


@pytest.mark.parametrize(('argv', 'code', 'message'), [
    (['--ros-args'], 2, 'expected --node EXECUTABLE first'),
    (['--node', 'web_bridge'], 2, "'web_bridge' cannot run in a container"),
    ([*MEMBERS[:7], '--node', 'cmd_arbitration', '--ros-args', '-p', 'rate:=-5.0'], 1, 'rate'),
])
def test_bad_command_lines_and_refused_parameters_fail_with_a_message(argv, code, message):
    process = start(argv)
    deadline = time.monotonic() + 30.0
    output, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    assert process.returncode == code and message in output, output
