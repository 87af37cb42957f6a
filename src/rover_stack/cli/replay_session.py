"""One ``rover replay`` session (see cli/replay.py): start the nodes, play, record, compare."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from rosgraph_msgs.msg import Clock

from rover_stack.bringup.node_set import NodeSpec, load_node_sets, resolve
from rover_stack.bringup.runner import default_config, node_command
from rover_stack.cli.replay_targets import OUTPUT_TYPES, TARGETS
from rover_stack.common.child_process import die_with_parent
from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.common.stamps import stamp_seconds
from rover_stack.reporting.mcap_io import McapWriter, decoded, raw_messages
from rover_stack.reporting.recorder import message_class
from rover_stack.reporting.report import rmse
from rover_stack.reporting.run_analysis import analyse, error_series
from rover_stack.sim.course import CourseError, UnknownCourseError, load_course

CLOCK_STEP_NS = 10_000_000   # ns: period of a /clock made from log times
TAIL_S = 1.0                 # sim s of /clock after the last message (the EKF waits queue_delay)
SETTLE_S = 1.0               # wall s of listening after the tail
LATCHED_INPUTS = ('tf_static',)


def node_specs(nodes: list[str], robot_config: str, datum) -> list[NodeSpec]:
    """The sim profile's entries of ``nodes`` with sim time, no mission and the recorded datum."""
    profile = load_node_sets(default_config())['sim']
    specs = {s.name: s for s in resolve(profile, {'use_sim_time': 'true', 'autonomy': 'true',
                                                  'robot_config': robot_config})}
    result = []
    for name in nodes:
        spec = specs[name]
        params = dict(spec.parameters)
        if name == 'ekf_localization':
            params['course_file'] = ''
            if datum is not None:
                params.update(datum_source='parameter', datum_latitude=float(datum[0]),
                              datum_longitude=float(datum[1]), datum_altitude=float(datum[2]))
            else:
                params['datum_source'] = 'first_fix'
        result.append(dataclasses.replace(spec, parameters=params, respawn=False))
    return result


class NodeProcess:
    """One node as a child process in its own session, output to a log file."""

    def __init__(self, spec: NodeSpec, log: Path):
        self.spec = spec
        self._log = open(log, 'w', encoding='utf-8')    # closed in stop()
        self.process = subprocess.Popen(node_command(spec), stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=die_with_parent(os.getpid()))  # noqa: PLW1509 - before rclpy threads

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5.0)
        self._log.close()
        return self.process.returncode


class OutputRecorder:
    """Records the replayed nodes' outputs (raw) to an MCAP file."""

    def __init__(self, node, path: Path, outputs: list[str]):
        self._writer = McapWriter(path, library='rover_stack.cli.replay')
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(outputs, 0)
        for topic in outputs:
            type_name = OUTPUT_TYPES[topic]
            name = node.resolve_topic_name(topic)
            self._writer.channel(name, type_name)
            qos = latched_qos() if topic == 'datum' else command_qos(depth=100)
            node.create_subscription(message_class(type_name), topic,
                                     lambda data, t=topic, n=name: self._on(t, n, data), qos, raw=True)

    def _on(self, topic: str, name: str, data: bytes) -> None:
        with self._lock:
            if not self._writer.closed:
                self._writer.add(name, data, time.time_ns())
                self.counts[topic] += 1

    def close(self) -> None:
        with self._lock:
            self._writer.close()


