"""The graph check: does a profile meet every need of its nodes? Pure: no rclpy, no launch.

``config/node_ports.yaml`` says what each node offers and needs (topics, services, actions, TF frames).
``ports_of(spec)`` resolves one node of a profile: its declared names with the node's namespace and
remappings applied, its conditional entries chosen by its parameters. ``unmet_needs`` then lists every
need that no node of the profile (or of its peers, the profiles on other machines it talks to) offers,
with the right type, and that is neither an input from outside nor waived by the profile.
``check_all_choices`` runs that for every combination of a profile's choice arguments.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rover_stack.bringup.node_set import (
    PACKAGE,
    NodeSetError,
    NodeSpec,
    Profile,
    argument_values,
    resolve,
    section_applies,
)
from rover_stack.common.share_files import package_share_dir
from rover_stack.description.xacro_expand import expand
from rover_stack.gazebo.bridge_config import load_bridge
from rover_stack.tf.urdf import fixed_transforms

KINDS = ('topics', 'services', 'actions')
FIXED_JOINTS = '$fixed_joints'
_ROLE_KEYS = ('offers', 'needs', 'uses')
_NODE_KEYS = {*_ROLE_KEYS, 'if', 'defaults', 'bridge', 'bridge_commands'}


class PortsError(ValueError):
    """config/node_ports.yaml is invalid, or a node has no entry in it."""


@dataclass
class Endpoints:
    """Names (fully qualified once resolved) -> ROS type, per kind; TF edges as (parent, child)."""
    topics: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    tf: list[tuple[str, str]] = field(default_factory=list)

    def kind(self, kind: str) -> dict[str, str]:
        return getattr(self, kind)

    def update(self, other: Endpoints) -> None:
        for kind in KINDS:
            self.kind(kind).update(other.kind(kind))
        self.tf += other.tf


@dataclass
class NodePorts:
    """One node's declaration as written (relative names), see config/node_ports.yaml."""
    offers: Endpoints
    needs: Endpoints
    uses: Endpoints
    conditional: list[tuple[str, Any, dict[str, Endpoints]]]    # (param, value, role -> endpoints)
    defaults: dict[str, Any]
    bridge: str | None = None             # gz_bridge: its bridge file
    bridge_commands: str | None = None    # gz_wheel_adapter: the bridge file whose ROS_TO_GZ topics it feeds


@dataclass(frozen=True)
class PortsFile:
    nodes: dict[str, NodePorts]
    outside: Endpoints


@dataclass
class ResolvedPorts:
    """One running node's endpoints, fully qualified."""
    node: str                             # fully qualified node name
    offers: Endpoints
    needs: Endpoints
    uses: Endpoints


@dataclass(frozen=True)
class Unmet:
    """A need nobody meets: which node, what kind (topics/services/actions/tf), the name and why."""
    node: str
    kind: str
    name: str
    reason: str

    def __str__(self) -> str:
        what = 'transform' if self.kind == 'tf' else self.kind[:-1]
        return f'{self.node} needs {what} {self.name}: {self.reason}'


# --- the declarations ------------------------------------------------------------------------

def load_ports(path: str | Path | None = None) -> PortsFile:
    """Read and validate config/node_ports.yaml (default: the package's)."""
    path = Path(path) if path is not None else package_share_dir() / 'config' / 'node_ports.yaml'
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PortsError(f'{path}: cannot read: {exc}') from exc
    if not isinstance(data, dict) or not isinstance(data.get('nodes'), dict):
        raise PortsError(f'{path}: expected a mapping with a nodes mapping')
    nodes = {key: _node_ports(f'{path}: node {key}', body or {}) for key, body in data['nodes'].items()}
    return PortsFile(nodes, _endpoints(f'{path}: outside_inputs', data.get('outside_inputs') or {}))


def _endpoints(where: str, raw: Any) -> Endpoints:
    if not isinstance(raw, dict) or set(raw) - {*KINDS, 'tf'}:
        raise PortsError(f'{where}: expected a mapping of {", ".join(KINDS)}, tf')
    result = Endpoints()
    for kind in KINDS:
        names = raw.get(kind) or {}
        typed = isinstance(names, dict) and all(
            isinstance(k, str) and isinstance(v, str) and v.count('/') == 2 for k, v in names.items())
        if not typed:
            raise PortsError(f'{where}: {kind} must map names to types like pkg/msg/Type')
        result.kind(kind).update(names)
    for edge in raw.get('tf') or []:
        if edge == FIXED_JOINTS:
            result.tf.append((FIXED_JOINTS, ''))
            continue
        parent, sep, child = str(edge).partition('->')
        if not sep or not parent or not child:
            raise PortsError(f'{where}: tf entries are parent->child, got {edge!r}')
        result.tf.append((parent.strip(), child.strip()))
    return result


