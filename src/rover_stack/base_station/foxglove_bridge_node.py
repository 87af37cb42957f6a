"""Node ``foxglove_bridge``: the page's telemetry on a read-only Foxglove WebSocket server (optional).

Needs the PyPI package ``foxglove-sdk``. Open Foxglove, "Open connection", ``ws://127.0.0.1:8765``.
"""
from __future__ import annotations

import importlib
import queue
import time
from dataclasses import dataclass
from functools import partial

from rclpy.logging import get_logger
from rclpy.node import Node

from rover_stack.base_station.foxglove_channels import RelayedTopic, relayed_topics
from rover_stack.base_station.ros2msg_schema import SchemaError, message_definition
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import by_name

try:
    import foxglove
    from foxglove.websocket import ServerListener
except ImportError:   # an optional dependency: main() says what is missing
    foxglove = None
    ServerListener = object

NODE_NAME = 'foxglove_bridge'


@dataclass
class FoxgloveParams:
    host: str = param('127.0.0.1', 'Address to bind; 0.0.0.0 only on a trusted LAN', read_only=True)
    port: int = param(8765, 'TCP port of the Foxglove WebSocket (0: any free port)', low=0, high=65535,
                      read_only=True)
    camera_rate: float = param(0.0, 'Camera frames relayed (raw images: keep it low on a radio link; '
                               '0 = no camera channel)', unit='Hz', low=0.0, high=30.0, read_only=True)


class _Listener(ServerListener):
    """Foxglove server callbacks (server thread): only note which channel got a new subscriber."""

    def __init__(self, subscribed: queue.SimpleQueue):
        self._subscribed = subscribed

    def on_subscribe(self, _client, channel) -> None:
        self._subscribed.put(channel.id)


class FoxgloveBridgeNode(Node):
    """Relays the base-station telemetry, unchanged, to Foxglove clients; accepts nothing from them.

    Subscribes (serialized, not deserialized) to the topics of ``foxglove_channels.TELEMETRY``:
      ``odom``, ``odometry/filtered`` (nav_msgs/Odometry), ``gnss/fix``, ``datum`` (sensor_msgs/NavSatFix),
      ``battery`` (sensor_msgs/BatteryState), ``active_source`` (std_msgs/String), ``status_light``
      (StatusLight), ``mission/status`` (MissionStatus), ``estop_state``, ``base_station/lock``
      (std_msgs/Bool), ``markers``, ``objects`` (MarkerDetectionArray), ``gates`` (GateDetection),
      ``plan`` (nav_msgs/Path), and ``camera/image_raw`` (sensor_msgs/Image) when ``camera_rate`` > 0.
    Serves a Foxglove WebSocket (subprotocol foxglove.sdk.v1, the renamed foxglove.websocket.v1) on
    ``host``:``port`` with one channel per topic, named by the fully qualified topic, CDR-encoded, with
    the ``ros2msg`` schema, so Foxglove decodes and plots them as from its own ROS bridge. No
    capabilities are advertised: clients cannot publish, call services or set parameters. The latest
    message of each latched topic is sent again when a client subscribes.
    Parameters: see FoxgloveParams (host, port, camera_rate Hz).
    """

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        p = self.params = declare_params(self, FoxgloveParams)
        self._fox_context = foxglove.Context()
        self._subscribed: queue.SimpleQueue = queue.SimpleQueue()
        self._latest: dict[int, bytes] = {}          # channel id -> last latched message (CDR)
        self._fox_channels: dict[int, foxglove.Channel] = {}
        self._last_frame = 0.0
        for relayed in relayed_topics(camera=p.camera_rate > 0):
            self._relay(relayed)
        try:
            self._server = foxglove.start_server(
                name='rover_stack', host=p.host, port=p.port, capabilities=[], context=self._fox_context,
                server_listener=_Listener(self._subscribed))
        except RuntimeError as error:   # the SDK's error for a bad address or a taken port
            raise ValueError(f'foxglove server on {p.host}:{p.port} did not start: {error}') from error
        self.port = self._server.port
        self.create_timer(0.1, self._step)
        self.get_logger().info(f'foxglove_bridge serving {len(self._fox_channels)} channels on '
                               f'ws://{p.host}:{self.port} (read-only)')

    def _relay(self, relayed: RelayedTopic) -> None:
        try:
            definition = message_definition(relayed.type_name)
            package, _, name = relayed.type_name.split('/')
            msg_class = getattr(importlib.import_module(f'{package}.msg'), name)
        except (SchemaError, ImportError, AttributeError) as error:
            self.get_logger().error(f'{relayed.topic}: not relayed ({error})')
            return
        channel = foxglove.Channel(
            self.resolve_topic_name(relayed.topic), message_encoding='cdr', context=self._fox_context,
            schema=foxglove.Schema(name=relayed.type_name, encoding='ros2msg', data=definition.encode()))
        self.create_subscription(msg_class, relayed.topic, partial(self._on_message, channel, relayed),
                                 by_name(relayed.qos), raw=True)
        self._fox_channels[channel.id()] = channel

    def _on_message(self, channel: foxglove.Channel, relayed: RelayedTopic, data: bytes) -> None:
        # A relay: forwarded at once (nothing is computed), the latched ones also kept for new clients.
        if relayed.qos == 'image':
            now = time.monotonic()
            if now - self._last_frame < 1.0 / self.params.camera_rate:
                return
            self._last_frame = now
        if relayed.latched:
            self._latest[channel.id()] = data
        channel.log(data, log_time=self.get_clock().now().nanoseconds)

    def _step(self) -> None:
        """Send the current state of latched topics to channels that got a new subscriber."""
        while True:
            try:
                channel_id = self._subscribed.get_nowait()
            except queue.Empty:
                return
            data = self._latest.get(channel_id)
            if data is not None:
                self._fox_channels[channel_id].log(data, log_time=self.get_clock().now().nanoseconds)

    def latched_topics(self) -> set[str]:
        """Foxglove topics of the latched states received so far (sent to each new subscriber)."""
        return {self._fox_channels[i].topic() for i in list(self._latest)}

    def destroy_node(self) -> None:
        self._server.stop()
        for channel in self._fox_channels.values():
            channel.close()
        super().destroy_node()


def main(args=None) -> int:
    if foxglove is None:
        get_logger(NODE_NAME).error('the PyPI package foxglove-sdk is needed (requirements/python.in)')
        return 1
    return run_node(FoxgloveBridgeNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
