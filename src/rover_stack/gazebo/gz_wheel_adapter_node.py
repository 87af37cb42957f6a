"""ROS 2 node gz_wheel_adapter: contract joint commands -> one std_msgs/Float64 per Gazebo joint."""
from __future__ import annotations

from dataclasses import dataclass

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.logging import get_logger
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, Float64

from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.description.geometry import load_robot_geometry
from rover_stack.gazebo.bridge_config import command_topic
from rover_stack.gazebo.wheel_adapter import CommandSplitter

NODE_NAME = 'gz_wheel_adapter'


@dataclass
class WheelAdapterParams:
    robot_config: str = param('skid4', 'Robot variant (skid4, skid6, corner6) or robot yaml path: joint '
                              'names and limits', read_only=True)
    rate: float = param(50.0, 'Rate of the per-joint commands', unit='Hz', low=5.0, high=500.0,
                        read_only=True)
    command_timeout: float = param(0.5, 'No wheel_commands for this long: the wheels are commanded to 0',
                                   unit='s', low=0.05, high=5.0, read_only=True)
    estop_period: float = param(1.0, 'Period of the hardware_estop heartbeat (always false in Gazebo); '
                                '0 = do not publish', unit='s', low=0.0, high=10.0, read_only=True)


class GzWheelAdapterNode(Node):
    """Stands in for the motor controller between the contract and Gazebo's joint controllers.

    Subscribes:
      * ``wheel_commands`` (sensor_msgs/JointState, reliable): name + velocity (rad/s) per wheel joint.
      * ``steering_commands`` (sensor_msgs/JointState, reliable): name + position (rad); corner only.
    Publishes (every 1/``rate`` s; bridged to Gazebo by config/gz_bridge.yaml):
      * ``gz/<wheel joint>/cmd_vel`` (std_msgs/Float64, rad/s, reliable): 0 after ``command_timeout``.
      * ``gz/<steering joint>/cmd_pos`` (std_msgs/Float64, rad, reliable): last angle held.
      * ``hardware_estop`` (std_msgs/Bool, latched): false every ``estop_period`` s (no button in Gazebo).
    Parameters: ``WheelAdapterParams`` (robot_config, rate Hz, command_timeout s, estop_period s).
    A refused command (unknown joint, NaN, over the limit) is logged and ignored; zeros go out on exit.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, WheelAdapterParams)
        try:
            geometry = load_robot_geometry(p.robot_config)
        except ValueError as error:
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.splitter = CommandSplitter(geometry.wheel_joints, geometry.steering_joints,
                                        timeout=p.command_timeout, max_wheel_speed=geometry.max_wheel_speed,
                                        max_steering_angle=geometry.max_steering_angle)
        self._wheel_pubs = {j: self.create_publisher(Float64, command_topic(j, False), command_qos())
                            for j in geometry.wheel_joints}
        self._steer_pubs = {j: self.create_publisher(Float64, command_topic(j, True), command_qos())
                            for j in geometry.steering_joints}
        self.create_subscription(JointState, 'wheel_commands', self._on_wheels, command_qos())
        if geometry.steering_joints:
            self.create_subscription(JointState, 'steering_commands', self._on_steering, command_qos())
        self.create_timer(1.0 / p.rate, self._step)
        if p.estop_period > 0.0:
            self._estop_pub = self.create_publisher(Bool, 'hardware_estop', latched_qos())
            self._estop_pub.publish(Bool(data=False))
            self.create_timer(p.estop_period, lambda: self._estop_pub.publish(Bool(data=False)))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_wheels(self, msg: JointState) -> None:
        error = self.splitter.on_wheel_command(list(msg.name), list(msg.velocity), self._now())
        if error:
            self.get_logger().warning(f'wheel_commands refused: {error}', throttle_duration_sec=1.0)

    def _on_steering(self, msg: JointState) -> None:
        error = self.splitter.on_steering_command(list(msg.name), list(msg.position))
        if error:
            self.get_logger().warning(f'steering_commands refused: {error}', throttle_duration_sec=1.0)

    def _step(self) -> None:
        for joint, value in self.splitter.wheel_setpoints(self._now()).items():
            self._wheel_pubs[joint].publish(Float64(data=value))
        for joint, value in self.splitter.steering_setpoints().items():
            self._steer_pubs[joint].publish(Float64(data=value))

    def stop(self) -> None:
        """Command every wheel to 0 (on shutdown)."""
        for publisher in self._wheel_pubs.values():
            publisher.publish(Float64(data=0.0))


def main(args=None) -> int:
    rclpy.init(args=args)
    node = None
    try:
        node = GzWheelAdapterNode()
        rclpy.spin(node)
    except ValueError as error:
        get_logger(NODE_NAME).error(str(error))
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            if rclpy.ok():
                node.stop()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
