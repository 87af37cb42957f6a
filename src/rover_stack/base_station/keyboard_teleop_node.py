"""Node ``keyboard_teleop``: drive from a terminal (raw mode), with deadman, turbo and zero on exit."""
from __future__ import annotations

import os
import select
import signal
import sys
import termios
import time
import tty
from dataclasses import dataclass

import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from rover_stack.base_station.command_msg import base_link_twist, publish_final_zero
from rover_stack.base_station.teleop_mapping import Deadman, Speeds, key_command
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos

HELP = ('keyboard_teleop: w/s forward/back, a/d turn, q/e/z/c arcs, arrows too; capitals = turbo; '
        'space = stop; Ctrl-C quits. Release = stop after the deadman time.')


@dataclass
class KeyboardParams:
    topic: str = param('joystick/cmd_vel', 'Arbitration source to publish on', read_only=True)
    rate: float = param(20.0, 'Publishing rate', unit='Hz', low=1.0, high=100.0, read_only=True)
    deadman: float = param(0.3, 'Key silence that zeroes the command', unit='s', low=0.05, high=2.0)
    linear: float = param(0.5, 'Normal speed', unit='m/s', low=0.0, high=5.0)
    angular: float = param(1.0, 'Normal turn rate', unit='rad/s', low=0.0, high=10.0)
    turbo_linear: float = param(1.0, 'Turbo speed', unit='m/s', low=0.0, high=5.0)
    turbo_angular: float = param(2.0, 'Turbo turn rate', unit='rad/s', low=0.0, high=10.0)


class KeyboardTeleopNode(Node):
    """Reads keys from stdin and publishes the command.

    Publishes ``joystick/cmd_vel`` (geometry_msgs/TwistStamped, reliable; param ``topic``) at ``rate`` Hz;
    zero when no key came for ``deadman`` s, and a zero twist on exit.
    Parameters: KeyboardParams (speeds in m/s and rad/s); the speeds and ``deadman`` may be changed at
    run time (``ros2 param set``).
    """

    def __init__(self, **kwargs):
        super().__init__('keyboard_teleop', **kwargs)
        p = self.params = declare_params(self, KeyboardParams)
        self.speeds = Speeds(p.linear, p.angular, p.turbo_linear, p.turbo_angular)
        self.deadman = Deadman(p.deadman)
        watch_params(self, KeyboardParams, self._retune)
        self._pub = self.create_publisher(TwistStamped, p.topic, command_qos())

    def _retune(self, new: KeyboardParams) -> None:
        """``ros2 param set`` of the speeds or the deadman time: used from the next key on."""
        self.speeds = Speeds(new.linear, new.angular, new.turbo_linear, new.turbo_angular)
        self.deadman.hold = new.deadman

    def publish(self, command: tuple[float, float]) -> None:
        self._pub.publish(base_link_twist(self.get_clock().now().to_msg(), *command))

    def publish_final_zero(self) -> None:
        """The zero on exit, delivered before the process ends (see command_msg.publish_final_zero)."""
        publish_final_zero(self, self._pub)


def _read_key(fd: int, timeout: float) -> str | None:
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return None
    key = os.read(fd, 3).decode(errors='ignore')
    return key or None


def main(args=None) -> int:
    # No rclpy signal handler: SIGINT/SIGTERM raise KeyboardInterrupt with the context still valid,
    # so the zero twist on exit can still be published.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    node = KeyboardTeleopNode()
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        node.get_logger().error('keyboard_teleop needs a terminal on stdin')
        node.destroy_node()
        rclpy.try_shutdown()
        return 1
    saved = termios.tcgetattr(fd)
    node.get_logger().info(HELP)
    period = 1.0 / node.params.rate
    try:
        tty.setraw(fd)
        next_tick = time.monotonic()
        while rclpy.ok():
            key = _read_key(fd, max(0.0, next_tick - time.monotonic()))
            now = time.monotonic()
            if key == '\x03':
                break
            if key is not None and (command := key_command(key, node.speeds)) is not None:
                node.deadman.press(command, now)
            if now >= next_tick:
                node.publish(node.deadman.command(now))
                next_tick = now + period
                rclpy.spin_once(node, timeout_sec=0.0)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if rclpy.ok():
            node.publish_final_zero()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
