"""Localization EKF throughput and the ekf_localization node's CPU share.

    python bench/ekf_rate.py                 # both figures
    python bench/ekf_rate.py --core-only     # filter cycles per second only
    python bench/ekf_rate.py --json          # the figures of ``measure`` as one JSON line

1. Filter core: predict + update cycles per second on one core (process time), with the sensor mix
   of a rover (IMU 200 Hz, odometry 50 Hz, GNSS 10 Hz). Target >= 5000 cycles/s.
2. Node: starts ``ekf_localization`` and a separate publisher process (IMU 200 Hz, odometry 50 Hz,
   GNSS 10 Hz, a straight drive), then reads the node's CPU time from /proc/<pid>/stat over a
   window: the share of one core it uses. Needs the workspace env (source scripts/env.sh); uses a
   random ROS domain id unless ROS_DOMAIN_ID is set.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np

from rover_stack.localization.datum import DatumKeeper, make_datum
from rover_stack.localization.ekf import EkfConfig, Localizer

DATUM = (38.406, -110.792, 1400.0)
RATES = {'imu': 200.0, 'odom': 50.0, 'gnss': 10.0}


def core_rate(seconds: float = 3.0) -> tuple[float, int]:
    """(cycles per second of process time, cycles run)."""
    rng = np.random.default_rng(0)
    loc = Localizer(EkfConfig(lever_arm=(-0.3, 0.15, 0.6)))
    loc.update_yaw(0.0, 0.0, 1e-4)
    loc.update_gnss(0.0, 0.0, 0.0)
    dt = 1.0 / RATES['imu']
    t, cycles = 0.0, 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for i in range(200):
            t += dt
            loc.update_imu(t, 0.05 + rng.normal(0, 0.005))
            cycles += 1
            if i % 4 == 0:
                loc.update_odom(t, 1.0 + rng.normal(0, 0.02), 0.05)
                cycles += 1
            if i % 20 == 0:
                loc.update_gnss(t, t + rng.normal(0, 2.5), rng.normal(0, 2.5))
                cycles += 1
    return cycles / (time.process_time() - start), cycles


def publisher_main(duration: float) -> None:
    """Separate process: publish IMU, odometry and GNSS at RATES for ``duration`` s."""
    import rclpy  # noqa: PLC0415 - --core-only needs no ROS
    from nav_msgs.msg import Odometry  # noqa: PLC0415 - --core-only needs no ROS
    from sensor_msgs.msg import Imu, NavSatFix  # noqa: PLC0415 - --core-only needs no ROS

    from rover_stack.common.qos import command_qos, sensor_qos  # noqa: PLC0415 - --core-only needs no ROS

    rclpy.init()
    node = rclpy.create_node('ekf_bench_publisher')
    keeper = DatumKeeper(make_datum(*DATUM))
    imu_pub = node.create_publisher(Imu, 'imu/data', sensor_qos())
    odom_pub = node.create_publisher(Odometry, 'odom', command_qos())
    fix_pub = node.create_publisher(NavSatFix, 'gnss/fix', sensor_qos())
    t0 = node.get_clock().now().nanoseconds * 1e-9
    ticks = [0]

    def tick():
        now = node.get_clock().now()
        stamp, x = now.to_msg(), 1.0 * (now.nanoseconds * 1e-9 - t0)
        ticks[0] += 1
        imu = Imu()
        imu.header.stamp, imu.header.frame_id = stamp, 'imu_link'
        imu.orientation.w = 1.0
        imu.orientation_covariance[0] = imu.orientation_covariance[4] = imu.orientation_covariance[8] = 1e-3
        imu_pub.publish(imu)
        if ticks[0] % 4 == 0:
            odom = Odometry()
            odom.header.stamp, odom.header.frame_id, odom.child_frame_id = stamp, 'odom', 'base_link'
            odom.pose.pose.position.x, odom.pose.pose.orientation.w = x, 1.0
            odom.twist.twist.linear.x = 1.0
            odom_pub.publish(odom)
        if ticks[0] % 20 == 0:
            lat, lon, _ = keeper.to_ll(x, 0.0, 0.0)
            fix = NavSatFix(latitude=lat, longitude=lon, altitude=DATUM[2])
            fix.header.stamp, fix.header.frame_id = stamp, 'gnss_link'
            fix_pub.publish(fix)

    node.create_timer(1.0 / RATES['imu'], tick)
    end = time.monotonic() + duration
    try:
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def cpu_seconds(pid: int) -> float:
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')   # utime + stime


def node_cpu_share(warmup: float = 4.0, window: float = 10.0) -> float:
    """Fraction of one core used by ekf_localization under the synthetic load."""
    env = dict(os.environ)
    env.setdefault('ROS_DOMAIN_ID', str(random.randint(1, 100)))
    node = subprocess.Popen(
        [sys.executable, '-m', 'rover_stack.localization.ekf_localization_node', '--ros-args',
         '-p', 'datum_source:=parameter', '-p', f'datum_latitude:={DATUM[0]}',
         '-p', f'datum_longitude:={DATUM[1]}', '-p', f'datum_altitude:={DATUM[2]}', '--log-level', 'error'],
        env=env, stdout=subprocess.DEVNULL)
    publisher = subprocess.Popen([sys.executable, __file__, '--publisher', str(warmup + window + 2.0)],
                                 env=env)
    try:
        time.sleep(warmup)      # a benchmark window, not synchronisation
        start_cpu, start_wall = cpu_seconds(node.pid), time.monotonic()
        time.sleep(window)
        return (cpu_seconds(node.pid) - start_cpu) / (time.monotonic() - start_wall)
    finally:
        publisher.wait(timeout=30)
        node.terminate()
        node.wait(timeout=10)


def measure(core_only: bool = False) -> dict:
    """core_cycles_per_s (process time, one core), core_cycles, node_cpu_share (fraction of one core;
    None with ``core_only``)."""
    rate, cycles = core_rate()
    share = None if core_only else node_cpu_share()
    return {'core_cycles_per_s': rate, 'core_cycles': cycles, 'node_cpu_share': share}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--core-only', action='store_true')
    parser.add_argument('--json', action='store_true', help='print the figures as one JSON line')
    parser.add_argument('--publisher', type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher is not None:
        publisher_main(args.publisher)
        return
    figures = measure(args.core_only)
    rate, cycles, share = figures['core_cycles_per_s'], figures['core_cycles'], figures['node_cpu_share']
    if args.json:
        print(json.dumps(figures))
    else:
        print(f'filter core: {rate:,.0f} predict+update cycles/s on one core ({cycles} cycles; '
              'target >= 5000)')
        if share is not None:
            print(f'ekf_localization node: {100 * share:.1f} % of one core at IMU {RATES["imu"]:g} Hz, '
                  f'odometry {RATES["odom"]:g} Hz, GNSS {RATES["gnss"]:g} Hz')
    if not math.isfinite(rate):
        raise SystemExit(1)


if __name__ == '__main__':
    main()
