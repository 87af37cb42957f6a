"""Heartbeat talker and listener: the smallest node pair, used to test bringup end to end."""
from __future__ import annotations

from dataclasses import dataclass

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String, UInt32

from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos


@dataclass
class TalkerParams:
    rate: float = param(10.0, 'Heartbeat publish rate', unit='Hz', low=0.1, high=1000.0, read_only=True)
    log_every: int = param(10, 'Log every Nth heartbeat (the first is always logged)', low=1, high=100000)


class HeartbeatTalkerNode(Node):
    """Publishes 'heartbeat N' with a counter N starting at 1.

    Publishes: heartbeat (std_msgs/String, reliable depth 10) at ``rate`` Hz.
    Parameters: rate (Hz, read-only), log_every (messages; may be changed at run time).
    """

    def __init__(self, **kwargs):
        super().__init__('heartbeat_talker', **kwargs)
        self.params = declare_params(self, TalkerParams)
        watch_params(self, TalkerParams, lambda _new: None)    # log_every is read where it is used
        self._count = 0
        self._pub = self.create_publisher(String, 'heartbeat', command_qos())
        self.create_timer(1.0 / self.params.rate, self._step)

    def _step(self) -> None:
        self._count += 1
        self._pub.publish(String(data=f'heartbeat {self._count}'))
        if self._count == 1 or self._count % self.params.log_every == 0:
            self.get_logger().info(f'published heartbeat {self._count}')


@dataclass
class ListenerParams:
    log_every: int = param(10, 'Log every Nth heartbeat heard (the first is always logged)', low=1,
                           high=100000)


class HeartbeatListenerNode(Node):
    """Counts the heartbeats it hears and publishes the count.

    Subscribes: heartbeat (std_msgs/String).
    Publishes: heartbeat_count (std_msgs/UInt32, reliable depth 10): heartbeats heard by this process.
    Parameters: log_every (messages; may be changed at run time).
    """

    def __init__(self, **kwargs):
        super().__init__('heartbeat_listener', **kwargs)
        self.params = declare_params(self, ListenerParams)
        watch_params(self, ListenerParams, lambda _new: None)  # log_every is read where it is used
        self._count = 0
        self._pub = self.create_publisher(UInt32, 'heartbeat_count', command_qos())
        self.create_subscription(String, 'heartbeat', self._on_heartbeat, command_qos())

    def _on_heartbeat(self, msg: String) -> None:
        self._count += 1
        self._pub.publish(UInt32(data=self._count))
        if self._count == 1 or self._count % self.params.log_every == 0:
            self.get_logger().info(f'heard {msg.data!r} (count {self._count})')


def _spin(node_class) -> int:
    rclpy.init()
    node = None
    try:
        node = node_class()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def talker_main() -> int:
    return _spin(HeartbeatTalkerNode)


def listener_main() -> int:
    return _spin(HeartbeatListenerNode)
