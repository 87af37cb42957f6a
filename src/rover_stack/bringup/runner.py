"""``rover_runner``: bring a profile of config/node_sets.yaml up as processes, without ``ros2 launch``.

    rover_runner PROFILE [--arg NAME:=VALUE ...] [--duration S] [--config FILE] [--shutdown-timeout S]
    rover_runner --list [PROFILE [--arg NAME:=VALUE ...]]   # profiles, or a profile's arguments and commands

Each node runs as its own process in its own process group. Every output line is prefixed with
``[node_name]``; the runner's own lines with ``[rover_runner]``, among them
``started NAME (pid N)`` and ``NAME exited with code C`` so scripts and tests can follow it.
Crashed nodes with ``respawn`` come back with exponential back-off (supervisor.py). SIGINT or
SIGTERM is forwarded to every node as SIGINT; nodes still alive after ``--shutdown-timeout`` s are
SIGKILLed, and so are all at once on another signal more than ``DOUBLE_PRESS`` s after the first (one
sooner is the same request: a double Ctrl-C, or a terminal and a supervisor sending one each).
Children get SIGTERM from the kernel if the runner itself dies (PR_SET_PDEATHSIG).

Exit codes: 0 clean stop, 1 a required node failed (or nothing to run, or every node ended and one
with an error), 2 bad profile/arguments.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import selectors
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import yaml

from rover_stack.bringup.graph_check import PortsError, check_profile, choice_combinations, load_ports
from rover_stack.bringup.node_set import (
    CONTAINER_EXECUTABLE,
    PACKAGE,
    NodeSetError,
    NodeSpec,
    ProcessSpec,
    Profile,
    argument_values,
    load_node_sets,
    parse_arg_assignments,
    process_args,
    processes,
    resolve,
    ros_args,
    section_applies,
)
from rover_stack.bringup.supervisor import RestartPolicy, Supervisor
from rover_stack.common.child_process import die_with_parent
from rover_stack.common.domains import claim_domain_if_unset, domain_note
from rover_stack.common.share_files import package_share_dir
from rover_stack.executables import EXECUTABLES

DOUBLE_PRESS = 1.0       # s, a second SIGINT/SIGTERM this soon after the first is the same request
_POLL = 0.1              # s, longest wait of the event loop


# --- commands --------------------------------------------------------------------------------

def installed_executable(executable: str, package: str = PACKAGE) -> str | None:
    """<prefix>/lib/<package>/<executable> from the ament index, if installed there."""
    try:
        from ament_index_python.packages import (  # noqa: PLC0415 - ament_index_python: optional
            PackageNotFoundError,
            get_package_prefix,
        )
    except ImportError:
        return None
    try:
        path = Path(get_package_prefix(package)) / 'lib' / package / executable
    except (PackageNotFoundError, ValueError):
        return None
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def fallback_command(executable: str) -> list[str]:
    """Run the EXECUTABLES target with this interpreter (source tree, nothing installed)."""
    module, function = EXECUTABLES[executable].split(':')
    return [sys.executable, '-c', f'import sys; from {module} import {function}; sys.exit({function}())']


def program(executable: str, package: str = PACKAGE) -> list[str]:
    """The installed program of ``executable``, else (rover_stack only) this interpreter running its
    target; another package's executable that is not installed is its bare name (it fails to start)."""
    installed = installed_executable(executable, package)
    if installed:
        return [installed]
    return fallback_command(executable) if package == PACKAGE else [executable]


def node_command(spec: NodeSpec) -> list[str]:
    """The full argv of ``spec`` run as its own process."""
    return program(spec.executable, spec.package) + ros_args(spec)


def process_command(process: ProcessSpec) -> list[str]:
    """The full argv of ``process``: one node, or a ``rover_container`` of several."""
    return program(process.executable, process.members[0].package) + process_args(process)


def unavailable(specs: Sequence[NodeSpec]) -> list[NodeSpec]:
    """The nodes of other packages (e.g. a vendor's lidar driver) whose package is not installed here."""
    return [spec for spec in specs
            if spec.package != PACKAGE and installed_executable(spec.executable, spec.package) is None]


def preflight(specs: Sequence[NodeSpec]) -> list[str]:
    """Problems that would make a node fail at once: missing parameter files or modules."""
    problems = []
    for spec in specs:
        problems += [f'{spec.name}: parameter file {path} does not exist'
                     for path in spec.param_files if not Path(path).is_file()]
        if spec.package != PACKAGE:
            continue          # another package's node: unavailable() reports it
        executable = CONTAINER_EXECUTABLE if spec.container else spec.executable
        if installed_executable(executable) is None:
            module = EXECUTABLES[executable].split(':')[0]
            if _missing(module):
                problems.append(f'{spec.name}: executable {executable} is neither installed nor '
                                f'importable (module {module})')
    return problems


