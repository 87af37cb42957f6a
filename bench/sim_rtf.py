"""Real-time factor of the embedded simulator: simulated seconds per wall-clock second.

Three figures, each with the camera rendering 640x480 rgb8 frames at --camera-rate Hz:

* engine:  rover_stack.sim.engine.Simulator stepped in this process, readings discarded (no ROS);
* node:    the ``rover_simulator`` node alone in its own process (real_time_factor 0: as fast as it
           can), every contract topic published over DDS; measured from /clock in this process;
* stack:   the same node plus the ``sim`` profile's other nodes (static_tf_publisher, cmd_arbitration,
           drive_controller, all with use_sim_time true), each in its own process.

The rover drives (wheel commands at 50 Hz in the engine run; idle stack otherwise). Targets: node >= 4x,
stack >= 1.5x. The machine has 2 cores shared with whatever else runs: expect spread.

Usage (in the dev env):  python bench/sim_rtf.py [--seconds 10] [--camera-rate 10] [--course NAME]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault('MUJOCO_GL', 'egl')

ROOT = Path(__file__).resolve().parents[1]


def engine_rtf(seconds: float, camera_rate: float, course_name: str, robot: str) -> float:
    from rover_stack.sim.engine import SimConfig, Simulator

    config = SimConfig()
    config.camera.rate = camera_rate
    course = None
    if course_name:
        from rover_stack.sim.course import load_course
        course = load_course(course_name)
    sim = Simulator(course, robot, seed=0, config=config)
    speed = 0.5 / sim.geometry.wheel_radius
    sim.step(10)   # first frame creates the renderer: not timed
    start = time.perf_counter()
    for k in range(round(seconds * 50)):
        turn = 0.2 * speed if (k // 100) % 2 else 0.0
        sim.set_wheel_commands({j: speed + (turn if 'right' in j else -turn) for j in sim.wheel_joints})
        sim.step(10)
    wall = time.perf_counter() - start
    sim.close()
    return seconds / wall


def _start(module: str, params: dict, params_file: Path | None) -> subprocess.Popen:
    args = [sys.executable, '-m', module, '--ros-args']
    if params_file is not None:
        args += ['--params-file', str(params_file)]
    for key, value in params.items():
        args += ['-p', f'{key}:={value}']
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, process_group=0)


def ros_rtf(seconds: float, camera_rate: float, course_name: str, robot: str, with_stack: bool) -> float:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rosgraph_msgs.msg import Clock

    from rover_stack.common.qos import sensor_qos

    config = ROOT / 'config'
    processes = [_start('rover_stack.sim.sim_node',
                        {'robot_config': robot, 'course': course_name or "''", 'real_time_factor': 0.0,
                         'camera.rate': camera_rate}, config / 'simulator.yaml')]
    if with_stack:
        sim_time = {'use_sim_time': True}
        processes.append(_start('rover_stack.tf.static_publisher_node', {'robot_config': robot, **sim_time},
                                None))
        processes.append(_start('rover_stack.drive.arbitration_node', sim_time, config / 'drive.yaml'))
        processes.append(_start('rover_stack.drive.controller_node', {'robot_config': robot, **sim_time},
                                config / 'drive.yaml'))
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('rtf_probe', context=context)
    latest = [None]

    def on_clock(msg):
        latest[0] = msg.clock.sec + msg.clock.nanosec * 1e-9
    node.create_subscription(Clock, '/clock', on_clock, sensor_qos(10))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        deadline = time.monotonic() + 60.0
        while (latest[0] is None or latest[0] < 1.0) and time.monotonic() < deadline:   # warm-up
            executor.spin_once(timeout_sec=0.05)
        if latest[0] is None:
            raise RuntimeError('no /clock from the simulator within 60 s')
        sim_start, wall_start = latest[0], time.monotonic()
        while time.monotonic() - wall_start < seconds:
            executor.spin_once(timeout_sec=0.05)
        return (latest[0] - sim_start) / (time.monotonic() - wall_start)
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        context.try_shutdown()
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10.0)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=10.0, help='wall (ROS runs) / sim (engine) seconds')
    parser.add_argument('--camera-rate', type=float, default=10.0, help='Hz, 0 = no camera')
    parser.add_argument('--course', default='', help="course name; '' = flat ground")
    parser.add_argument('--robot', default='skid4')
    parser.add_argument('--only', choices=['engine', 'node', 'stack'], default=None)
    args = parser.parse_args(argv)
    runs = {
        'engine': lambda: engine_rtf(args.seconds, args.camera_rate, args.course, args.robot),
        'node': lambda: ros_rtf(args.seconds, args.camera_rate, args.course, args.robot, with_stack=False),
        'stack': lambda: ros_rtf(args.seconds, args.camera_rate, args.course, args.robot, with_stack=True),
    }
    targets = {'engine': None, 'node': 4.0, 'stack': 1.5}
    where = args.course or 'flat ground'
    for name, run in runs.items():
        if args.only and name != args.only:
            continue
        rtf = run()
        target = targets[name]
        verdict = '' if target is None else (f'  (target >= {target:g}x: '
                                             f'{"met" if rtf >= target else "MISSED"})')
        print(f'{name:6s} real-time factor {rtf:5.2f}x  [{args.robot}, {where}, camera 640x480 @ '
              f'{args.camera_rate:g} Hz]{verdict}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
