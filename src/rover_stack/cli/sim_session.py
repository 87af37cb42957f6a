"""One ``rover sim`` session: stack up, mission goal, progress, recording, report (the job: cli/sim.py)."""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_srvs.srv import Trigger

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import MissionStatus
from rover_stack.autonomy import persistence
from rover_stack.autonomy.executive import OUTCOMES, RESTORED
from rover_stack.autonomy.goal_client import GoalClient
from rover_stack.autonomy.goals import default_mission_dirs
from rover_stack.cli.stack_process import ROBOT_FOR_KINEMATICS, StackProcess, rover_values, runner_argv
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.reporting.plot import plot_run
from rover_stack.reporting.recorder import RunRecorder
from rover_stack.reporting.report import LegRun, build_report, leg_truths

SERVER_WAIT = 180.0   # s wall: bring-up of every node on a loaded machine
GOAL_RESPONSE_WAIT = 5.0   # s wall without a goal response (or a result of an ended goal): send (ask) again
FINAL_RESULT_WAIT = 10.0   # s wall after a final mission/status without a result: use the progress file
FINAL_STATES = (MissionStatus.SUCCEEDED, MissionStatus.FAILED, MissionStatus.CANCELED)
PROGRESS_PERIOD = 5.0  # s wall between progress lines
START_HOLD_S = 30.0    # s wall after the start's reset_estop in which an e-stop pause is resumed once
ESTOP_PAUSED = 'paused by the e-stop'   # message prefix of the executive's e-stop pause


class Progress:
    """Terminal lines: one per state change, and a periodic one with the distance."""

    def __init__(self, mission):
        self.mission = mission
        self.last_key = None
        self.last_line = 0.0
        self.latest = None

    def on_status(self, msg) -> None:
        self.latest = msg
        key = (msg.state, msg.leg_index, msg.leg_state)
        if key != self.last_key:
            self.last_key = key
            self.print(msg)

    def tick(self) -> None:
        if self.latest is not None and time.monotonic() - self.last_line >= PROGRESS_PERIOD:
            self.print(self.latest)

    def print(self, msg) -> None:
        self.last_line = time.monotonic()
        running = msg.leg_count > 0 and msg.leg_index < len(self.mission.legs)
        leg = self.mission.legs[msg.leg_index] if running else None
        where = f'leg {msg.leg_index + 1}/{msg.leg_count} {leg.kind} {leg.name}' if leg else 'mission'
        distance = (f'  {msg.distance_to_target:6.1f} m to target'
                    if math.isfinite(msg.distance_to_target) else '')
        print(f'[{msg.header.stamp.sec:5d} s sim] {where}: {msg.leg_state or "idle"}{distance}'
              + (f'  ({msg.message})' if msg.message and msg.leg_state in ('arrived', 'succeeded', 'failed',
                                                                            'aborted', 'canceled') else ''),
              flush=True)


def _goal(mission_path: Path) -> ExecuteMission.Goal:
    resolved = mission_path.resolve()
    if any(resolved.is_relative_to(d.resolve()) for d in default_mission_dirs()):
        return ExecuteMission.Goal(mission_file=str(resolved))
    return ExecuteMission.Goal(mission_yaml=resolved.read_text(encoding='utf-8'))


def _leg_runs(recorder: RunRecorder, outcomes: list[tuple[str, float]]) -> list[LegRun]:
    runs = []
    for i, (outcome, duration) in enumerate(outcomes):
        arrived = [t for t, s in recorder.statuses if s.leg_index == i and s.leg_state == 'arrived']
        ended = [t for t, s in recorder.statuses if s.leg_index > i or (s.leg_index == i and s.state >= 5)]
        at = arrived[0] if arrived else (ended[0] if ended else None)
        runs.append(LegRun(outcome, duration, at))
    return runs


