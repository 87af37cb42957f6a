"""geometry_msgs/TransformStamped <-> (parent, child, stamp_ns, Transform), validating what comes in.

Incoming quaternions within 1e-3 of unit length are normalised; anything else (NaN, inf, zero or far
from unit length) is refused with ValueError, as are empty or slash-prefixed frame ids and invalid
stamps. Uses message types only, no rclpy node machinery.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose, TransformStamped

from rover_stack.tf.transform import Transform
from tf2_msgs.msg import TFMessage

NS_PER_S = 1_000_000_000

StampedTransform = tuple[str, str, int, Transform]


def stamp_to_ns(stamp: Time) -> int:
    """builtin_interfaces/Time as int ns; ValueError if negative or nanosec is out of range."""
    if not 0 <= stamp.nanosec < NS_PER_S:
        raise ValueError(f'stamp nanosec={stamp.nanosec} is outside [0, 1e9)')
    if stamp.sec < 0:
        raise ValueError(f'stamp sec={stamp.sec} is negative')
    return stamp.sec * NS_PER_S + stamp.nanosec


def ns_to_stamp(stamp_ns: int) -> Time:
    """int ns as builtin_interfaces/Time."""
    if stamp_ns < 0:
        raise ValueError(f'stamp_ns={stamp_ns} is negative')
    sec, nanosec = divmod(int(stamp_ns), NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)


def from_msg(msg: TransformStamped) -> StampedTransform:
    """(parent frame, child frame, stamp in ns, T_parent_child) of a TransformStamped.

    Raises ValueError naming the frames for anything invalid.
    """
    parent, child = msg.header.frame_id, msg.child_frame_id
    try:
        for role, frame in (('header.frame_id', parent), ('child_frame_id', child)):
            if not frame:
                raise ValueError(f'{role} is empty')
            if frame.startswith('/'):
                raise ValueError(f"{role} '{frame}' starts with '/'")
        if parent == child:
            raise ValueError('header.frame_id equals child_frame_id')
        t, q = msg.transform.translation, msg.transform.rotation
        translation = (t.x, t.y, t.z)
        if not all(math.isfinite(v) for v in translation):
            raise ValueError(f'translation {translation} is not finite')
        transform = Transform(translation, (q.x, q.y, q.z, q.w))
        stamp_ns = stamp_to_ns(msg.header.stamp)
    except ValueError as error:
        raise ValueError(f"invalid transform '{parent}' -> '{child}': {error}") from None
    return parent, child, stamp_ns, transform


def to_msg(parent: str, child: str, stamp_ns: int, transform: Transform) -> TransformStamped:
    """TransformStamped with header.frame_id=parent, child_frame_id=child."""
    msg = TransformStamped()
    msg.header.frame_id = parent
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.child_frame_id = child
    (x, y, z), (qx, qy, qz, qw) = transform.as_tuple()
    msg.transform.translation.x, msg.transform.translation.y, msg.transform.translation.z = x, y, z
    r = msg.transform.rotation
    r.x, r.y, r.z, r.w = qx, qy, qz, qw
    return msg


def to_tf_message(transforms: Iterable[StampedTransform]) -> TFMessage:
    """A TFMessage holding every (parent, child, stamp_ns, transform)."""
    return TFMessage(transforms=[to_msg(*t) for t in transforms])


def pose_msg(transform: Transform) -> Pose:
    """geometry_msgs/Pose of a transform (m, quaternion x, y, z, w)."""
    (x, y, z), (qx, qy, qz, qw) = transform.as_tuple()
    msg = Pose()
    msg.position.x, msg.position.y, msg.position.z = x, y, z
    msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w = qx, qy, qz, qw
    return msg
