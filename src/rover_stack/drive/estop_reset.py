"""The operator's e-stop reset from a script (``rover sim``, tests, benchmarks): call the drive
controller's ``reset_estop`` (std_srvs/Trigger) until it is accepted.

A started drive controller is latched and refuses the reset until every e-stop source is clear,
including a ``hardware_estop`` that has not been heard yet (docs/safety.md), so right after start-up
the first calls may be refused; they are repeated.
"""
from __future__ import annotations

import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import Bool

from rover_stack.common.qos import latched_qos
from rover_stack.common.trigger_call import call_until_accepted

SERVICE = 'reset_estop'
RELEASED_WAIT = 10.0   # s wall: after an accepted reset, wait this long at most for estop_state false


def reset_estop(node, executor, timeout: float = 60.0, retry: float = 0.5) -> str:
    """Reset the e-stop through ``node``, spinning ``executor``; the accepted answer's message.

    Refusals are retried every ``retry`` s; TimeoutError after ``timeout`` s (wall) with the last reason.
    After the reset it waits (at most ``RELEASED_WAIT`` s) until ``estop_state`` false arrives here, so
    a mission started next is not started while the executive still sees the latch."""
    states: list[bool] = []
    subscription = node.create_subscription(Bool, 'estop_state', lambda m: states.append(m.data),
                                            latched_qos())
    try:
        message = call_until_accepted(node, executor, SERVICE, timeout=timeout, retry=retry, answer_wait=5.0)
        released_by = time.monotonic() + RELEASED_WAIT
        while not (states and not states[-1]) and time.monotonic() < released_by:
            executor.spin_once(timeout_sec=0.05)
        return message
    finally:
        node.destroy_subscription(subscription)


def reset_estop_in(context, timeout: float = 60.0) -> str:
    """``reset_estop`` through a short-lived node and executor of its own on the rclpy ``context`` (for
    callers whose node is spun elsewhere, e.g. in a thread)."""
    node = rclpy.create_node('operator_estop_reset', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        return reset_estop(node, executor, timeout)
    finally:
        executor.shutdown()
        node.destroy_node()