def run_session(args, course, mission, mission_path: Path, out: Path) -> int:
    wall_start = time.monotonic()
    progress_path = (out / 'mission_progress.json').resolve()
    speed = 'real time' if args.realtime else 'as fast as possible'
    print(f'rover sim: course {course.name!r}, mission {mission.name!r} ({len(mission.legs)} legs), seed '
          f'{args.seed}, {speed}; output in {out}/', flush=True)
    if progress_path.exists():
        # An earlier run in this directory (e.g. one that was killed): the executive would resume its
        # mission at that run's next leg. A new run starts the mission from its first leg.
        progress_path.unlink()
        print(f'rover sim: removed {progress_path.name} of an earlier run in {out}', flush=True)
    devices_process = None
    if getattr(args, 'devices', 'direct') == 'emulated':
        devices_process, argv = _start_emulated_devices(args, course, mission_path, out, progress_path)
        if argv is None:
            return 1
    else:
        argv = runner_argv(course.source, str(mission_path), args, progress_path)
    stack = StackProcess(argv, out / 'stack.log', args.verbose)
    timeout = args.timeout or sum(leg.timeout for leg in mission.legs) + 120.0
    context = rclpy.Context()
    rclpy.init(context=context, args=['--ros-args', '-p', 'use_sim_time:=false'])
    node = rclpy.create_node('rover_sim_client', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    progress = Progress(mission)
    recorder = RunRecorder(node, out / 'run.mcap', on_status=progress.on_status,
                           sensors=getattr(args, 'record_sensors', False))
    # A re-sent goal attaches to the running mission: the goal it replaces is dropped, not canceled.
    client = GoalClient(node, ExecuteMission, 'execute_mission', GOAL_RESPONSE_WAIT, cancel_replaced=False)
    resume = node.create_client(Trigger, 'mission/resume')
    resume_future = None
    goal = _goal(mission_path)
    result, message, sent_for, final_status, final_since = None, '', 0, None, 0.0
    try:
        deadline = time.monotonic() + SERVER_WAIT
        while not client.server_is_ready():
            if not stack.alive() or time.monotonic() > deadline:
                raise RuntimeError('the stack did not come up (see stack.log)')
            executor.spin_once(timeout_sec=0.1)
        # A started drive controller is latched (docs/safety.md): this job is the operator and resets
        # the e-stop once, at the start. A controller respawned later stays latched: the rover stops.
        try:
            answer = reset_estop(node, executor, timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError as error:
            raise RuntimeError(str(error)) from None
        print(f'rover sim: stack up after {time.monotonic() - wall_start:.0f} s; reset_estop as the operator '
              f'({answer}); sending the mission', flush=True)
        reset_done = time.monotonic()
        deadline = time.monotonic() + timeout
        while result is None:
            # Send the goal at the start, and again after a respawn of the executive (it resumes from the
            # last completed leg); the client sends it again by itself when no goal response came.
            if len(stack.starts) > sent_for:
                if sent_for:
                    print('rover sim: mission executive respawned: sending the goal again', flush=True)
                    client.resend()
                else:
                    client.send(goal)
                sent_for = len(stack.starts)
            client.step(time.monotonic())
            for event in client.take_events():
                if event.kind == 'rejected':
                    raise RuntimeError('the mission goal was rejected')
                if event.kind == 'result':
                    result = event.result
            if result is not None:
                break
            status = progress.latest
            restored = status is not None and status.state == MissionStatus.PAUSED \
                and status.message.startswith(RESTORED)
            # The goal went out right after this job's reset_estop; an executive that had not seen the
            # reset yet holds the mission paused by the e-stop: the job resumes it, at the start only.
            start_hold = status is not None and status.state == MissionStatus.PAUSED \
                and status.message.startswith(ESTOP_PAUSED) and time.monotonic() - reset_done < START_HOLD_S
            if start_hold and (resume_future is None or resume_future.done()) and resume.service_is_ready():
                print('rover sim: the mission started paused by the e-stop just reset: resuming it',
                      flush=True)
                resume_future = resume.call_async(Trigger.Request())
                progress.latest = None
            elif restored and (resume_future is None or resume_future.done()) and resume.service_is_ready():
                # A respawned executive holds the mission paused until the operator resumes it
                # (docs/safety.md); this job stands in for the operator and resumes it at once.
                print('rover sim: mission restored paused after a respawn: resuming it (mission/resume, as '
                      'the operator would)', flush=True)
                resume_future = resume.call_async(Trigger.Request())
                progress.latest = None          # wait for the next status before deciding again
            if status is not None and status.state in FINAL_STATES and status.mission_name == mission.name:
                final_status, final_since = status, final_since or time.monotonic()
                if time.monotonic() - final_since > FINAL_RESULT_WAIT:   # the result went to a dead goal
                    message = status.message
                    break
            if not stack.alive():
                raise RuntimeError(f'the stack stopped (exit {stack.process.returncode}; see stack.log)')
            if devices_process is not None and not devices_process.alive():
                raise RuntimeError('the device emulation stopped (exit '
                                   f'{devices_process.process.returncode}; see devices.log)')
            if time.monotonic() > deadline:
                raise RuntimeError(f'no result within {timeout:.0f} s (--timeout)')
            executor.spin_once(timeout_sec=0.1)
            progress.tick()
    except RuntimeError as error:
        message = str(error)
        print(f'rover sim: {message}', file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        message = 'interrupted'
        print('rover sim: interrupted: stopping the stack', file=sys.stderr, flush=True)
    finally:
        code = stack.stop()
        if devices_process is not None:
            devices_process.stop()
        executor.spin_once(timeout_sec=0.1)
        recorder.close()
        node.destroy_node()
        executor.shutdown()
        context.try_shutdown()
    if result is not None:
        outcomes = [(OUTCOMES[leg.outcome], leg.duration) for leg in result.legs]
        message = result.message
    else:
        outcomes = _outcomes_from_progress(progress_path, len(mission.legs))
    succeeded = result.success if result is not None else (
        final_status is not None and final_status.state == MissionStatus.SUCCEEDED)
    report = _write_outputs(out, course, mission, args, recorder, outcomes=outcomes, succeeded=succeeded,
                            message=message, wall=time.monotonic() - wall_start, stack_code=code)
    _print_summary(report, out)
    return 0 if report['success'] else 1


def _start_emulated_devices(args, course, mission_path: Path, out: Path, progress: Path):
    """The simulator as emulated devices (devices.log) and the rover profile's runner command for them;
    (process, None) after printing why when the devices did not come up."""
    from rover_stack.cli import emulated_devices as emulation  # noqa: PLC0415 - loads mujoco: --devices emulated only

    robot = ROBOT_FOR_KINEMATICS[args.kinematics]
    argv = emulation.simulator_argv(course.source, robot, args.seed, (out / 'devices').resolve(),
                                    args.device_faults)
    process = StackProcess(argv, out / 'devices.log', args.verbose)
    try:
        devices = emulation.wait_for_devices(out / 'devices', process.alive)
    except RuntimeError as error:
        print(f'rover sim: {error}', file=sys.stderr, flush=True)
        process.stop()
        return process, None
    print('rover sim: emulated devices up: ' + ', '.join(f'{k} {v}' for k, v in devices.items()), flush=True)
    values = rover_values(str(mission_path), args, progress)
    return process, emulation.rover_runner_argv(devices, values, args.node_sets)


def _device_extra(out: Path, args, recorder) -> dict:
    """Report fields of a run on emulated devices: the real drivers, the fault events, the mission span."""
    if getattr(args, 'devices', 'direct') != 'emulated':
        return {'devices': 'direct'}
    from rover_stack.cli.emulated_devices import drivers_started  # noqa: PLC0415 - loads mujoco: emulated only

    try:
        log = (out / 'devices.log').read_text(encoding='utf-8').splitlines()
    except OSError:
        log = []
    return {'devices': 'emulated', 'real_drivers': drivers_started(out / 'stack.log'),
            'device_faults': args.device_faults,
            'device_events': [line for line in log if 'fault ' in line or 'first motion' in line],
            'real_time': [line for line in log if 'real-time factor' in line]}


def _outcomes_from_progress(path: Path, count: int) -> list[tuple[str, float]]:
    try:
        saved = persistence.load(path)
    except persistence.ProgressError:
        saved = None
    outcomes = [('PENDING', math.nan)] * count
    for leg in saved.legs if saved else []:
        if 0 <= leg.index < count:
            outcomes[leg.index] = (leg.outcome, leg.duration)
    return outcomes


def _write_outputs(out, course, mission, args, recorder, *, outcomes, succeeded, message, wall,
                   stack_code) -> dict:
    plane = course.datum.plane()
    truths = leg_truths(course, mission, plane)
    extra = _device_extra(out, args, recorder)
    sim_time = recorder.sim_time
    if extra['devices'] == 'emulated':   # ground truth stamped with the wall clock: the span of the run
        sim_time = recorder.truth.t[-1] - recorder.truth.t[0] if len(recorder.truth) else 0.0
    report = build_report(
        course=course.name, mission=mission.name, seed=args.seed, legs=truths,
        runs=_leg_runs(recorder, outcomes), truth=recorder.truth, estimate=recorder.estimate,
        collisions=recorder.collisions, sim_time_s=sim_time, wall_time_s=wall,
        mission_success=bool(succeeded), message=message,
        extra={'kinematics': args.kinematics, 'realtime': args.realtime,
               'recorded_messages': recorder.messages, 'gnss_fixes': len(recorder.fixes),
               'stack_exit_code': stack_code, 'mission_executive_starts': len(recorder_starts(out)),
               **extra})
    (out / 'report.json').write_text(json.dumps(report, indent=2) + '\n', encoding='utf-8')
    fixes = []
    for lat, lon in recorder.fixes:
        east, north, _ = plane.to_enu(lat, lon)
        fixes.append((float(east), float(north)))
    verdict = 'success' if report['success'] else 'FAILED'
    plot_run(out / 'trajectory.png', course, truths, report['legs'], truth=recorder.truth,
             estimate=recorder.estimate, gnss=fixes, detections=recorder.detections_in_map(),
             title=f'{course.name} seed {args.seed}: {verdict}')
    return report


def recorder_starts(out: Path) -> list[str]:
    try:
        text = (out / 'stack.log').read_text(encoding='utf-8')
    except OSError:
        return []
    return [line for line in text.splitlines() if 'started mission_executive' in line]


def _print_summary(report: dict, out: Path) -> None:
    print(f'\nrover sim: {"SUCCESS" if report["success"] else "FAILED"}'
          + (f': {report["message"]}' if report['message'] else ''))
    for i, leg in enumerate(report['legs']):
        error = '-' if leg['final_error_m'] is None else f'{leg["final_error_m"]:.2f} m'
        time_s = '-' if leg['time_s'] is None else f'{leg["time_s"]:.0f} s'
        print(f'  leg {i + 1} {leg["kind"]:6s} {leg["name"]:16s} {leg["outcome"]:9s} '
              f'{"reached" if leg["reached"] else "missed ":7s} error {error:>8s} '
              f'(tol {leg["tolerance_m"]} m) time {time_s}')
    rmse = report['localization_rmse_m']
    print(f'  sim time {report["sim_time_s"]} s, wall {report["wall_time_s"]:.0f} s, path '
          f'{report["path_length_m"]} m, localization RMSE {rmse if rmse is None else round(rmse, 2)} m, '
          f'collisions {report["collisions"]}')
    print(f'  {out}/report.json, run.mcap, trajectory.png, stack.log', flush=True)
