"""Ctrl-C in a terminal ends the sim stack cleanly, under `ros2 launch` and under the runner.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group: under `ros2 launch` every node
gets it from the terminal and again from launch (and a user pressing twice adds a third); under the
runner the runner forwards it. Every node must end with exit code 0 and print no traceback.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest
import rclpy

from rover_stack.testing.waiting import spin_until

# nodes of the sim profile whose presence in the graph means the stack is up (processes and a container)
NODES = {'rover_simulator', 'drive_controller', 'cmd_arbitration', 'static_tf_publisher', 'navigator',
         'ekf_localization', 'aruco_detector', 'mission_executive', 'web_bridge'}
ARGS = ['course:=flat_easy', 'mission:=flat_easy', 'web_port:=0']
UP_TIMEOUT = 180.0     # s: a dozen Python processes importing on a loaded 2-core machine
EXIT_TIMEOUT = 60.0    # s


def _commands():
    yield pytest.param(['rover_runner', 'sim', *(f'--arg={arg}' for arg in ARGS)], id='runner')
    launch = pytest.mark.skipif(shutil.which('ros2') is None, reason='no ros2 command line (make setup builds '
                                'it from ../shared/ros2-jazzy-tools or ros2-jazzy-tools.repos)')
    yield pytest.param(['ros2', 'launch', 'rover_stack', 'sim.launch.py', *ARGS], id='ros2_launch',
                       marks=launch)


@pytest.mark.timeout(UP_TIMEOUT + EXIT_TIMEOUT + 60)
@pytest.mark.parametrize('command', _commands())
def test_ctrl_c_twice_ends_every_node_with_0_and_no_traceback(command, ros_context, tmp_path):
    log = tmp_path / 'stack.log'
    env = dict(os.environ, ROS_HOME=str(tmp_path), ROS_LOG_DIR=str(tmp_path / 'log'), PYTHONUNBUFFERED='1')
    with open(log, 'wb') as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True)   # its own group, as in a terminal
    probe = rclpy.create_node('ctrl_c_probe', context=ros_context)
    executor = rclpy.executors.SingleThreadedExecutor(context=ros_context)
    executor.add_node(probe)
    try:
        spin_until(executor, lambda: NODES <= set(probe.get_node_names()) or process.poll() is not None,
                   UP_TIMEOUT, 'every node of the sim profile in the graph')
        assert process.poll() is None, f'{command[0]} ended early:\n{log.read_text()[-3000:]}'
        os.killpg(process.pid, signal.SIGINT)     # Ctrl-C ...
        time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)     # ... and once more
        code = process.wait(timeout=EXIT_TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        executor.shutdown()
        probe.destroy_node()
    text = log.read_text(errors='replace')
    assert 'Traceback' not in text and 'KeyboardInterrupt' not in text, text[-6000:]
    assert code == 0, text[-3000:]
    if command[0] == 'ros2':
        finished = text.count('process has finished cleanly')
        assert 'process has died' not in text and finished >= 8, text[-3000:]
    else:
        stops = [line for line in text.splitlines() if ' stopped (code ' in line]
        assert len(stops) >= 8 and all(line.endswith('stopped (code 0)') for line in stops), '\n'.join(stops)
        assert 'SIGKILL' not in text, text[-3000:]
