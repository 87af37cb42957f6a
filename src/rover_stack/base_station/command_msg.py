"""The base station's drive command message: one TwistStamped in base_link (m/s, rad/s)."""
from __future__ import annotations

from geometry_msgs.msg import TwistStamped


def base_link_twist(stamp, linear: float, angular: float) -> TwistStamped:
    """A TwistStamped in base_link: linear.x = ``linear`` m/s, angular.z = ``angular`` rad/s."""
    msg = TwistStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = 'base_link'
    msg.twist.linear.x, msg.twist.angular.z = float(linear), float(angular)
    return msg