def unused_param_files(specs: Sequence[NodeSpec]) -> list[str]:
    """Warnings for parameter files that have no section for the node they are given to."""
    warnings = []
    for spec in specs:
        for path in spec.param_files:
            try:
                keys = list(yaml.safe_load(Path(path).read_text()) or {})
            except (OSError, yaml.YAMLError, TypeError):
                continue      # rcl reports unreadable files itself
            if not any(isinstance(k, str) and section_applies(k, spec.namespace, spec.name) for k in keys):
                warnings.append(f'{spec.name}: no section of {path} applies to {spec.namespace.rstrip("/")}/'
                                f'{spec.name} (sections: {", ".join(map(str, keys))}); key it '
                                f'/**/{spec.name} to follow the node into a namespace')
    return warnings


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


# --- process layer ---------------------------------------------------------------------------

class _Child:
    """A running process (a node or a container) and the unfinished tail of its output."""

    def __init__(self, spec: ProcessSpec, process: subprocess.Popen):
        self.spec, self.process, self.pending = spec, process, b''


class ProcessRunner:
    """Runs the processes of ``specs`` (``processes``: a node alone or a container of several) under a
    ``Supervisor`` until stopped, failed or all ended. Processes are named after their node or container."""

    def __init__(self, specs: Sequence[NodeSpec], policy: RestartPolicy | None = None,
                 out: TextIO | None = None, shutdown_timeout: float = 3.0,
                 command: Callable[[ProcessSpec], list[str]] = process_command):
        self.specs = {process.name: process for process in processes(list(specs))}
        self.supervisor = Supervisor(policy or RestartPolicy())
        self.out = out or sys.stdout
        self.shutdown_timeout = shutdown_timeout
        self.command = command
        self.children: dict[str, _Child] = {}
        self.selector = selectors.DefaultSelector()
        self.stop_reason: str | None = None
        self._signals = 0
        self._last_signal = 0.0   # time.monotonic() of the latest SIGINT/SIGTERM
        self._output_lost = False
        self._ended_badly: list[str] = []     # not-required nodes that ended with an error, for good

    # output
    def emit(self, label: str, text: str) -> None:
        if self._output_lost:
            return
        try:
            self.out.write(f'[{label}] {text}\n')
            self.out.flush()
        except (BrokenPipeError, ValueError):   # reader gone (e.g. `| head`): keep supervising
            self._output_lost = True

    def note(self, text: str) -> None:
        self.emit('rover_runner', text)

    def _read(self, child: _Child, final: bool = False) -> None:
        stream = child.process.stdout
        while True:
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                chunk = None
            if not chunk:
                break
            child.pending += chunk
            *lines, child.pending = child.pending.split(b'\n')
            for line in lines:
                self.emit(child.spec.name, line.decode(errors='replace').rstrip('\r'))
            if not final:
                break
        if final and child.pending:
            self.emit(child.spec.name, child.pending.decode(errors='replace'))
            child.pending = b''

    # processes
    def _start(self, name: str) -> None:
        spec = self.specs[name]
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        env.setdefault('RCUTILS_LOGGING_BUFFERED_STREAM', '0')
        try:
            process = subprocess.Popen(
                self.command(spec), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=env, process_group=0, close_fds=True,
                preexec_fn=die_with_parent(os.getpid()))  # noqa: PLW1509 - the runner has one thread
        except OSError as exc:
            decision = self.supervisor.start_failed(name, f'cannot execute: {exc}', time.monotonic())
            self.note(decision.reason)
            return
        os.set_blocking(process.stdout.fileno(), False)
        child = _Child(spec, process)
        self.children[name] = child
        self.selector.register(process.stdout, selectors.EVENT_READ, child)
        self.supervisor.started(name, process.pid, time.monotonic())
        self.note(f'started {name} (pid {process.pid})')

    def _reap(self) -> None:
        for name, child in list(self.children.items()):
            code = child.process.poll()
            if code is None:
                continue
            self._close(child)
            del self.children[name]
            if self.stop_reason is None:
                decision = self.supervisor.exited(name, code, time.monotonic())
                self.note(f'{name} exited with code {code}: {decision.reason}')
                if code != 0 and not decision.respawn:
                    self._ended_badly.append(name)
            else:
                self.note(f'{name} stopped (code {code})')

    def _close(self, child: _Child) -> None:
        self._read(child, final=True)
        self.selector.unregister(child.process.stdout)
        child.process.stdout.close()
        _kill_group(child.process.pid, signal.SIGKILL)   # leftovers of its process group, if any

    def _pump(self, timeout: float) -> None:
        for key, _events in self.selector.select(timeout=max(timeout, 0.0)) if self.children else ():
            self._read(key.data)
        if not self.children:
            time.sleep(max(min(timeout, _POLL), 0.0))

    # signals
    def _on_signal(self, signum, _frame) -> None:
        self._signals += 1
        self._last_signal = time.monotonic()
        if self.stop_reason is None:
            self.stop_reason = f'received {signal.Signals(signum).name}'

    def run(self, duration: float = 0.0) -> int:
        """Run until a signal, ``duration`` s (0: no limit), a fatal failure or every node ended."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._run(duration)
        except BaseException:
            for child in self.children.values():      # never leave nodes behind on a runner bug
                _kill_group(child.process.pid, signal.SIGKILL)
                child.process.wait()
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.selector.close()

    def _run(self, duration: float) -> int:
        start = time.monotonic()
        for name in self.specs:
            self.supervisor.add(name, respawn=self.specs[name].respawn, required=self.specs[name].required,
                                respawn_delay=self.specs[name].respawn_delay, now=start)
        while self.stop_reason is None:
            now = time.monotonic()
            if duration > 0 and now - start >= duration:
                self.stop_reason = f'duration of {duration:g} s reached'
                break
            for name in self.supervisor.due(now):
                self._start(name)
            if self.supervisor.failure is not None or self.supervisor.finished:
                break
            next_start = self.supervisor.next_event()
            wait = _POLL if next_start is None else min(_POLL, next_start - time.monotonic())
            self._pump(wait)
            self._reap()
            if self.supervisor.failure is not None or self.supervisor.finished:
                break
        reason = self.stop_reason or self.supervisor.failure or 'every node has ended'
        self.stop_reason = reason
        self.note(f'shutting down: {reason}')
        clean = self._shutdown()
        if self.supervisor.failure is not None:
            self.note(f'FAILED: {self.supervisor.failure}')
            return 1
        if self.supervisor.finished and self._ended_badly:
            self.note(f'FAILED: every node has ended, with errors: {", ".join(self._ended_badly)}')
            return 1
        self.note('stopped' + ('' if clean else ' (some nodes had to be killed)'))
        return 0

    def _shutdown(self) -> bool:
        """SIGINT every node, wait ``shutdown_timeout`` s, SIGKILL the rest; True if none was killed."""
        for child in self.children.values():
            _kill_group(child.process.pid, signal.SIGINT)
        start = time.monotonic()
        deadline = start + self.shutdown_timeout
        signals_seen = self._signals    # another SIGINT/SIGTERM after DOUBLE_PRESS s means: kill at once

        def impatient() -> bool:
            return self._signals > signals_seen and self._last_signal - start > DOUBLE_PRESS

        while self.children and time.monotonic() < deadline and not impatient():
            self._pump(min(_POLL, deadline - time.monotonic()))
            self._reap()
        clean = not self.children
        for name, child in list(self.children.items()):
            self.note(f'{name}: SIGKILL (signalled again)' if impatient() else
                      f'{name} did not stop within {self.shutdown_timeout:g} s: SIGKILL')
            _kill_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
            self._close(child)
            del self.children[name]
        return clean


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- command line ----------------------------------------------------------------------------

def default_config() -> Path:
    return package_share_dir() / 'config' / 'node_sets.yaml'


def describe(profiles: dict[str, Profile], name: str | None, overrides: dict[str, str], out: TextIO) -> None:
    """--list: the profiles, or one profile's arguments and the commands it would run."""
    if name is None:
        for profile in profiles.values():
            out.write(f'{profile.name}: {profile.description}\n')
        return
    profile = profiles[name]
    values = argument_values(profile, overrides)
    out.write(f'profile {name}: {profile.description}\narguments:\n')
    for decl in profile.args.values():
        choices = f' (one of {", ".join(decl.choices)})' if decl.choices else ''
        out.write(f'  {decl.name}:={values[decl.name]}  [default {decl.default!r}] '
                  f'{decl.description}{choices}\n')
    out.write('processes:\n')
    for process in processes(resolve(profile, overrides)):
        flags = ', '.join(f for f, on in (('required', process.required), ('respawn', process.respawn)) if on)
        nodes = ', '.join(m.name for m in process.members)
        what = f'container of {nodes}' if process.container else process.executable
        out.write(f'  {process.name} ({what}{", " + flags if flags else ""}):\n'
                  f'    {shlex.join(process_command(process))}\n')


