"""Node ``obstacle_grid``: a rolling local occupancy grid in the odom frame from ``scan``."""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import OccupancyGrid
from rclpy.node import Node
from sensor_msgs.msg import LaserScan

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.perception.occupancy import GridConfig, RollingGrid
from rover_stack.tf.buffer import ExtrapolationError, TransformBuffer, TransformLookupError
from rover_stack.tf.listener import TransformListener
from rover_stack.tf.ros_conversions import stamp_to_ns

NODE_NAME = 'obstacle_grid'
MAX_PENDING_SCANS = 20


@dataclass
class GridParams:
    size: float = param(20.0, 'Side of the square grid centred on the rover', unit='m', low=1.0, high=200.0,
                        read_only=True)
    resolution: float = param(0.1, 'Cell side', unit='m', low=0.01, high=2.0, read_only=True)
    inflation_radius: float = param(0.4, 'Obstacles are grown by this radius (the rover radius)', unit='m',
                                    low=0.0, high=5.0, read_only=True)
    max_clear_range: float = param(10.0, 'Rays without a return clear free space this far', unit='m',
                                   low=0.0, high=100.0, read_only=True)
    max_mark_range: float = param(4.0, 'Returns farther than this clear the ray but mark nothing (a low '
                                       'scanner sees rising ground ahead as a wall)', unit='m', low=0.1,
                                  high=100.0, read_only=True)
    rate: float = param(5.0, 'Publishing rate of obstacles/grid', unit='Hz', low=0.1, high=50.0,
                        read_only=True)
    odom_frame: str = param('odom', 'Frame the grid is fixed in', read_only=True)
    base_frame: str = param('base_link', 'Rover frame the grid is centred on', read_only=True)
    transform_timeout: float = param(0.5, 'How long a scan may wait for its transform', unit='s', low=0.0,
                                     high=5.0, read_only=True)
    no_scan_timeout: float = param(3.0, 'Without a scan for this long the diagnostics say so (ERROR: '
                                        'obstacle avoidance is off) and the grid follows the rover with what '
                                        'it has (all unknown if no scan ever came)', unit='s', low=0.5,
                                   high=60.0, read_only=True)


