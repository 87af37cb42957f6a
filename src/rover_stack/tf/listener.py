"""ROS side of the transform buffer: a listener filling a TransformBuffer from ``tf`` and
``tf_static``, and the two broadcasters. Topic names are relative, QoS matches tf2_ros so these
interoperate with tf2 tools and nodes:

* ``tf`` (tf2_msgs/TFMessage): reliable, volatile, keep last 100, for both listener and broadcaster.
* ``tf_static``: reliable, transient local. Listener keeps last 100; the static broadcaster keeps
  last 1 and republishes the union of every transform it was given, so a late subscriber gets them all.
"""
from __future__ import annotations

from collections.abc import Iterable

from geometry_msgs.msg import TransformStamped
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from rover_stack.tf.buffer import TransformBuffer
from rover_stack.tf.ros_conversions import StampedTransform, from_msg, to_msg
from rover_stack.tf.transform import Transform
from tf2_msgs.msg import TFMessage

TF_TOPIC = 'tf'
TF_STATIC_TOPIC = 'tf_static'
DROP_LOG_PERIOD_S = 5.0


def tf_qos() -> QoSProfile:
    """Dynamic transforms: reliable, volatile, keep last 100 (tf2_ros DynamicListenerQoS)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                      reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)


def tf_static_listener_qos() -> QoSProfile:
    """Static transforms, subscriber side: reliable, transient local, keep last 100."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                      reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def tf_static_broadcaster_qos() -> QoSProfile:
    """Static transforms, publisher side: reliable, transient local, keep last 1 (one message holds
    the union of all static transforms of that publisher)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                      reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class TransformListener:
    """Subscribes ``node`` to ``tf`` and ``tf_static`` and stores every valid transform in ``buffer``.

    The callbacks run on the node's executor, so the node must be spun. Invalid transforms (NaN,
    bad quaternion, empty frame, a second parent for a frame...) are dropped, counted in
    ``dropped`` and logged at most every 5 s; the rest of their message is still stored.
    """

    def __init__(self, node: Node, buffer: TransformBuffer):
        self.buffer = buffer
        self.received = 0
        self.dropped = 0
        self._node = node
        self._subscriptions = [
            node.create_subscription(TFMessage, TF_TOPIC, lambda m: self._on_message(m, False), tf_qos()),
            node.create_subscription(TFMessage, TF_STATIC_TOPIC, lambda m: self._on_message(m, True),
                                     tf_static_listener_qos()),
        ]

    def _on_message(self, msg: TFMessage, static: bool) -> None:
        for transform in msg.transforms:
            self.received += 1
            try:
                parent, child, stamp_ns, value = from_msg(transform)
                self.buffer.set_transform(parent, child, stamp_ns, value, static=static)
            except ValueError as error:
                self.dropped += 1
                self._node.get_logger().warning(
                    f"dropped {'static ' if static else ''}transform ({self.dropped} so far): {error}",
                    throttle_duration_sec=DROP_LOG_PERIOD_S)

    def destroy(self) -> None:
        """Remove the subscriptions from the node."""
        for subscription in self._subscriptions:
            self._node.destroy_subscription(subscription)
        self._subscriptions = []


def _validated(transforms: Iterable[TransformStamped | StampedTransform]) -> list[TransformStamped]:
    """Messages for ``transforms`` (messages or (parent, child, stamp_ns, Transform) tuples);
    ValueError before anything is published if one is invalid."""
    messages = []
    for item in transforms:
        msg = item if isinstance(item, TransformStamped) else to_msg(*item)
        from_msg(msg)
        messages.append(msg)
    return messages


class TransformBroadcaster:
    """Publishes dynamic transforms on ``tf``."""

    def __init__(self, node: Node):
        self._publisher = node.create_publisher(TFMessage, TF_TOPIC, tf_qos())

    def send(self, transforms: Iterable[TransformStamped | StampedTransform]) -> None:
        """Publish messages or (parent, child, stamp_ns, Transform) tuples in one TFMessage."""
        self._publisher.publish(TFMessage(transforms=_validated(transforms)))

    def send_transform(self, parent: str, child: str, stamp_ns: int, transform: Transform) -> None:
        self.send([(parent, child, stamp_ns, transform)])

    def subscription_count(self) -> int:
        """Subscriptions matched with this broadcaster's publisher."""
        return self._publisher.get_subscription_count()


class StaticTransformBroadcaster:
    """Publishes static transforms on ``tf_static``, latched. Each ``send`` adds to (or, for a child
    frame already sent, replaces in) the set kept so far and republishes the whole set."""

    def __init__(self, node: Node):
        self._publisher = node.create_publisher(TFMessage, TF_STATIC_TOPIC, tf_static_broadcaster_qos())
        self._by_child: dict[str, TransformStamped] = {}

    def send(self, transforms: Iterable[TransformStamped | StampedTransform]) -> None:
        """Add messages or (parent, child, stamp_ns, Transform) tuples and republish them all."""
        for msg in _validated(transforms):
            self._by_child[msg.child_frame_id] = msg
        self._publisher.publish(TFMessage(transforms=list(self._by_child.values())))

    def send_transform(self, parent: str, child: str, stamp_ns: int, transform: Transform) -> None:
        self.send([(parent, child, stamp_ns, transform)])

    def subscription_count(self) -> int:
        """Subscriptions matched with this broadcaster's publisher."""
        return self._publisher.get_subscription_count()

    @property
    def transforms(self) -> list[TransformStamped]:
        """Every transform published so far (the latched set)."""
        return list(self._by_child.values())