def check_command(profiles: dict[str, Profile], name: str, overrides: dict[str, str], out: TextIO) -> int:
    """--check: the graph check of one profile over its choice arguments; 0 when every need is met."""
    if name not in profiles:
        raise NodeSetError(f'no profile {name!r}; profiles: {sorted(profiles)}')
    ports = load_ports()
    combinations = choice_combinations(profiles[name], overrides)
    failed = 0
    for values in combinations:
        unmet, notes = check_profile(profiles, name, values, ports)
        label = ' '.join(f'{k}:={v}' for k, v in sorted(values.items())) or '(defaults)'
        for note in notes:
            out.write(f'{name} {label}: note: {note}\n')
        if unmet:
            failed += 1
            out.write(f'{name} {label}: {len(unmet)} unmet need(s):\n')
            out.writelines(f'  {need}\n' for need in unmet)
    out.write(f'{name}: {"every need is met" if not failed else f"unmet needs in {failed}"} '
              f'of {len(combinations)} combination(s) of its choice arguments\n')
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='rover_runner', description=__doc__.split('\n\n')[0])
    parser.add_argument('profile', nargs='?', help='profile of the node-set file, e.g. sim')
    parser.add_argument('--arg', action='append', default=[], metavar='NAME:=VALUE',
                        help='set a launch argument of the profile (repeatable)')
    parser.add_argument('--duration', type=float, default=0.0, metavar='S',
                        help='stop cleanly after S seconds (0: run until SIGINT/SIGTERM)')
    parser.add_argument('--config', type=Path, default=None, metavar='FILE',
                        help='node-set file (default: config/node_sets.yaml of the package)')
    parser.add_argument('--list', action='store_true',
                        help='list the profiles, or the arguments and commands of PROFILE, and exit')
    parser.add_argument('--check', action='store_true',
                        help='check that PROFILE meets every need of its nodes (config/node_ports.yaml), for '
                             'every value of the choice arguments not set with --arg; print the unmet ones')
    parser.add_argument('--shutdown-timeout', type=float, default=3.0, metavar='S',
                        help='seconds to wait for nodes after SIGINT before SIGKILL (default 3)')
    return parser