class ObstacleGridNode(Node):
    """Marks scan returns, clears the space the rays crossed and inflates obstacles by the rover radius.

    Subscribes: ``scan`` (sensor_msgs/LaserScan, best effort; REP-117 +inf = nothing in range),
    ``tf``/``tf_static`` for ``odom_frame`` <- scan frame (at the scan stamp) and <- ``base_frame``.
    Publishes: ``obstacles/grid`` (nav_msgs/OccupancyGrid, reliable) at ``rate`` Hz in ``odom_frame``,
    centred on the rover: -1 unknown, 0 free, 99 within ``inflation_radius`` of an obstacle, 100 obstacle;
    ``diagnostics`` (scans integrated / dropped; ERROR while no scan came for ``no_scan_timeout``: obstacle
    avoidance is off, e.g. a rover without a lidar). Parameters (read-only): size (m), resolution (m),
    inflation_radius (m), max_clear_range (m), max_mark_range (m), rate (Hz), odom_frame, base_frame,
    transform_timeout (s), no_scan_timeout (s).
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, GridParams)
        try:
            config = GridConfig(p.size, p.resolution, p.inflation_radius, p.max_clear_range,
                                max_mark_range=p.max_mark_range)
        except ValueError as error:
            Node.destroy_node(self)
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.grid: RollingGrid | None = None
        self._config = config
        self.tf_buffer = TransformBuffer()
        self.tf_listener = TransformListener(self, self.tf_buffer)
        self._pending: deque[tuple[LaserScan, float]] = deque(maxlen=MAX_PENDING_SCANS)
        self._last_scan = time.monotonic()      # the start counts as a scan: no alarm before the timeout
        self.counts = {'received': 0, 'integrated': 0, 'dropped_no_transform': 0, 'dropped_invalid': 0,
                       'dropped_overflow': 0}
        self.create_subscription(LaserScan, 'scan', self._on_scan, sensor_qos(10))
        self._grid_pub = self.create_publisher(OccupancyGrid, 'obstacles/grid', command_qos(depth=2))
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_timer(1.0 / p.rate, self._step)
        self.create_timer(1.0, self._publish_diagnostics)

    def _on_scan(self, msg: LaserScan) -> None:
        self.counts['received'] += 1
        self._last_scan = time.monotonic()
        if len(self._pending) == self._pending.maxlen:
            self.counts['dropped_overflow'] += 1
        self._pending.append((msg, time.monotonic()))

    def _step(self) -> None:
        still_waiting = deque(maxlen=MAX_PENDING_SCANS)
        while self._pending:
            scan, received = self._pending.popleft()
            if not self._integrate(scan, received):
                still_waiting.append((scan, received))
        self._pending = still_waiting
        if self._scan_silent():
            self._follow_rover()
        if self.grid is not None:
            self._publish_grid()

    def _scan_silent(self) -> bool:
        return time.monotonic() - self._last_scan > self.params.no_scan_timeout

    def _follow_rover(self) -> None:
        """No scans: keep the grid (unknown where never seen) centred on the rover so navigation goes on
        without obstacle avoidance, which the diagnostics report."""
        try:
            x, y, _ = self.tf_buffer.lookup(self.params.odom_frame, self.params.base_frame).translation
        except TransformLookupError:
            return
        if self.grid is None:
            self.grid = RollingGrid(self._config, centre=(x, y))
        self.grid.recentre(x, y)

    def _integrate(self, scan: LaserScan, received: float) -> bool:
        """Add one scan; False if its transform may still come (keep it), True when done with it."""
        p = self.params
        n = len(scan.ranges)
        if n == 0 or not (math.isfinite(scan.angle_increment) and scan.angle_increment != 0.0
                          and math.isfinite(scan.angle_min) and 0.0 <= scan.range_min < scan.range_max):
            self.counts['dropped_invalid'] += 1
            self.get_logger().warning('invalid scan (angles or range limits) dropped',
                                      throttle_duration_sec=5.0)
            return True
        try:
            odom_from_laser = self.tf_buffer.lookup(p.odom_frame, scan.header.frame_id,
                                                    stamp_to_ns(scan.header.stamp))
        except ExtrapolationError as error:
            if time.monotonic() - received < p.transform_timeout:
                return False
            return self._drop_no_transform(error)
        except TransformLookupError as error:
            return self._drop_no_transform(error)
        x, y, _ = odom_from_laser.translation
        yaw = odom_from_laser.rpy()[2]
        try:
            base = self.tf_buffer.lookup(p.odom_frame, p.base_frame).translation
        except TransformLookupError:
            base = (x, y, 0.0)
        if self.grid is None:
            self.grid = RollingGrid(self._config, centre=(base[0], base[1]))
        self.grid.recentre(base[0], base[1])
        angles = scan.angle_min + scan.angle_increment * np.arange(n)
        self.grid.integrate_scan(x, y, yaw, angles, np.asarray(scan.ranges, dtype=float), scan.range_min,
                                 scan.range_max)
        self.counts['integrated'] += 1
        return True

    def _drop_no_transform(self, error) -> bool:
        self.counts['dropped_no_transform'] += 1
        self.get_logger().warning(f'scan dropped, no transform: {error}', throttle_duration_sec=5.0)
        return True

    def _publish_grid(self) -> None:
        grid = self.grid
        msg = OccupancyGrid()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.params.odom_frame
        msg.info.map_load_time = msg.header.stamp
        msg.info.resolution = float(grid.config.resolution)
        msg.info.width = msg.info.height = grid.config.cells
        msg.info.origin.position.x, msg.info.origin.position.y = grid.origin
        msg.info.origin.orientation.w = 1.0
        msg.data = grid.values().ravel().tobytes()
        self._grid_pub.publish(msg)

    def _publish_diagnostics(self) -> None:
        dropped = self.counts['dropped_no_transform'] + self.counts['dropped_invalid']
        level = DiagnosticStatus.WARN if dropped or self.grid is None else DiagnosticStatus.OK
        message = 'no scan integrated yet' if self.grid is None else f'{dropped} scans dropped'
        if self._scan_silent():
            level = DiagnosticStatus.ERROR
            message = (f'no scan for {time.monotonic() - self._last_scan:.0f} s: obstacle avoidance is off '
                       f'(is the lidar connected? the rover profile with lidar:=none has none)')
        status = DiagnosticStatus(level=level, name=f'{self.get_name()}: grid', message=message,
                                  values=[KeyValue(key=k, value=str(v)) for k, v in self.counts.items()])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def destroy_node(self) -> None:
        self.tf_listener.destroy()
        super().destroy_node()


def main(args=None) -> int:
    return run_node(ObstacleGridNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