def _node_ports(where: str, raw: Any) -> NodePorts:
    if not isinstance(raw, dict) or set(raw) - _NODE_KEYS:
        raise PortsError(f'{where}: keys must be among {sorted(_NODE_KEYS)}')
    roles = {role: _endpoints(f'{where}: {role}', raw.get(role) or {}) for role in _ROLE_KEYS}
    conditional = []
    for item in raw.get('if') or []:
        if not isinstance(item, dict) or 'param' not in item or 'equals' not in item:
            raise PortsError(f'{where}: each if entry needs param and equals')
        conditional.append((item['param'], item['equals'],
                            {role: _endpoints(f'{where}: if {item["param"]}', item.get(role) or {})
                             for role in _ROLE_KEYS}))
    defaults = raw.get('defaults') or {}
    missing = {param for param, _, _ in conditional} - set(defaults)
    if missing:
        raise PortsError(f'{where}: defaults must give the node default of {sorted(missing)}')
    return NodePorts(roles['offers'], roles['needs'], roles['uses'], conditional, defaults,
                     raw.get('bridge'), raw.get('bridge_commands'))


def ports_key(spec: NodeSpec) -> str:
    return spec.executable if spec.package == PACKAGE else f'{spec.package}/{spec.executable}'


# --- names and parameters --------------------------------------------------------------------

def expand_name(name: str, namespace: str, node: str) -> str:
    """A topic or service name made absolute the way rcl expands it (relative, private ~ or absolute)."""
    if name.startswith('/'):
        return name
    base = namespace.rstrip('/')
    if name.startswith('~'):
        return f'{base}/{node}' + name[1:]
    return f'{base}/{name}'


def resolve_name(name: str, spec: NodeSpec) -> str:
    """``name`` as node ``spec`` sees it: expanded, then remapped by the first rule that matches."""
    expanded = expand_name(name, spec.namespace, spec.name)
    for source, target in spec.remappings:
        if expand_name(source, spec.namespace, spec.name) == expanded:
            return expand_name(target, spec.namespace, spec.name)
    return expanded


def node_parameters(spec: NodeSpec) -> dict[str, Any]:
    """The node's parameters from its files (sections that apply to it) and inline values, in order."""
    values: dict[str, Any] = {}
    for path in spec.param_files:
        for key, section in _param_file(path).items():
            applies = isinstance(key, str) and section_applies(key, spec.namespace, spec.name)
            if applies and isinstance(section, dict):
                values.update(_flatten(section.get('ros__parameters') or {}))
    values.update(spec.parameters)
    return values


def _param_file(path: str) -> dict:
    """A parameter file's sections, read once per modification (profiles check every choice combination)."""
    try:
        return _parse_param_file(path, Path(path).stat().st_mtime_ns)
    except OSError:
        return {}         # the runner's preflight and rcl report missing files


@functools.lru_cache(maxsize=64)
def _parse_param_file(path: str, _mtime_ns: int) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _flatten(mapping: Mapping, prefix: str = '') -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


@functools.lru_cache(maxsize=16)
def fixed_joint_edges(robot_config: str) -> tuple[tuple[str, str], ...]:
    """(parent, child) of every fixed joint of the robot description of ``robot_config`` (expanded once)."""
    return tuple((parent, child) for parent, child, _ in fixed_transforms(expand(robot_config)))


@functools.lru_cache(maxsize=16)
def _bridge_entries(path: str) -> tuple:
    return tuple(load_bridge(package_share_dir() / path))


def bridge_topics(path: str, direction: str) -> dict[str, str]:
    """ROS topic -> type of the ``direction`` entries of a ros_gz_bridge file (relative to the share)."""
    entries = _bridge_entries(path)
    return {e.ros_topic: e.ros_type for e in entries if e.direction == direction}


def ports_of(spec: NodeSpec, ports: PortsFile) -> ResolvedPorts:
    """The endpoints of one node of a resolved profile, fully qualified."""
    key = ports_key(spec)
    if key not in ports.nodes:
        raise PortsError(f'node {spec.name}: config/node_ports.yaml has no entry {key!r}')
    declared = ports.nodes[key]
    params = {**declared.defaults, **node_parameters(spec)}
    roles = {role: Endpoints() for role in _ROLE_KEYS}
    for role in _ROLE_KEYS:
        roles[role].update(getattr(declared, role))
    for param, value, extra in declared.conditional:
        if params.get(param) == value:
            for role in _ROLE_KEYS:
                roles[role].update(extra[role])
    if declared.bridge:
        roles['offers'].topics.update(bridge_topics(declared.bridge, 'GZ_TO_ROS'))
        roles['uses'].topics.update(bridge_topics(declared.bridge, 'ROS_TO_GZ'))
    if declared.bridge_commands:
        roles['offers'].topics.update(bridge_topics(declared.bridge_commands, 'ROS_TO_GZ'))
    resolved = {}
    for role, endpoints in roles.items():
        out = Endpoints()
        for kind in KINDS:
            out.kind(kind).update({resolve_name(n, spec): t for n, t in endpoints.kind(kind).items()})
        for parent, child in endpoints.tf:
            if parent == FIXED_JOINTS:
                out.tf += fixed_joint_edges(str(params.get('robot_config') or 'skid4'))
            else:
                out.tf.append((parent, child))
        resolved[role] = out
    return ResolvedPorts(spec.namespace.rstrip('/') + '/' + spec.name, resolved['offers'], resolved['needs'],
                         resolved['uses'])


