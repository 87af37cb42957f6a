"""Node ``joystick_teleop``: drive with a game controller through pygame (no window needed)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from geometry_msgs.msg import TwistStamped
from rclpy.node import Node

from rover_stack.base_station.command_msg import base_link_twist, publish_final_zero
from rover_stack.base_station.teleop_mapping import AxisMapping, Speeds, joystick_command
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos


@dataclass
class JoystickParams:
    topic: str = param('joystick/cmd_vel', 'Arbitration source to publish on', read_only=True)
    rate: float = param(20.0, 'Polling and publishing rate', unit='Hz', low=1.0, high=100.0, read_only=True)
    device_index: int = param(0, 'pygame joystick index', low=0, high=16, read_only=True)
    linear_axis: int = param(1, 'Axis for forward speed', low=0, high=32)
    angular_axis: int = param(0, 'Axis for turn rate', low=0, high=32)
    invert_linear: bool = param(True, 'Negate the linear axis (stick up reads -1 on most pads)')
    invert_angular: bool = param(True, 'Negate the angular axis (left = counter-clockwise)')
    enable_button: int = param(4, 'Deadman button: no motion unless held', low=0, high=64)
    turbo_button: int = param(5, 'Turbo button', low=0, high=64)
    deadzone: float = param(0.1, 'Axis dead zone (fraction of full scale)', low=0.0, high=0.9)
    linear: float = param(0.5, 'Normal full-stick speed', unit='m/s', low=0.0, high=5.0)
    angular: float = param(1.0, 'Normal full-stick turn rate', unit='rad/s', low=0.0, high=10.0)
    turbo_linear: float = param(1.0, 'Turbo full-stick speed', unit='m/s', low=0.0, high=5.0)
    turbo_angular: float = param(2.0, 'Turbo full-stick turn rate', unit='rad/s', low=0.0, high=10.0)


class JoystickTeleopNode(Node):
    """Polls a joystick and publishes the command while the enable button is held.

    Publishes ``joystick/cmd_vel`` (geometry_msgs/TwistStamped, reliable; param ``topic``) at ``rate`` Hz:
    zero without the enable button, one zero and silence when the joystick disconnects, zero on exit.
    Parameters: JoystickParams (axis mapping from config/base_station.yaml; speeds m/s, rad/s); all but
    topic, rate and device_index may be changed at run time (``ros2 param set``).
    """

    def __init__(self, **kwargs):
        super().__init__('joystick_teleop', **kwargs)
        os.environ.setdefault('SDL_VIDEODRIVER', 'dummy')
        os.environ.setdefault('PYGAME_HIDE_SUPPORT_PROMPT', '1')
        import pygame  # noqa: PLC0415 - pygame: after its environment is set
        self._pygame = pygame
        self.params = declare_params(self, JoystickParams)
        self._retune(self.params)
        watch_params(self, JoystickParams, self._retune)
        p = self.params
        pygame.init()
        pygame.joystick.init()
        self._stick = None
        self._pub = self.create_publisher(TwistStamped, p.topic, command_qos())
        self.create_timer(1.0 / p.rate, self._step)

    def _retune(self, new: JoystickParams) -> None:
        """The axis mapping and speeds from the parameters (at start, and on ``ros2 param set``)."""
        self.mapping = AxisMapping(new.linear_axis, new.angular_axis, new.invert_linear, new.invert_angular,
                                   new.enable_button, new.turbo_button, new.deadzone)
        self.speeds = Speeds(new.linear, new.angular, new.turbo_linear, new.turbo_angular)

    def _connect(self) -> None:
        pygame = self._pygame
        if pygame.joystick.get_count() > self.params.device_index:
            self._stick = pygame.joystick.Joystick(self.params.device_index)
            self._stick.init()
            self.get_logger().info(f'joystick connected: {self._stick.get_name()}')

    def _step(self) -> None:
        pygame = self._pygame
        for event in pygame.event.get():
            if event.type == pygame.JOYDEVICEREMOVED and self._stick is not None:
                self.get_logger().warning('joystick disconnected: stopping')
                self._stick = None
                self.publish((0.0, 0.0))
        if self._stick is None:
            self._connect()
            return
        axes = [self._stick.get_axis(i) for i in range(self._stick.get_numaxes())]
        buttons = [self._stick.get_button(i) for i in range(self._stick.get_numbuttons())]
        self.publish(joystick_command(axes, buttons, self.mapping, self.speeds))

    def publish(self, command: tuple[float, float]) -> None:
        self._pub.publish(base_link_twist(self.get_clock().now().to_msg(), *command))

    def publish_final_zero(self) -> None:
        """The zero on exit, delivered before the process ends (see command_msg.publish_final_zero)."""
        publish_final_zero(self, self._pub)

    def destroy_node(self) -> None:
        self._pygame.quit()
        super().destroy_node()


def main(args=None) -> int:
    # Signals raise KeyboardInterrupt with the context still valid, so the zero twist on exit is sent.
    return run_node(JoystickTeleopNode, 'joystick_teleop', args, graceful_signals=True,
                    before_destroy=lambda node: node.publish_final_zero())


if __name__ == '__main__':
    raise SystemExit(main())
