"""One goal at a time on an action server that may lose a reply or be restarted (an rclpy helper).

Used by the mission executive (``navigate_to_goal``) and ``rover sim`` (``execute_mission``).
"""
from __future__ import annotations

import collections
import threading
import time
from typing import NamedTuple

from action_msgs.msg import GoalStatus
from rclpy.action import ActionClient

from rover_stack.autonomy.server_watch import RestartWatch

TERMINAL = (GoalStatus.STATUS_SUCCEEDED, GoalStatus.STATUS_CANCELED, GoalStatus.STATUS_ABORTED)


class GoalEvent(NamedTuple):
    """An outcome of the goal sent with ``tag``: kind 'accepted', 'rejected' or 'result' (then
    ``result`` is the action's Result message and ``status`` its action_msgs/GoalStatus code)."""
    tag: object
    kind: str
    result: object = None
    status: int = GoalStatus.STATUS_UNKNOWN


class GoalClient:
    """Client of action ``name`` (type ``action_type``) that sees one goal at a time through to its result.

    ``send`` queues a goal (canceling the current one); ``step(now)``, called periodically by the owner,
    sends it once the graph lists the server, or anyway after ``response_timeout`` s (the graph has been
    seen to miss a busy server); sends a goal again whose acceptance did not come within
    ``response_timeout`` s (a lost DDS reply; a late acceptance of the older send is canceled); asks again
    for the result of a goal whose status turned terminal without its result within ``response_timeout``
    s; and sends the goal again to a server restarted while running it (RestartWatch over the endpoint
    gids of the action's status publishers). Outcomes are queued as GoalEvent for ``take_events``.
    ``cancel_replaced=False``: a goal replaced by a re-send of itself (its late acceptance, a restart,
    ``resend``) is dropped, not canceled (for a server that attaches a re-sent goal to the running one).
    ``watch``: the RestartWatch to use (default: one graph check per 1 s).
    Thread-safe (callbacks may run on executor threads). Times: monotonic s.
    """

    def __init__(self, node, action_type, name: str, response_timeout: float, callback_group=None, *,
                 logger=None, cancel_replaced: bool = True, watch: RestartWatch | None = None):
        self.name, self.response_timeout = name, response_timeout
        self._node = node
        self._log = logger or node.get_logger()
        self._client = ActionClient(node, action_type, name, callback_group=callback_group)
        self._cancel_replaced = cancel_replaced
        self._lock = threading.RLock()
        self._events: collections.deque[GoalEvent] = collections.deque()
        self._active: tuple | None = None    # (goal, tag) being pursued until its result or cancel
        self._pending: tuple | None = None   # (goal, tag) to send at the next step
        self._sent: tuple | None = None      # (goal, tag, monotonic s) awaiting acceptance
        self._handle = None                  # the accepted goal's ClientGoalHandle
        self._attempt = 0                    # identifies one send; a stale acceptance has another
        self._superseded = 0                 # sends up to this attempt were of a goal since superseded
        self._ended_at: float | None = None  # s the accepted goal's status turned terminal
        self._server_wait_since: float | None = None   # s since the server is not listed
        self._watch = watch or RestartWatch(period=1.0)   # graph checks every period s

    def server_is_ready(self) -> bool:
        return self._client.server_is_ready()

    def send(self, goal, tag=None) -> None:
        """Send ``goal`` at the next step; the current goal is canceled. Its events carry ``tag``."""
        with self._lock:
            self._drop(cancel=True)
            self._superseded = self._attempt
            self._active = self._pending = (goal, tag)

    def cancel(self) -> None:
        """Cancel the current goal (and forget one not sent yet)."""
        with self._lock:
            self._drop(cancel=True)
            self._superseded = self._attempt
            self._active = self._pending = None

    def resend(self) -> None:
        """Send the current goal again at the next step (the owner knows the server restarted)."""
        with self._lock:
            if self._active is not None and self._pending is None:
                self._drop(cancel=self._cancel_replaced)
                self._pending = self._active

    def take_events(self) -> list[GoalEvent]:
        """The events since the last call, oldest first."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def step(self, now: float) -> None:
        """Re-send, re-ask and send as due; ``now``: time.monotonic() s."""
        with self._lock:
            self._watch_responses(now)
            self._send_pending(now)

    def _drop(self, cancel: bool) -> None:
        """Forget the goal in flight; a late acceptance of it is stale (under the lock)."""
        handle, self._handle = self._handle, None
        self._sent = None
        self._attempt += 1
        if handle is not None and cancel:
            handle.cancel_goal_async()

    def _send_pending(self, now: float) -> None:
        if self._pending is None:
            return
        if not self._client.server_is_ready():
            if self._server_wait_since is None:
                self._server_wait_since = now
            if now - self._server_wait_since <= self.response_timeout:
                self._log.warning(f'waiting for the {self.name} server', throttle_duration_sec=5.0)
                return
            # The graph can report a running server as gone (seen with a server busy answering another
            # request): send anyway; an unanswered goal is sent again after response_timeout.
            self._log.warning(f'{self.name} server not seen in the graph: sending the goal anyway',
                              throttle_duration_sec=5.0)
        self._server_wait_since = None
        goal, tag = self._pending
        self._pending, self._ended_at = None, None
        self._attempt += 1
        self._sent = (goal, tag, now)
        future = self._client.send_goal_async(goal)
        future.add_done_callback(lambda f, attempt=self._attempt: self._on_accepted(f, tag, attempt))

    def _watch_responses(self, now: float) -> None:
        """Re-send a goal whose acceptance never came; re-ask a result that never came; notice a restart."""
        timeout = self.response_timeout
        if self._sent is not None:
            goal, tag, sent_at = self._sent
            if now - sent_at > timeout:
                self._log.warning(f'{self.name} did not answer within {timeout:.1f} s: '
                                  'sending the goal again')
                self._attempt += 1          # the old send, if accepted late, is stale
                self._sent, self._pending = None, (goal, tag)
            return
        handle = self._handle
        if handle is None or handle.status not in TERMINAL:
            self._ended_at = None
            if handle is None or not self._watch.due(now):
                return
            if self._watch.restarted(self._servers(), now):
                # A server that did not exist at the acceptance: the one running our goal was restarted
                # (killed and respawned), and the goal died with it.
                self._log.warning(f'{self.name} server restarted: sending the goal again')
                self._drop(cancel=self._cancel_replaced)
                self._pending = self._active
            return
        if self._ended_at is None:
            self._ended_at = now
        elif now - self._ended_at > timeout:
            self._log.warning(f'{self.name} ended but its result did not arrive: asking again')
            self._ended_at = now
            self._ask_result(handle, self._active[1])

    def _servers(self) -> set[tuple]:
        """Endpoint gids of the action's goal-status publishers (one per running server)."""
        infos = self._node.get_publishers_info_by_topic(f'{self.name}/_action/status')
        return {tuple(info.endpoint_gid) for info in infos}

    def _ask_result(self, handle, tag) -> None:
        handle.get_result_async().add_done_callback(lambda f: self._on_result(f, tag, handle))

    def _on_accepted(self, future, tag, attempt: int) -> None:
        handle = future.result()
        with self._lock:
            if attempt != self._attempt:
                if handle.accepted and (self._cancel_replaced or attempt <= self._superseded):
                    handle.cancel_goal_async()   # superseded (or re-sent) while the request was in flight
                return
            self._sent = None
            if not handle.accepted:
                self._active = None
                self._events.append(GoalEvent(tag, 'rejected'))
                return
            self._handle = handle
            self._watch.accepted(self._servers(), time.monotonic())
            self._events.append(GoalEvent(tag, 'accepted'))
        self._ask_result(handle, tag)

    def _on_result(self, future, tag, handle) -> None:
        response = future.result()
        with self._lock:
            if handle is not self._handle:
                return                   # a duplicate answer, or a goal already replaced
            self._handle = self._active = None
            self._events.append(GoalEvent(tag, 'result', response.result, response.status))