def run_profile(profile_name: str, overrides: dict[str, str] | None = None, *, duration: float = 0.0,
                config: Path | None = None, shutdown_timeout: float = 3.0, out: TextIO | None = None) -> int:
    """Load, check and run a profile in this process (also used by rover_sim); the exit code."""
    out = out or sys.stdout
    runner_note = ProcessRunner([], out=out).note
    try:
        profiles = load_node_sets(config or default_config())
        if profile_name not in profiles:
            raise NodeSetError(f'no profile {profile_name!r}; profiles: {sorted(profiles)}')
        specs = resolve(profiles[profile_name], overrides or {})
    except NodeSetError as exc:
        runner_note(f'error: {exc}')
        return 2
    if not specs:
        runner_note(f'profile {profile_name!r} runs no node with these arguments: nothing to do')
        return 1
    for warning in unused_param_files(specs):
        runner_note(f'warning: {warning}')
    missing = unavailable(specs)
    for spec in missing:
        level = 'error' if spec.required else 'warning'
        runner_note(f'{level}: {spec.name} is unavailable: package {spec.package} (executable '
                    f'{spec.executable}) is not installed; not started')
    if any(spec.required for spec in missing):
        return 1
    specs = [spec for spec in specs if spec not in missing]
    if not specs:
        runner_note(f'profile {profile_name!r}: every node is unavailable: nothing to do')
        return 1
    problems = preflight(specs)
    if problems:
        for problem in problems:
            runner_note(f'error: {problem}')
        return 1
    return ProcessRunner(specs, out=out, shutdown_timeout=shutdown_timeout).run(duration)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        overrides = parse_arg_assignments(args.arg)
        if args.list:
            profiles = load_node_sets(args.config or default_config())
            if args.profile is not None and args.profile not in profiles:
                raise NodeSetError(f'no profile {args.profile!r}; profiles: {sorted(profiles)}')
            describe(profiles, args.profile, overrides, sys.stdout)
            return 0
        if args.check:
            if args.profile is None:
                build_parser().error('--check needs a PROFILE')
            return check_command(load_node_sets(args.config or default_config()), args.profile, overrides,
                                 sys.stdout)
    except BrokenPipeError:          # the reader is gone (e.g. `| head`)
        return 0
    except (NodeSetError, PortsError) as exc:
        sys.stderr.write(f'rover_runner: error: {exc}\n')
        return 2
    if args.profile is None:
        build_parser().error('PROFILE is required unless --list is given')
    if args.duration < 0 or args.shutdown_timeout < 0:
        build_parser().error('--duration and --shutdown-timeout must be >= 0')
    try:
        domain_id, claim = claim_domain_if_unset()   # two runs on one machine must not cross-talk
    except ValueError as exc:
        sys.stderr.write(f'rover_runner: error: {exc}\n')
        return 2
    sys.stdout.write(f'[rover_runner] {domain_note(domain_id, claim is not None)}\n')
    sys.stdout.flush()
    try:
        return run_profile(args.profile, overrides, duration=args.duration, config=args.config,
                           shutdown_timeout=args.shutdown_timeout)
    except KeyboardInterrupt:       # Ctrl-C while loading, before the runner took over the signal
        return 0


if __name__ == '__main__':
    sys.exit(main())
