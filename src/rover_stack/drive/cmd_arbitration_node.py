"""Node ``cmd_arbitration``: one ``cmd_vel`` out of several command sources, by priority and freshness."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import TwistStamped
from rclpy.node import Node
from rclpy.time import Time
from std_msgs.msg import Bool, String

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.common.share_files import config_dir
from rover_stack.common.stamps import stamp_seconds
from rover_stack.drive.arbitration import (
    IDLE,
    LOCK_PREFIX,
    Arbiter,
    ArbitrationConfigError,
    load_inputs,
)

NODE_NAME = 'cmd_arbitration'


@dataclass
class ArbitrationParams:
    inputs_file: str = param(
        '', 'YAML table of sources and locks; empty = the package config/arbitration.yaml', read_only=True)
    rate: float = param(50.0, 'Heartbeat rate of cmd_vel, zeros included (the winner goes out on arrival)',
                        unit='Hz', low=1.0, high=1000.0, read_only=True)
    frame_id: str = param('base_link', 'frame_id written in the output header', read_only=True)
    max_stamp_future: float = param(0.5, 'Source twists stamped further ahead of now than this are dropped',
                                    unit='s', low=0.0, high=10.0, read_only=True)
    diagnostics_period: float = param(1.0, 'Period of the diagnostics message', unit='s', low=0.1,
                                      high=60.0, read_only=True)


def _twist_tuple(msg: TwistStamped) -> tuple[float, ...]:
    t = msg.twist
    return (t.linear.x, t.linear.y, t.linear.z, t.angular.x, t.angular.y, t.angular.z)


class CmdArbitrationNode(Node):
    """Forwards the fresh command of the highest priority; locks and silence give a zero twist.

    Subscribes (names and priorities from ``inputs_file``, all relative):
      * each source topic (geometry_msgs/TwistStamped, reliable): m/s and rad/s in base_link.
        Twists with NaN/inf, stamped older than the source's timeout or more than ``max_stamp_future``
        s ahead are dropped and counted (stamp 0: unstamped, timed from its arrival).
      * each lock topic (std_msgs/Bool, true = engaged): latched plus best-effort volatile
        subscriptions, so publishers of either QoS match.
    Publishes:
      * ``cmd_vel`` (geometry_msgs/TwistStamped, reliable): the winner's twist with the winner's stamp
        (its arrival time if unstamped), or zero stamped now when locked or when every source has timed
        out. Event-driven: published when the winning source's twist arrives and when a lock changes the
        output; a ``rate`` Hz timer publishes as well unless an output went out less than half a period
        before (timeouts, expiring locks and the zero while idle: never silence).
      * ``active_source`` (std_msgs/String, latched) on change: source name, ``lock:<name>`` or ``idle``.
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray): active input, received and dropped counts.
    Parameters: ``inputs_file`` (path), ``rate`` (Hz), ``frame_id``, ``max_stamp_future`` (s),
    ``diagnostics_period`` (s); read-only.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, ArbitrationParams)
        path = Path(p.inputs_file) if p.inputs_file else config_dir() / 'arbitration.yaml'
        try:
            config = load_inputs(path)
        except ArbitrationConfigError as error:
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.arbiter = Arbiter(config, p.max_stamp_future)
        self._active: str | None = None
        self._reported_drops = 0
        self._published_at: float | None = None     # s (node clock) of the last cmd_vel
        for source in config.sources:
            def on_twist(msg, name=source.name):
                stamp, now = stamp_seconds(msg.header.stamp), self._now()
                if self.arbiter.on_twist(name, _twist_tuple(msg), now, stamp if stamp > 0.0 else None):
                    self._decide(now, arrived=name)
            self.create_subscription(TwistStamped, source.topic, on_twist, command_qos())
        for lock in config.locks:
            def on_lock(msg, name=lock.name):
                now = self._now()
                self.arbiter.on_lock(name, msg.data, now)
                self._decide(now, arrived=LOCK_PREFIX + name)
            for qos in (latched_qos(), sensor_qos(depth=10)):
                self.create_subscription(Bool, lock.topic, on_lock, qos)
        self._cmd_pub = self.create_publisher(TwistStamped, 'cmd_vel', command_qos())
        self._active_pub = self.create_publisher(String, 'active_source', latched_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_timer(1.0 / p.rate, self._on_timer)
        self.create_timer(p.diagnostics_period, self._publish_diagnostics)
        table = ', '.join(f'{s.name}({s.priority}, {s.topic}, {s.timeout:g} s)' for s in config.sources)
        locks = ', '.join(f'{k.name}({k.priority}, {k.topic})' for k in config.locks) or 'none'
        self.get_logger().info(f'sources: {table}; locks: {locks}; from {path}')

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_timer(self) -> None:
        """The heartbeat: timeouts and locks expiring, zero while idle; skipped right after an
        event-driven output (less than half a period ago)."""
        now = self._now()
        if self._published_at is not None and 0.0 <= now - self._published_at < 0.5 / self.params.rate:
            return
        self._decide(now)

    def _decide(self, now: float, arrived: str | None = None) -> None:
        """Step the arbiter; publish unless the input that ``arrived`` changed nothing (a source that is
        not the winner, a lock that decides nothing)."""
        result = self.arbiter.step(now)
        if arrived is not None and result.active != arrived and result.active == self._active:
            return
        self._published_at = now
        msg = TwistStamped()
        if result.stamp is None:
            msg.header.stamp = self.get_clock().now().to_msg()
        else:
            msg.header.stamp = Time(nanoseconds=round(result.stamp * 1e9)).to_msg()
        msg.header.frame_id = self.params.frame_id
        t = msg.twist
        t.linear.x, t.linear.y, t.linear.z, t.angular.x, t.angular.y, t.angular.z = result.twist
        self._cmd_pub.publish(msg)
        if result.active != self._active:
            self._active_pub.publish(String(data=result.active))
            if result.active == IDLE and self._active is not None:
                self.get_logger().warning(f'{self._active} went quiet, no fresh source: publishing zero')
            else:
                self.get_logger().info(f'active input: {result.active}')
            self._active = result.active
        drops = sum(self.arbiter.dropped.values())
        if drops != self._reported_drops:
            self.get_logger().warning(
                f'dropped twists (NaN/inf, stale or future stamp) so far: {dict(self.arbiter.dropped)}',
                throttle_duration_sec=2.0)
            self._reported_drops = drops

    def _publish_diagnostics(self) -> None:
        values = {'active_input': self._active or IDLE}
        for source in self.arbiter.config.sources:
            values[f'{source.name}_received'] = str(self.arbiter.received[source.name])
            values[f'{source.name}_dropped'] = str(self.arbiter.dropped[source.name])
        locked = (self._active or '').startswith('lock:')
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN if locked else DiagnosticStatus.OK,
            name=f'{self.get_name()}: arbitration', message=self._active or IDLE,
            values=[KeyValue(key=k, value=v) for k, v in values.items()])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)


def main(args=None) -> int:
    return run_node(CmdArbitrationNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