# --- the check -------------------------------------------------------------------------------

def _connected(edges: Iterable[tuple[str, str]], a: str, b: str) -> bool:
    neighbours: dict[str, set[str]] = {}
    for parent, child in edges:
        neighbours.setdefault(parent, set()).add(child)
        neighbours.setdefault(child, set()).add(parent)
    seen, todo = {a}, [a]
    while todo:
        frame = todo.pop()
        if frame == b:
            return True
        for other in neighbours.get(frame, ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return False


def _relative(name: str, node: str) -> str:
    """``name`` relative to the namespace of ``node`` (both fully qualified)."""
    namespace = node.rsplit('/', 1)[0] + '/'
    return name.removeprefix(namespace) if name.startswith(namespace) else name


def unmet_needs(nodes: Sequence[ResolvedPorts], ports: PortsFile, peers: Sequence[ResolvedPorts] = (),
                waived: Iterable[str] = ()) -> list[Unmet]:
    """Every need of ``nodes`` that no node of ``nodes`` or ``peers`` offers (with the same type), that is
    not an input from outside and whose name is not in ``waived`` (fully qualified topic names)."""
    offered = Endpoints()
    for node in (*nodes, *peers):
        offered.update(node.offers)
    outside = ports.outside
    waived = set(waived)
    unmet = []
    for node in nodes:
        for kind in KINDS:
            for name, wanted in node.needs.kind(kind).items():
                have = offered.kind(kind).get(name) or outside.kind(kind).get(_relative(name, node.node))
                if have is None and name in waived:
                    continue
                if have is None:
                    unmet.append(Unmet(node.node, kind, name, 'no node of the profile offers it'))
                elif have != wanted:
                    unmet.append(Unmet(node.node, kind, name, f'offered as {have}, needed as {wanted}'))
            for name, wanted in node.uses.kind(kind).items():
                have = offered.kind(kind).get(name)
                if have is not None and have != wanted:
                    unmet.append(Unmet(node.node, kind, name, f'offered as {have}, used as {wanted}'))
        for parent, child in node.needs.tf:
            if not _connected(offered.tf, parent, child):
                unmet.append(Unmet(node.node, 'tf', f'{parent}->{child}',
                                   'no chain of transforms offered by the profile joins the two frames'))
    return unmet


def profile_ports(profile: Profile, values: Mapping[str, str], ports: PortsFile,
                  share_dir: Path | None = None) -> list[ResolvedPorts]:
    return [ports_of(spec, ports) for spec in resolve(profile, values, share_dir)]


def check_profile(profiles: Mapping[str, Profile], name: str, values: Mapping[str, str],
                  ports: PortsFile) -> tuple[list[Unmet], list[str]]:
    """Unmet needs of profile ``name`` with these argument values, and notes on the waived ones."""
    profile = profiles[name]
    args = argument_values(profile, values)
    nodes = profile_ports(profile, args, ports)
    peers: list[ResolvedPorts] = []
    for peer in profile.peers:
        peers += profile_ports(profiles[peer], _shared_values(profiles[peer], args), ports)
    namespace = args.get('namespace', '') if profile.namespaced else ''
    waived = {}
    for waiver in profile.waivers:
        if waiver.when.holds(args):
            waived[expand_name(waiver.need, '/' + namespace.strip('/'), '')] = waiver.reason
    notes = [f'{need} is not offered: {reason}' for need, reason in waived.items()]
    return unmet_needs(nodes, ports, peers, waived), notes


def _shared_values(peer: Profile, values: Mapping[str, str]) -> dict[str, str]:
    """The arguments of ``values`` that the peer profile declares too (e.g. its robot_config)."""
    shared = {k: v for k, v in values.items() if k in peer.args}
    if 'rover_namespace' in values and 'namespace' in peer.args:
        shared['namespace'] = values['rover_namespace']
    return shared


def choice_combinations(profile: Profile, fixed: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Every combination of the values of the profile's choice arguments (those not in ``fixed``)."""
    fixed = dict(fixed or {})
    free = [decl for decl in profile.args.values() if decl.choices and decl.name not in fixed]
    return [{**fixed, **dict(zip([d.name for d in free], combo, strict=True))}
            for combo in itertools.product(*(d.choices for d in free))]


def check_all_choices(profiles: Mapping[str, Profile], name: str, ports: PortsFile,
                      fixed: Mapping[str, str] | None = None) -> dict[tuple, list[Unmet]]:
    """Unmet needs of profile ``name`` for each combination of its choice arguments that has any."""
    if name not in profiles:
        raise NodeSetError(f'no profile {name!r}; profiles: {sorted(profiles)}')
    failures = {}
    for values in choice_combinations(profiles[name], fixed):
        unmet, _ = check_profile(profiles, name, values, ports)
        if unmet:
            failures[tuple(sorted(values.items()))] = unmet
    return failures
