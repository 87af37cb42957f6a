"""keyboard_teleop in a pseudo-terminal, as an operator runs it: keys drive, release stops after the
deadman time, Ctrl-C quits with a last zero twist; without a terminal it refuses to start (exit 1)."""
import os
import pty
import subprocess
import sys

import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor

from rover_stack.common.qos import command_qos
from rover_stack.testing.waiting import spin_until, stop_process

MODULE = 'rover_stack.base_station.keyboard_teleop_node'


def test_keys_drive_release_stops_and_ctrl_c_sends_a_last_zero(ros_context):
    namespace = f'/keyboard_test_{os.getpid()}'
    node = rclpy.create_node('keyboard_probe', namespace=namespace, context=ros_context)
    twists = []
    node.create_subscription(TwistStamped, 'joystick/cmd_vel', twists.append, command_qos(100))
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, '-m', MODULE, '--ros-args', '-r', f'__ns:={namespace}',
                                '-p', 'deadman:=0.3'], stdin=terminal, stdout=subprocess.DEVNULL)
    os.close(terminal)
    try:
        spin_until(executor, lambda: twists, 30.0, 'the first (zero) twist')
        assert twists[-1].twist.linear.x == 0.0 and twists[-1].header.frame_id == 'base_link'

        def pressed():
            os.write(controller, b'w')                   # a held key repeats
            return any(t.twist.linear.x == 0.5 for t in twists)
        spin_until(executor, pressed, 30.0, 'w to drive forward at 0.5 m/s')
        twists.clear()                                   # released: zero after the 0.3 s deadman
        spin_until(executor, lambda: twists and twists[-1].twist.linear.x == 0.0, 30.0, 'zero after release')
        os.write(controller, b'W')                       # turbo, then Ctrl-C right away
        spin_until(executor, lambda: any(t.twist.linear.x == 1.0 for t in twists), 30.0, 'W for turbo 1 m/s')
        twists.clear()
        os.write(controller, b'\x03')
        assert process.wait(timeout=30.0) == 0
        spin_until(executor, lambda: twists and twists[-1].twist.linear.x == 0.0, 30.0, 'the zero on exit')
    finally:
        stop_process(process)
        os.close(controller)
        executor.shutdown()
        node.destroy_node()


def test_without_a_terminal_it_refuses_to_start():
    result = subprocess.run([sys.executable, '-m', MODULE], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=60.0)
    assert result.returncode == 1
    assert 'needs a terminal on stdin' in result.stderr
