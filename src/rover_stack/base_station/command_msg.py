"""The base station's drive command message: one TwistStamped in base_link (m/s, rad/s)."""
from __future__ import annotations

from geometry_msgs.msg import TwistStamped
from rclpy.duration import Duration

#: Longest wait (s) for the subscribers to acknowledge the zero a teleop node sends as it exits.
FINAL_ZERO_WAIT = 1.0


def base_link_twist(stamp, linear: float, angular: float) -> TwistStamped:
    """A TwistStamped in base_link: linear.x = ``linear`` m/s, angular.z = ``angular`` rad/s."""
    msg = TwistStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = 'base_link'
    msg.twist.linear.x, msg.twist.angular.z = float(linear), float(angular)
    return msg


def publish_final_zero(node, publisher) -> bool:
    """Publish a zero twist and wait (at most FINAL_ZERO_WAIT s) until every reliable subscriber has it:
    the process ends right after, and a zero still in flight would be lost with it. False on timeout."""
    publisher.publish(base_link_twist(node.get_clock().now().to_msg(), 0.0, 0.0))
    return publisher.wait_for_all_acked(Duration(seconds=FINAL_ZERO_WAIT))
