"""Real-time factor of the embedded simulator: simulated seconds per wall-clock second.

Three figures, each with the camera rendering 640x480 rgb8 frames at --camera-rate Hz:

* engine:  rover_stack.sim.engine.Simulator stepped in this process, readings discarded (no ROS);
* node:    the ``rover_simulator`` node alone in its own process (real_time_factor 0: as fast as it
           can), every contract topic published over DDS; measured from /clock in this process;
* stack:   the whole ``sim`` profile through the process runner (``rover_runner sim``, autonomy on:
           simulator, drive, arbitration, EKF, ArUco and object detectors, obstacle grid, navigator,
           mission executive, web bridge on use_sim_time, in the processes and containers of
           config/node_sets.yaml), the rover standing, every sensor stream flowing and processed.

The rover drives in the engine run (wheel commands at 50 Hz). Targets: node >= 4x, stack >= 1.5x. The
machine has 2 cores shared with whatever else runs: expect spread, and run it on an idle machine.

Usage (in the dev env):  python bench/sim_rtf.py [--seconds 10] [--camera-rate 10] [--course NAME] [--json]
(``--json``: print one JSON line with the figures of ``measure`` instead of the lines below.)
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rover_stack.sim.course import load_course
from rover_stack.sim.engine import SimConfig, Simulator

os.environ.setdefault('MUJOCO_GL', 'egl')

ROOT = Path(__file__).resolve().parents[1]


def engine_rtf(seconds: float, camera_rate: float, course_name: str, robot: str) -> float:
    config = SimConfig()
    config.camera.rate = camera_rate
    course = None
    if course_name:
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


def _descendants(root: int) -> dict[int, str]:
    """pid -> executable name of every process below ``root`` (from /proc)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
            cmdline = (stat.parent / 'cmdline').read_bytes().split(b'\0')
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        words = [w.decode(errors='replace') for w in cmdline if w]
        script = next((w for w in words[1:] if not w.startswith('-')), words[0] if words else '?')
        names[pid] = Path(script).name
        if names[pid] == 'rover_container':      # one process, several nodes: name it after them
            members = [words[i + 1] for i, w in enumerate(words[:-1]) if w == '--node']
            names[pid] = f'rover_container[{"+".join(members)}]'
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = names[pid]
                frontier.append(pid)
    return found


def _cpu_seconds(pids) -> dict[int, float]:
    ticks = os.sysconf('SC_CLK_TCK')
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


CPU_SHARES: dict[str, float] = {}   # stack run: executable -> CPU s per sim s


def ros_rtf(seconds: float, camera_rate: float, course_name: str, robot: str, with_stack: bool) -> float:
    import rclpy  # noqa: PLC0415 - the engine figure needs no ROS
    from rclpy.executors import SingleThreadedExecutor  # noqa: PLC0415 - the engine figure needs no ROS
    from rosgraph_msgs.msg import Clock  # noqa: PLC0415 - the engine figure needs no ROS

    from rover_stack.common.qos import sensor_qos  # noqa: PLC0415 - the engine figure needs no ROS

    config = ROOT / 'config'
    if with_stack:
        args = {'use_sim_time': 'true', 'robot_config': robot, 'course': course_name,
                'real_time_factor': '0.0', 'web_port': '0', 'autonomy': 'true',
                'camera_rate': f'{camera_rate:g}'}
        command = [sys.executable, '-m', 'rover_stack.bringup.runner', 'sim']
        for key, value in args.items():
            command += ['--arg', f'{key}:={value}']
        processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      stdin=subprocess.DEVNULL, process_group=0)]
    else:
        processes = [_start('rover_stack.sim.rover_simulator_node',
                            {'robot_config': robot, 'course': course_name or "''", 'real_time_factor': 0.0,
                             'camera.rate': camera_rate}, config / 'simulator.yaml')]
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
        warm_up = 5.0 if with_stack else 1.0     # s sim: every process up and subscribed
        while (latest[0] is None or latest[0] < warm_up) and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
        if latest[0] is None:
            raise RuntimeError('no /clock from the simulator within 60 s')
        children = _descendants(processes[0].pid) if with_stack else {processes[0].pid: 'rover_simulator'}
        cpu_start = _cpu_seconds(children)
        sim_start, wall_start = latest[0], time.monotonic()
        while time.monotonic() - wall_start < seconds:
            executor.spin_once(timeout_sec=0.05)
        sim_seconds = latest[0] - sim_start
        cpu_end = _cpu_seconds(children)
        CPU_SHARES.clear()
        for pid, name in children.items():
            if pid in cpu_start and pid in cpu_end:
                CPU_SHARES[name] = CPU_SHARES.get(name, 0.0) + (cpu_end[pid] - cpu_start[pid]) / sim_seconds
        return sim_seconds / (time.monotonic() - wall_start)
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


TARGETS = {'engine': None, 'node': 4.0, 'stack': 1.5}


def measure(seconds: float = 10.0, camera_rate: float = 10.0, course: str = '', robot: str = 'skid4',
            only: str | None = None) -> dict:
    """run name (engine, node, stack) -> {'rtf': sim s per wall s, 'cpu_per_sim_s': executable -> CPU s
    per sim s (ROS runs only)}."""
    runs = {
        'engine': lambda: engine_rtf(seconds, camera_rate, course, robot),
        'node': lambda: ros_rtf(seconds, camera_rate, course, robot, with_stack=False),
        'stack': lambda: ros_rtf(seconds, camera_rate, course, robot, with_stack=True),
    }
    figures = {}
    for name, run in runs.items():
        if only and name != only:
            continue
        CPU_SHARES.clear()
        rtf = run()
        figures[name] = {'rtf': rtf, 'cpu_per_sim_s': dict(CPU_SHARES) if name != 'engine' else {}}
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=10.0, help='wall (ROS runs) / sim (engine) seconds')
    parser.add_argument('--camera-rate', type=float, default=10.0, help='Hz, 0 = no camera')
    parser.add_argument('--course', default='', help="course name; '' = flat ground")
    parser.add_argument('--robot', default='skid4')
    parser.add_argument('--only', choices=['engine', 'node', 'stack'], default=None)
    parser.add_argument('--json', action='store_true', help='print the figures as one JSON line')
    args = parser.parse_args(argv)
    figures = measure(args.seconds, args.camera_rate, args.course, args.robot, args.only)
    if args.json:
        print(json.dumps(figures))
        return 0
    where = args.course or 'flat ground'
    for name, result in figures.items():
        rtf, target = result['rtf'], TARGETS[name]
        verdict = '' if target is None else (f'  (target >= {target:g}x: '
                                             f'{"met" if rtf >= target else "MISSED"})')
        camera = f'{args.camera_rate:g} Hz'
        print(f'{name:6s} real-time factor {rtf:5.2f}x  [{args.robot}, {where}, camera 640x480 @ '
              f'{camera}]{verdict}')
        shares = result['cpu_per_sim_s']
        if shares:
            print(f'       CPU per sim second: {sum(shares.values()):.2f} s in all')
            for process, share in sorted(shares.items(), key=lambda item: -item[1]):
                if share >= 0.005:
                    print(f'         {process:24s} {share:5.2f} s')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
