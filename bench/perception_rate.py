"""Marker detection throughput and latency: OpenCV's bare detectMarkers vs the aruco_detector node.

For each resolution (640x480 and 1280x720) this measures, in one run:

* bare:  frames/s of cv2.aruco.ArucoDetector.detectMarkers alone on grayscale images, in this process:
  ``--images rendered`` (default) = frames rendered by the simulator (MuJoCo) while the rover drives at
  post 1 of the urc_sprint course from 7.5 to 3 m (terrain, rocks, sky, the post's tag);
  ``--images synthetic`` = drawn markers (three 20 cm markers at 1.5 to 5 m, noise and blur);
* node:  the ``aruco_detector`` node in its own process (as on the rover), images and camera_info
  over DDS from this process:
  - throughput: frames offered for ``--seconds`` at the bare detector's rate, on a schedule; node fps =
    ``markers`` arrays received per second (the node keeps only the newest frame, so this is what it
    sustains). Publishing back to back instead would take a whole core of this 2-core machine away
    from the node measured.
  - latency: one frame in flight (the next is sent when the ``markers`` array carrying the previous
    stamp arrives): image published -> detections received, monotonic clock of this process. It
    includes the DDS transport of the image, which on this machine's loopback-only Fast DDS profile
    alone is ~13 ms p50 at 640x480 (an echo node that only returns the header).

Also printed: the node's own processing time per frame (p50 of its diagnostics ``process_ms_p50``:
conversion, detection, pose, messages), which shows how much of the latency is transport.

Targets: node rate >= 75 % of the bare rate; p99 latency <= 40 ms at 640x480.

The bench publishes the images already serialized (``image_cdr.encode_image``), as the simulator does.

Usage (in the dev env):  python bench/perception_rate.py [--frames 300] [--seconds 5] [--images rendered]
[--json]
(``--json``: print one JSON line with the figures of ``measure`` instead of the table.)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import subprocess
import sys
import time

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import CameraInfo, Image

from rover_interfaces.msg import MarkerDetectionArray
from rover_stack.common.heap import keep_large_buffers_in_heap
from rover_stack.common.qos import command_qos, image_qos
from rover_stack.perception.camera_driver_node import camera_info_msg
from rover_stack.perception.image_cdr import encode_image
from rover_stack.perception.pose import CameraModel
from rover_stack.perception.synthetic import background, degrade, draw_marker, facing_pose
from rover_stack.sim.course import load_course
from rover_stack.sim.sensors import ImageReading
from rover_stack.tf.listener import StaticTransformBroadcaster
from rover_stack.tf.transform import Transform

RESOLUTIONS = ((640, 480), (1280, 720))
OPTICAL = Transform.from_xyz_rpy((0.45, 0.0, 0.45), (-math.pi / 2, 0.0, -math.pi / 2))


def rendered_images(camera: CameraModel, count: int = 8) -> list[np.ndarray]:
    """Simulator frames at ``camera``'s size: the rover driving at urc_sprint's post 1 from 7.5 m."""
    from rover_stack.sim.engine import SimConfig, Simulator  # noqa: PLC0415 - mujoco: only for --images rendered

    course = dataclasses.replace(load_course('urc_sprint'), start_x=12.5, start_y=-5.3, start_yaw=0.05)
    config = SimConfig()
    config.camera.width, config.camera.height, config.camera.rate = camera.width, camera.height, 2.0
    sim = Simulator(course, 'skid4', seed=0, config=config)
    speed = 1.0 / sim.geometry.wheel_radius
    out = []
    try:
        while len(out) < count:
            sim.set_wheel_commands({joint: speed for joint in sim.wheel_joints})
            out += [r.image for r in sim.step(10) if isinstance(r, ImageReading)]
    finally:
        sim.close()
    return out[:count]


def images(camera: CameraModel, count: int = 8) -> list[np.ndarray]:
    """Synthetic frames: drawn markers on a textured background, noise and blur."""
    out = []
    for i in range(count):
        image = background(camera, seed=i)
        for marker_id, pose in ((i, facing_pose(-0.8, 0.1, 1.5 + 0.2 * i, 0.2)),
                                (10 + i, facing_pose(0.6, 0.0, 3.0, -0.2)),
                                (20 + i, facing_pose(0.0, -0.3, 5.0))):
            draw_marker(image, camera, marker_id, 0.2, pose)
        out.append(degrade(image, noise_sigma=3.0, blur_sigma=0.7, seed=i))
    return out


def bare_rate(frames: list[np.ndarray], seconds: float) -> float:
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), parameters)
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        detector.detectMarkers(grays[count % len(grays)])
        count += 1
    return count / (time.perf_counter() - start)


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def node_run(probe, executor, camera, frames, count, seconds, offered_fps, timeout=5.0):  # noqa: PLR0917
    """(sustained arrays/s with frames back to back, latencies in ms with one frame in flight, lost)."""
    arrays: dict[tuple[int, int], float] = {}
    sub = probe.create_subscription(MarkerDetectionArray, 'markers',
                                    lambda m: arrays.__setitem__((m.header.stamp.sec, m.header.stamp.nanosec),
                                                                 time.monotonic()), command_qos())
    image_pub = probe.create_publisher(Image, 'camera/image_raw', image_qos())
    info_pub = probe.create_publisher(CameraInfo, 'camera/camera_info', image_qos())
    deadline = time.monotonic() + 20.0
    while image_pub.get_subscription_count() == 0 or sub.get_publisher_count() == 0:
        if time.monotonic() > deadline:
            raise RuntimeError('aruco_detector did not come up')
        executor.spin_once(timeout_sec=0.05)
    latencies, lost = [], 0
    # warm-up: the first frames pay for discovery and allocation
    for i in range(count + 5):
        stamp = probe.get_clock().now().to_msg()
        key = (stamp.sec, stamp.nanosec)
        msg = encode_image(stamp.sec, stamp.nanosec, 'camera_optical_frame', frames[i % len(frames)])
        if i == 5:
            start = time.monotonic()
        info_pub.publish(camera_info_msg(camera, stamp, 'camera_optical_frame'))
        sent = time.monotonic()
        image_pub.publish(msg)
        wait_until = sent + timeout
        while key not in arrays and time.monotonic() < wait_until:
            executor.spin_once(timeout_sec=0.01)
        if key not in arrays:
            lost += 1
        elif i >= 5:
            latencies.append((arrays[key] - sent) * 1000.0)
    # Throughput: frames offered at ``offered_fps`` (the bare detector's rate: the most the node could be
    # asked to keep up with), on a schedule, sleeping in between: a publisher sending back to back would
    # take a whole core of this 2-core machine away from the node it measures.
    period = 1.0 / offered_fps
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < seconds:
        due = start + sent * period
        if time.monotonic() < due:
            executor.spin_once(timeout_sec=min(due - time.monotonic(), 0.05))
            continue
        stamp = probe.get_clock().now().to_msg()
        msg = encode_image(stamp.sec, stamp.nanosec, 'camera_optical_frame', frames[sent % len(frames)])
        info_pub.publish(camera_info_msg(camera, stamp, 'camera_optical_frame'))
        image_pub.publish(msg)
        sent += 1
    settle = 0.5   # s at the start of the burst not counted
    counted = [t for t in arrays.values() if start + settle <= t <= start + seconds]
    throughput = len(counted) / (seconds - settle)
    for entity in (sub, image_pub, info_pub):
        probe.destroy_subscription(entity) if entity is sub else probe.destroy_publisher(entity)
    return throughput, latencies, lost


def measure(frames: int = 300, seconds: float = 4.0, source: str = 'rendered') -> dict:
    """Per resolution: bare_fps, node_fps, latency p50/p99/max (ms, one frame in flight; None if every
    frame was lost), lost frames and the node's own work per frame (ms, from its diagnostics)."""
    env = os.environ.copy()
    env.setdefault('ROS_DOMAIN_ID', str(random.Random(os.getpid()).randint(102, 160) % 100 + 1))
    os.environ['ROS_DOMAIN_ID'] = env['ROS_DOMAIN_ID']
    node_process = subprocess.Popen([sys.executable, '-m', 'rover_stack.perception.aruco_detector_node',
                                     '--ros-args', '--log-level', 'warn'], env=env)
    keep_large_buffers_in_heap()   # as every node of the stack (run_nodes): this process plays the camera
    rclpy.init()
    probe = rclpy.create_node('perception_bench')
    StaticTransformBroadcaster(probe).send_transform('base_link', 'camera_optical_frame', 0, OPTICAL)
    executor = SingleThreadedExecutor()
    executor.add_node(probe)
    diagnostics = {}

    def on_diagnostics(msg):
        for status in msg.status:
            if status.name.startswith('aruco_detector'):
                diagnostics.update({kv.key: kv.value for kv in status.values})
    probe.create_subscription(DiagnosticArray, 'diagnostics', on_diagnostics, command_qos())
    results = []
    try:
        for width, height in RESOLUTIONS:
            camera = CameraModel.from_fov(width, height, 45.0)
            pictures = rendered_images(camera) if source == 'rendered' else images(camera)
            bare = bare_rate(pictures, seconds)
            rate, latencies, lost = node_run(probe, executor, camera, pictures, frames, seconds, bare)
            deadline = time.monotonic() + 1.5   # the node's diagnostics (1 Hz): its processing time per frame
            while time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.05)
            work = diagnostics.get('process_ms_p50', '?')
            results.append({'width': width, 'height': height, 'bare_fps': bare, 'node_fps': rate,
                            'p50_ms': percentile(latencies, 50) if latencies else None,
                            'p99_ms': percentile(latencies, 99) if latencies else None,
                            'max_ms': max(latencies) if latencies else None, 'lost': lost,
                            'node_work_ms': work})
    finally:
        executor.shutdown()
        probe.destroy_node()
        rclpy.try_shutdown()
        node_process.terminate()
        node_process.wait(timeout=10)
    return {'images': source, 'resolutions': results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=300, help='frames sent to the node per resolution')
    parser.add_argument('--seconds', type=float, default=4.0, help='duration of each bare measurement, s')
    parser.add_argument('--images', choices=['rendered', 'synthetic'], default='rendered',
                        help='simulator-rendered frames (default) or drawn markers')
    parser.add_argument('--json', action='store_true', help='print the figures as one JSON line')
    args = parser.parse_args()
    figures = measure(args.frames, args.seconds, args.images)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{'resolution':>11} {'bare fps':>9} {'node fps':>9} {'node/bare':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'lost':>5} {'node work ms':>12}")
    nan = float('nan')
    for r in figures['resolutions']:
        p50, p99, worst = (nan if r[key] is None else r[key] for key in ('p50_ms', 'p99_ms', 'max_ms'))
        print(f'{r["width"]:>5}x{r["height"]:<5} {r["bare_fps"]:9.1f} {r["node_fps"]:9.1f} '
              f'{100 * r["node_fps"] / r["bare_fps"]:8.0f}% {p50:7.1f} {p99:7.1f} {worst:7.1f} '
              f'{r["lost"]:5d} {r["node_work_ms"]:>12}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