class Player:
    """Publishes recorded messages unchanged (CDR) on their recorded topics, paced by the clock."""

    def __init__(self, node, recorded: dict[str, tuple[str, int]], inputs: set[str], drop_frames: set[str],
                 rate: float):
        self.rate = rate
        self.drop_frames = drop_frames
        self.published: dict[str, int] = {}
        self.publishers = {}
        self.has_clock = '/clock' in recorded
        for topic, (type_name, _count) in recorded.items():
            if topic.lstrip('/') not in inputs:
                continue
            latched = topic.lstrip('/') in LATCHED_INPUTS
            durability = DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE
            qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=durability)
            self.publishers[topic] = node.create_publisher(message_class(type_name), topic, qos)
            self.published[topic] = 0
        self._clock_pub = node.create_publisher(Clock, '/clock', QoSProfile(depth=10))
        self.published['/clock'] = 0
        self._tf_class = message_class('tf2_msgs/msg/TFMessage')
        self._anchor: tuple[float, float] | None = None    # (wall monotonic s, sim s)
        self.sim_time = 0.0
        self.stop = threading.Event()

    def waiting_for(self) -> list[str]:
        """Input topics no node has subscribed to yet."""
        return [t for t, pub in self.publishers.items() if pub.get_subscription_count() == 0]

    def _pace(self, sim: float) -> None:
        self.sim_time = sim
        if self.rate <= 0.0:
            return
        if self._anchor is None:
            self._anchor = (time.monotonic(), sim)
        delay = self._anchor[0] + (sim - self._anchor[1]) / self.rate - time.monotonic()
        if delay > 0.0:
            self.stop.wait(delay)

    def _clock(self, ns: int) -> None:
        self._pace(ns * 1e-9)
        msg = Clock()
        msg.clock.sec, msg.clock.nanosec = divmod(ns, 1_000_000_000)
        self._clock_pub.publish(msg)
        self.published['/clock'] += 1

    def play(self, path: str) -> None:
        last_clock = None
        for message in raw_messages(path, [*self.publishers, *(['/clock'] if self.has_clock else [])]):
            if self.stop.is_set():
                return
            if message.topic == '/clock':
                self._pace(_clock_seconds(deserialize_message(message.data, Clock)))
                self._clock_pub.publish(message.data)
                self.published['/clock'] += 1
                continue
            due = last_clock is None or message.log_time_ns - last_clock >= CLOCK_STEP_NS
            if not self.has_clock and due:
                last_clock = message.log_time_ns
                self._clock(last_clock)
            data = message.data
            if message.topic.lstrip('/') == 'tf' and self.drop_frames:
                tf = deserialize_message(data, self._tf_class)
                kept = [t for t in tf.transforms if t.child_frame_id not in self.drop_frames]
                if not kept:
                    continue
                if len(kept) < len(tf.transforms):
                    tf.transforms = kept
                    data = serialize_message(tf)
            self.publishers[message.topic].publish(data)
            self.published[message.topic] += 1
        start = int(self.sim_time * 1e9)
        for ns in range(start + CLOCK_STEP_NS, start + int(TAIL_S * 1e9) + 1, CLOCK_STEP_NS):
            if self.stop.is_set():
                return
            self._clock(ns)


def _clock_seconds(msg: Clock) -> float:
    return stamp_seconds(msg.clock)


def recorded_datum(path: str):
    for _topic, _t, msg in decoded(path, ['/datum']):
        values = (msg.latitude, msg.longitude, msg.altitude)
        if all(math.isfinite(v) for v in values):
            return values
    return None


