"""Launch descriptions built from config/node_sets.yaml, for machines with a ROS 2 distro.

``launch/<profile>.launch.py`` calls ``generate_launch_description_for('<profile>')``. Every profile
argument becomes a ``DeclareLaunchArgument`` (default, description, choices); every node a
``launch_ros`` ``Node`` with the same name, namespace, parameters, remappings, respawn and condition
that ``rover_runner`` uses (node_set.py resolves both). ``$(arg NAME)`` becomes
``LaunchConfiguration(NAME)``; ``when`` becomes an ``IfCondition``; a required node without respawn
shuts the launch down when it exits (``on_exit=Shutdown``). The nodes that name the same
``container`` become one ``rover_container`` process, built when the launch runs (an
``OpaqueFunction`` resolving the profile with the launch configurations, as the runner does). The
runner's exponential back-off and its "failed to start" check have no launch equivalent: launch
respawns after a fixed ``respawn_delay``.

``launch`` and ``launch_ros`` are imported only when a description is built, so this module imports
anywhere.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rover_stack.bringup.node_set import (
    CONTAINER_EXECUTABLE,
    TRUE_TEXT,
    ArgRef,
    Condition,
    NodeEntry,
    ProcessSpec,
    Profile,
    Template,
    load_node_sets,
    process_args,
    processes,
    resolve,
)
from rover_stack.common.share_files import package_share_dir


def generate_launch_description_for(profile_name: str, config: str | Path | None = None):
    """The LaunchDescription of ``profile_name`` in ``config`` (default: the package's node_sets.yaml)."""
    # launch and launch_ros are imported here, not at the top: they exist only with a ROS distro.
    from launch.actions import DeclareLaunchArgument  # noqa: PLC0415 - launch: only with a ROS distro

    from launch import LaunchDescription  # noqa: PLC0415 - launch: only with a ROS distro

    share = package_share_dir()
    profiles = load_node_sets(config or share / 'config' / 'node_sets.yaml')
    if profile_name not in profiles:
        raise ValueError(f'no profile {profile_name!r} in the node sets; profiles: {sorted(profiles)}')
    profile = profiles[profile_name]
    entities: list[Any] = []
    for decl in profile.args.values():
        kwargs = {'default_value': decl.default, 'description': decl.description}
        if decl.choices is not None:
            kwargs['choices'] = list(decl.choices)
        entities.append(DeclareLaunchArgument(decl.name, **kwargs))
    containers_done: set[str] = set()
    for entry in profile.nodes:
        if entry.container is None:
            entities.append(node_action(profile, entry, share))
        elif entry.container not in containers_done:
            containers_done.add(entry.container)
            entities.append(container_action(profile, entry.container, share))
    return LaunchDescription(entities)


def substitutions(template: Template):
    """A template as launch sees it: plain text, one LaunchConfiguration, or a tuple of both kinds."""
    from launch.substitutions import LaunchConfiguration, TextSubstitution  # noqa: PLC0415 - launch: only with a ROS distro

    if all(isinstance(part, str) for part in template):
        return ''.join(template)            # type: ignore[arg-type]
    if len(template) == 1:
        return LaunchConfiguration(template[0].name)   # type: ignore[union-attr]
    return tuple(LaunchConfiguration(p.name) if isinstance(p, ArgRef) else TextSubstitution(text=p)
                 for p in template)


def condition(when: Condition):
    """``when`` as an IfCondition on the launch configuration (same rule as Condition.holds)."""
    from launch.conditions import IfCondition  # noqa: PLC0415 - launch: only with a ROS distro
    from launch.substitutions import LaunchConfiguration, PythonExpression  # noqa: PLC0415 - launch: only with a ROS distro

    if when.op is None and not when.also:
        return IfCondition(LaunchConfiguration(when.arg))
    expression: list[Any] = []
    for part in (when, *when.also):
        if expression:
            expression.append(' and ')
        if part.op is None:     # truthiness as IfCondition reads it (the argument's choices keep it valid)
            expression += ["'", LaunchConfiguration(part.arg), f"'.lower() in {TRUE_TEXT!r}"]
        else:
            expression += ["'", LaunchConfiguration(part.arg), f"' {part.op} '{part.value}'"]
    return IfCondition(PythonExpression(expression))


def namespace_template(profile: Profile, entry: NodeEntry) -> Template:
    """The node namespace as launch builds it: [namespace arg, '/', relative namespace]."""
    if not profile.namespaced:
        return entry.namespace
    return (ArgRef('namespace'), '/', *entry.namespace) if entry.namespace else (ArgRef('namespace'),)


def node_action(profile: Profile, entry: NodeEntry, share: Path):
    """The launch_ros Node for one entry of ``profile``."""
    from launch.actions import Shutdown  # noqa: PLC0415 - launch: only with a ROS distro
    from launch_ros.actions import Node  # noqa: PLC0415 - launch: only with a ROS distro

    parameters: list[Any] = [substitutions((str(share) + '/', *path)) for path in entry.param_files]
    if entry.parameters:
        parameters.append({name: substitutions(value) if isinstance(value, tuple) else value
                           for name, value in entry.parameters.items()})
    kwargs: dict[str, Any] = {
        'package': entry.package,
        'executable': entry.executable,
        'name': entry.name,
        'namespace': substitutions(namespace_template(profile, entry)),
        'parameters': parameters,
        'remappings': [(substitutions(a), substitutions(b)) for a, b in entry.remappings],
        'respawn': entry.respawn,
        'respawn_delay': entry.respawn_delay,
        'output': 'screen',
    }
    if entry.when is not None:
        kwargs['condition'] = condition(entry.when)
    if entry.required and not entry.respawn:
        kwargs['on_exit'] = Shutdown(reason=f'required node {entry.name} exited')
    return Node(**kwargs)


def container_action(profile: Profile, container: str, share: Path):
    """An OpaqueFunction that starts ``container``'s members (those whose ``when`` holds) as one
    rover_container process, with the argument values of the running launch."""
    from launch.actions import OpaqueFunction  # noqa: PLC0415 - launch: only with a ROS distro

    def build(context):
        values = {name: context.launch_configurations.get(name, decl.default)
                  for name, decl in profile.args.items()}
        members = [spec for spec in resolve(profile, values, share) if spec.container == container]
        return [container_node(process) for process in processes(members)]

    return OpaqueFunction(function=build)


def container_node(process: ProcessSpec):
    """The launch_ros Node running ``process`` (a container) with its members' own ROS arguments."""
    from launch.actions import Shutdown  # noqa: PLC0415 - launch: only with a ROS distro
    from launch_ros.actions import Node  # noqa: PLC0415 - launch: only with a ROS distro

    kwargs: dict[str, Any] = {
        'package': process.members[0].package,
        'executable': CONTAINER_EXECUTABLE,
        'arguments': process_args(process),
        'respawn': process.respawn,
        'respawn_delay': process.respawn_delay,
        'output': 'screen',
    }
    if process.required and not process.respawn:
        kwargs['on_exit'] = Shutdown(reason=f'required container {process.name} exited')
    return Node(**kwargs)
