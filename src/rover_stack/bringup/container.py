"""``rover_container``: several nodes in one process and one executor (the Python counterpart of an
rclcpp component container), so they share a DDS participant and coalesce their wake-ups.

    rover_container --node EXECUTABLE --ros-args ... [--node EXECUTABLE --ros-args ...]...

Each ``--node`` names a key of ``COMPONENTS`` (rover_stack/executables.py); the tokens up to the next
``--node`` are that node's own ROS arguments (name, namespace, parameters, remappings), given to the
node alone (``use_global_arguments=False``). The runner and the launch files build this command from
the nodes of config/node_sets.yaml that name the same ``container`` (docs/bringup.md). SIGINT/SIGTERM
destroy the nodes in reverse order while the context is still valid (the drive controller's final zero
command goes out). Exit 1 if a node refuses its parameters, 2 on a malformed command line.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from rover_stack.common.node_main import run_nodes
from rover_stack.executables import COMPONENTS

NODE_FLAG = '--node'


class ContainerArgsError(ValueError):
    """The container's command line is malformed; the message says how."""


def parse_members(argv: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(executable, ROS arguments) per ``--node`` group of ``argv``, in order."""
    if not argv or argv[0] != NODE_FLAG:
        raise ContainerArgsError(f'expected {NODE_FLAG} EXECUTABLE first, got {list(argv[:1]) or "nothing"}')
    members: list[tuple[str, list[str]]] = []
    for token in argv:
        if token == NODE_FLAG:
            members.append(('', []))
        elif not members[-1][0]:
            if token not in COMPONENTS:
                raise ContainerArgsError(f'{token!r} cannot run in a container; known: {sorted(COMPONENTS)}')
            members[-1] = (token, [])
        else:
            members[-1][1].append(token)
    if any(not executable for executable, _ in members):
        raise ContainerArgsError(f'{NODE_FLAG} without an executable')
    return members


def node_class(executable: str) -> type:
    """The node class registered for ``executable`` in COMPONENTS."""
    module, _, attribute = COMPONENTS[executable].partition(':')
    return getattr(importlib.import_module(module), attribute)


def _factory(cls: type, ros_arguments: list[str]):
    return lambda: cls(cli_args=ros_arguments, use_global_arguments=False)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        members = parse_members(argv)
    except ContainerArgsError as error:
        sys.stderr.write(f'rover_container: error: {error}\n')
        return 2
    factories = [_factory(node_class(executable), ros) for executable, ros in members]
    # No process-wide ROS arguments: each node has its own (rcl would refuse the --node tokens).
    return run_nodes(factories, 'rover_container', args=[sys.argv[0]], graceful_signals=True)


if __name__ == '__main__':
    sys.exit(main())