def run_replay(args, nodes: list[str], recorded: dict[str, tuple[str, int]], out: Path, prog: str) -> int:
    wall_start = time.monotonic()
    datum = recorded_datum(args.recording) if '/datum' in recorded else None
    if datum is None and args.course:
        try:
            course_datum = load_course(args.course).datum
        except (CourseError, UnknownCourseError) as error:
            print(f'{prog}: error: {error}', file=sys.stderr)
            return 2
        datum = (course_datum.latitude, course_datum.longitude, course_datum.altitude)
    if 'ekf_localization' in nodes and datum is None:
        print(f'{prog}: warning: no datum recorded (and no --course): the EKF takes the first fix as its '
              "origin, so its map frame differs from the ground truth's", flush=True)
    inputs = {t for n in nodes for t in (*TARGETS[n].required, *TARGETS[n].optional)}
    outputs = [t for n in nodes for t in TARGETS[n].outputs]
    drop = {f for n in nodes for f in TARGETS[n].tf_frames}
    (out / 'logs').mkdir(exist_ok=True)
    procs = [NodeProcess(spec, out / 'logs' / f'{spec.name}.log')
             for spec in node_specs(nodes, args.robot_config, datum)]
    context = rclpy.Context()
    rclpy.init(context=context, args=['--ros-args', '-p', 'use_sim_time:=false'])
    node = rclpy.create_node('rover_replay', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    recorder = OutputRecorder(node, out / 'replay.mcap', outputs)
    player = Player(node, recorded, inputs, drop, args.rate)
    spinning = threading.Event()
    spinning.set()

    def spin() -> None:
        while spinning.is_set() and context.ok():
            executor.spin_once(timeout_sec=0.05)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    message, codes = '', {}
    try:
        deadline = time.monotonic() + args.start_timeout
        while player.waiting_for() or any(node.count_publishers(t) == 0 for t in outputs if t != 'datum'):
            dead = [p.spec.name for p in procs if not p.alive()]
            if dead:
                raise RuntimeError(f'{", ".join(dead)} ended during start-up (see {out}/logs/)')
            if time.monotonic() > deadline:
                raise RuntimeError(f'the nodes did not come up within {args.start_timeout:.0f} s (waiting '
                                   f'for subscribers of {player.waiting_for()}; see {out}/logs/)')
            time.sleep(0.1)
        print(f'{prog}: {", ".join(nodes)} up after {time.monotonic() - wall_start:.1f} s; playing '
              f'{args.recording} at {"full speed" if args.rate == 0 else f"{args.rate:g}x"}', flush=True)
        player.play(args.recording)
        time.sleep(SETTLE_S)     # the last outputs are in flight; nothing to wait on but time
    except RuntimeError as error:
        message = str(error)
        print(f'{prog}: {message}', file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        message = 'interrupted'
        player.stop.set()
    finally:
        for proc in procs:
            codes[proc.spec.name] = proc.stop()
        spinning.clear()
        spinner.join(5.0)
        recorder.close()
        node.destroy_node()
        executor.shutdown()
        context.try_shutdown()
    report = replay_report(args, nodes, out, published=player.published, produced=recorder.counts,
                           codes=codes, message=message, wall=time.monotonic() - wall_start)
    (out / 'replay_report.json').write_text(json.dumps(report, indent=2) + '\n', encoding='utf-8')
    print_summary(report, out)
    return 0 if report['success'] else 1


def _num(value) -> float | None:
    return round(float(value), 4) if value is not None and math.isfinite(value) else None


def replay_report(args, nodes, out: Path, *, published: dict, produced: dict, codes: dict, message: str,
                  wall: float) -> dict:
    """The comparison of the replayed outputs with the recording (json-ready)."""
    original = analyse(decoded(args.recording))
    replayed = analyse(decoded(out / 'replay.mcap')) if (out / 'replay.mcap').is_file() else None
    report = {'recording': str(args.recording), 'nodes': nodes, 'rate': args.rate, 'wall_time_s': _num(wall),
              'message': message, 'inputs_published': published, 'outputs_recorded': produced,
              'node_exit_codes': codes}
    works = [not message]
    if 'ekf_localization' in nodes:
        estimate = replayed.estimate if replayed else None
        errors = error_series(estimate, original.truth) if estimate is not None else None
        report['ekf'] = {
            'samples': len(estimate) if estimate is not None else 0,
            'truth_samples': len(original.truth),
            'replay_rmse_m': _num(rmse(estimate, original.truth)) if estimate is not None else None,
            'recorded_rmse_m': _num(rmse(original.estimate, original.truth)),
            'replay_vs_recorded_rmse_m': (_num(rmse(estimate, original.estimate))
                                          if estimate is not None else None),
            'final_error_m': _num(errors[-1, 1]) if errors is not None and len(errors) else None,
            'max_error_m': _num(errors[:, 1].max()) if errors is not None and len(errors) else None}
        works.append(report['ekf']['samples'] > 0)
    if 'aruco_detector' in nodes:
        report['detections'] = {'recorded': dict(original.detections),
                                'replay': dict(replayed.detections) if replayed else {}}
        works.append(produced.get('markers', 0) > 0)
    if 'obstacle_grid' in nodes:
        works.append(produced.get('obstacles/grid', 0) > 0)
    report['success'] = all(works)
    return report


def print_summary(report: dict, out: Path) -> None:
    print(f'\nrover replay: {"OK" if report["success"] else "FAILED"}'
          + (f': {report["message"]}' if report['message'] else ''))
    print('  outputs: ' + ', '.join(f'{t} {n}' for t, n in report['outputs_recorded'].items()))
    ekf = report.get('ekf')
    if ekf:
        print(f'  EKF vs ground truth: replay RMSE {ekf["replay_rmse_m"]} m ({ekf["samples"]} samples), '
              f'recorded RMSE {ekf["recorded_rmse_m"]} m, replay vs recorded '
              f'{ekf["replay_vs_recorded_rmse_m"]} m')
    det = report.get('detections')
    if det:
        print(f'  confirmed detections: recorded {det["recorded"] or "none"}, '
              f'replay {det["replay"] or "none"}')
    print(f'  {out}/replay_report.json, replay.mcap, logs/', flush=True)
