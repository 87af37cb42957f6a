"""joystick_teleop without a joystick (SDL dummy drivers): it starts headless and commands nothing."""
from __future__ import annotations

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor

from rover_stack.base_station.joystick_teleop_node import JoystickTeleopNode
from rover_stack.common.qos import command_qos
from rover_stack.testing.waiting import spin_for, spin_until

pytest.importorskip('pygame')


def test_joystick_teleop_without_joystick_publishes_nothing(ros_context, monkeypatch):
    monkeypatch.setenv('SDL_VIDEODRIVER', 'dummy')
    monkeypatch.setenv('SDL_JOYSTICK_DEVICE', '/nonexistent')
    teleop = JoystickTeleopNode(context=ros_context)
    probe = rclpy.create_node('joystick_probe', context=ros_context)
    got = []
    probe.create_subscription(TwistStamped, 'joystick/cmd_vel', got.append, command_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(teleop)
    executor.add_node(probe)
    try:
        spin_until(executor, lambda: teleop.count_subscribers('joystick/cmd_vel') > 0, 5.0, 'discovery')
        spin_for(executor, 0.5)
        assert got == [], 'commanded without a joystick'
        teleop.publish((0.0, 0.0))   # the zero sent on exit reaches the arbitration topic
        spin_until(executor, lambda: got, 3.0, 'the zero twist')
        assert got[-1].twist.linear.x == 0.0 and got[-1].header.frame_id == 'base_link'
    finally:
        executor.shutdown()
        probe.destroy_node()
        teleop.destroy_node()
