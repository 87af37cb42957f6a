"""Node sets: which nodes a bringup profile runs, read from one YAML file (config/node_sets.yaml).

The same description feeds the process runner (``rover_runner``) and the launch files
(``launch/*.launch.py``), so the two cannot drift. This module is pure: no rclpy, no launch.

Layers:

* ``load_node_sets(path)`` reads and validates the file into ``Profile`` objects whose string
  values are ``Template``s (literal text and ``$(arg NAME)`` references, not yet resolved).
* ``resolve(profile, overrides, share_dir)`` fills in the launch arguments, drops the nodes whose
  ``when`` condition is false and returns concrete ``NodeSpec``s.
* ``ros_args(spec)`` is the exact ``--ros-args ...`` argv a node gets.
* ``processes(specs)`` groups the nodes into processes: a node alone, or the nodes that name the same
  ``container`` in one ``rover_container`` process (one executor; ``process_args`` is its argv).

Semantics follow launch_ros so that both ways agree: a value that contains a substitution is
rendered to text and then typed as YAML (``'true'`` -> bool); a literal value keeps its type; the
profile's ``namespace`` argument, if declared, is prepended to each node's relative namespace.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rover_stack.common.share_files import package_share_dir
from rover_stack.executables import COMPONENTS, EXECUTABLES

PACKAGE = 'rover_stack'
CONTAINER_EXECUTABLE = 'rover_container'   # runs several nodes in one process (bringup/container.py)
DEFAULT_RESPAWN_DELAY = 1.0   # s
_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_NS_TOKEN_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_SUBST_RE = re.compile(r'\$\(([^()]*)\)')
_ARG_RE = re.compile(r'^arg\s+([A-Za-z_][A-Za-z0-9_]*)$')
_WHEN_RE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:(==|!=)\s*(\S+)\s*)?$')
_NODE_FIELDS = {'package', 'executable', 'name', 'namespace', 'parameters', 'remappings', 'respawn',
                'respawn_delay', 'required', 'when', 'container'}
_ARG_FIELDS = {'default', 'description', 'choices'}
_PROFILE_FIELDS = {'description', 'args', 'nodes', 'peers', 'waivers'}
_GROUP_FIELDS = {'description', 'args', 'nodes'}
_TOP_FIELDS = {'groups', 'profiles'}
TRUE_TEXT = ('true', '1')     # what launch's IfCondition accepts, case-insensitive
FALSE_TEXT = ('false', '0')


class NodeSetError(ValueError):
    """The node-set file, a profile or a launch argument is invalid; the message says where."""


@dataclass(frozen=True)
class ArgRef:
    """A ``$(arg NAME)`` reference inside a templated string."""
    name: str


Template = tuple[str | ArgRef, ...]


@dataclass(frozen=True)
class ArgDecl:
    """A launch argument of a profile: default value (text) and description."""
    name: str
    default: str
    description: str
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Condition:
    """``when: ARG`` (true/1 or false/0) or ``when: ARG == VALUE`` / ``ARG != VALUE``; several joined by
    `` and `` hold when all hold (``also``: the ones after the first)."""
    arg: str
    op: str | None = None        # None (truthiness), '==' or '!='
    value: str | None = None
    also: tuple[Condition, ...] = ()

    def holds(self, args: Mapping[str, str]) -> bool:
        text = args[self.arg]
        if self.op is None:
            mine = truth(text, f'condition on argument {self.arg!r}')
        else:
            mine = (text == self.value) == (self.op == '==')
        return mine and all(other.holds(args) for other in self.also)

    @property
    def args(self) -> tuple[str, ...]:
        """The arguments the condition reads."""
        return (self.arg, *(other.arg for other in self.also))


@dataclass(frozen=True)
class NodeEntry:
    """One node of a profile as written in the file (templates not yet resolved)."""
    package: str
    executable: str
    name: str
    namespace: Template
    param_files: tuple[Template, ...]
    parameters: dict[str, Any]            # flattened dotted keys; values literal or Template
    remappings: tuple[tuple[Template, Template], ...]
    respawn: bool
    respawn_delay: float                  # s, initial back-off
    required: bool
    when: Condition | None = None
    container: str | None = None          # process shared with the other nodes naming it


@dataclass(frozen=True)
class Waiver:
    """A need (a topic name, as the nodes write it) that may stay unmet while ``when`` holds, and why."""
    need: str
    when: Condition
    reason: str


@dataclass(frozen=True)
class Profile:
    """A named node set with its launch arguments."""
    name: str
    description: str
    args: dict[str, ArgDecl]
    nodes: tuple[NodeEntry, ...]
    peers: tuple[str, ...] = ()           # profiles on other machines whose nodes this one talks to
    waivers: tuple[Waiver, ...] = ()      # needs the graph check accepts as unmet, and when

    @property
    def namespaced(self) -> bool:
        """True when the profile has a ``namespace`` argument prepended to every node."""
        return 'namespace' in self.args


@dataclass(frozen=True)
class NodeSpec:
    """One node process, fully resolved: what the runner starts and launch_ros would start."""
    package: str
    executable: str
    name: str
    namespace: str                        # absolute, e.g. '/' or '/rover1/drive'
    param_files: tuple[str, ...]          # absolute paths, in order
    parameters: dict[str, Any]            # typed values, applied after the files
    remappings: tuple[tuple[str, str], ...]
    respawn: bool = False
    respawn_delay: float = DEFAULT_RESPAWN_DELAY
    required: bool = False
    container: str | None = None


@dataclass(frozen=True)
class ProcessSpec:
    """One process of a profile: a node alone (named after it) or a container of several nodes (named
    after the container). Respawn, delay and required are the members' (they must agree)."""
    name: str
    members: tuple[NodeSpec, ...]
    respawn: bool
    respawn_delay: float
    required: bool

    @property
    def executable(self) -> str:
        return self.members[0].executable if self.container is None else CONTAINER_EXECUTABLE

    @property
    def container(self) -> str | None:
        return self.members[0].container


# --- templates -------------------------------------------------------------------------------

def parse_template(text: str) -> Template:
    """Split ``text`` into literal parts and ``ArgRef``s; ValueError on other ``$( )`` forms."""
    parts: list[str | ArgRef] = []
    position = 0
    for match in _SUBST_RE.finditer(text):
        if match.start() > position:
            parts.append(text[position:match.start()])
        arg = _ARG_RE.match(match.group(1).strip())
        if arg is None:
            raise ValueError(f'unsupported substitution {match.group(0)!r}: only $(arg NAME) is allowed')
        parts.append(ArgRef(arg.group(1)))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    rest = ''.join(p for p in parts if isinstance(p, str))
    if '$(' in rest:
        raise ValueError(f'unterminated substitution in {text!r}')
    return tuple(parts)


def render(template: Template, args: Mapping[str, str]) -> str:
    """The text of ``template`` with every ``$(arg NAME)`` replaced by ``args[NAME]``."""
    return ''.join(args[p.name] if isinstance(p, ArgRef) else p for p in template)


def arg_refs(template: Template) -> list[str]:
    """Names of the arguments ``template`` refers to."""
    return [p.name for p in template if isinstance(p, ArgRef)]


def is_literal(template: Template) -> bool:
    return not arg_refs(template)


def truth(text: str, what: str) -> bool:
    """Launch's IfCondition rule: 'true'/'1' -> True, 'false'/'0' -> False, else NodeSetError."""
    lowered = text.strip().lower()
    if lowered in TRUE_TEXT:
        return True
    if lowered in FALSE_TEXT:
        return False
    raise NodeSetError(f'{what}: {text!r} is not true/false/1/0')


def yaml_value(text: str) -> Any:
    """Type a rendered substitution as YAML, as launch_ros and rcl do ('2.5' -> 2.5, 'abc' -> 'abc')."""
    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def join_namespace(prefix: str | None, relative: str) -> str:
    """Namespace the way launch_ros builds it from ``[prefix, '/', relative]``; absolute result."""
    text = relative if prefix is None else (prefix + ('/' + relative if relative else ''))
    return text if text.startswith('/') else '/' + text


def check_namespace(namespace: str) -> str | None:
    """An error message if ``namespace`` (absolute) is not a valid ROS namespace, else None."""
    if namespace == '/':
        return None
    tokens = namespace[1:].split('/')
    if not namespace.startswith('/') or not all(_NS_TOKEN_RE.match(t) for t in tokens):
        return f'{namespace!r} is not a valid ROS namespace (tokens of letters, digits, _; no //)'
    return None


# --- loading and validation ------------------------------------------------------------------

class _Where:
    """Builds 'file: profile 'x', node 2 (name), field 'y': ...' messages."""

    def __init__(self, path: str):
        self.path = path

    def error(self, message: str, profile: str | None = None, node: int | None = None,
              node_name: str | None = None, field: str | None = None) -> NodeSetError:
        where = [self.path]
        if profile is not None:
            where.append(f'profile {profile!r}')
        if node is not None:
            where.append(f'node {node}' + (f' ({node_name})' if node_name else ''))
        if field is not None:
            where.append(f'field {field!r}')
        return NodeSetError(', '.join(where[:1]) + (': ' + ', '.join(where[1:]) if len(where) > 1 else '')
                            + ': ' + message)


def load_node_sets(path: str | Path, executables: Mapping[str, str] = EXECUTABLES) -> dict[str, Profile]:
    """Read and validate a node-set file; NodeSetError naming file, profile, node and field."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise NodeSetError(f'{path}: cannot read node-set file: {exc.strerror}') from exc
    return parse_node_sets(text, str(path), executables)


def parse_node_sets(text: str, source: str = '<node sets>',
                    executables: Mapping[str, str] = EXECUTABLES) -> dict[str, Profile]:
    """Validate node-set YAML text (see ``load_node_sets``)."""
    where = _Where(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise where.error(f'not valid YAML: {exc}') from exc
    if not isinstance(data, dict) or not isinstance(data.get('profiles'), dict) or not data['profiles']:
        raise where.error("expected a mapping with a non-empty 'profiles' mapping at the top")
    unknown = set(data) - _TOP_FIELDS
    if unknown:
        raise where.error(f'unknown top-level keys {sorted(unknown)}; allowed: {sorted(_TOP_FIELDS)}')
    groups = _parse_groups(where, data.get('groups') or {})
    profiles = {}
    for name, body in data['profiles'].items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise where.error(f'profile name {name!r} must be an identifier')
        profiles[name] = _parse_profile(where, name, body, executables, groups)
    for profile in profiles.values():
        missing = [peer for peer in profile.peers if peer not in profiles or peer == profile.name]
        if missing:
            raise where.error(f'peers {missing} are not other profiles of the file', profile=profile.name,
                              field='peers')
    return profiles


def _parse_groups(where: _Where, raw: Any) -> dict[str, dict]:
    """``groups:``: named node lists (with the arguments they use) that profiles include."""
    if not isinstance(raw, dict):
        raise where.error("'groups' must be a mapping of group name -> {description, args, nodes}")
    groups = {}
    for name, body in raw.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise where.error(f'group name {name!r} must be an identifier')
        if not isinstance(body, dict) or not isinstance(body.get('nodes'), list):
            raise where.error(f'group {name!r} must be a mapping with a list of nodes')
        unknown = set(body) - _GROUP_FIELDS
        if unknown:
            raise where.error(f'group {name!r}: unknown keys {sorted(unknown)}; '
                              f'allowed: {sorted(_GROUP_FIELDS)}')
        if not isinstance(body.get('args') or {}, dict):
            raise where.error(f'group {name!r}: args must be a mapping')
        groups[name] = body
    return groups


def _expand_groups(where: _Where, profile: str, raw_nodes: list, raw_args: dict,
                   groups: dict[str, dict]) -> tuple[list, dict]:
    """The profile's node list with every ``- group: NAME`` item replaced by the group's nodes, and its
    arguments: the included groups' arguments, then the profile's own (which win: a profile may change
    a default, e.g. use_sim_time)."""
    nodes: list = []
    args: dict = {}
    for item in raw_nodes:
        if isinstance(item, dict) and 'group' in item:
            name = item['group']
            if set(item) != {'group'}:
                raise where.error(f'a group item has only the key group, got {sorted(item)}', profile=profile)
            if name not in groups:
                raise where.error(f'unknown group {name!r}; groups: {sorted(groups)}', profile=profile)
            nodes += groups[name]['nodes']
            args.update(groups[name].get('args') or {})
        else:
            nodes.append(item)
    args.update(raw_args)
    return nodes, args


def _parse_profile(where: _Where, name: str, body: Any, executables: Mapping[str, str],
                   groups: dict[str, dict] | None = None) -> Profile:
    if not isinstance(body, dict):
        raise where.error('must be a mapping with args and nodes', profile=name)
    unknown = set(body) - _PROFILE_FIELDS
    if unknown:
        raise where.error(f'unknown keys {sorted(unknown)}; allowed: {sorted(_PROFILE_FIELDS)}', profile=name)
    description = body.get('description', '')
    if not isinstance(description, str):
        raise where.error('must be text', profile=name, field='description')
    nodes_raw = body.get('nodes')
    if nodes_raw is None:
        nodes_raw = []
    if not isinstance(nodes_raw, list):
        raise where.error('must be a list of node entries', profile=name, field='nodes')
    raw_args = body.get('args') or {}
    if not isinstance(raw_args, dict):
        raise where.error('must be a mapping of argument name -> {default, description}',
                          profile=name, field='args')
    nodes_raw, raw_args = _expand_groups(where, name, nodes_raw, raw_args, groups or {})
    args = _parse_args(where, name, raw_args)
    peers = body.get('peers') or []
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise where.error('must be a list of profile names', profile=name, field='peers')
    nodes = tuple(_parse_node(where, name, index, entry, args=args, executables=executables)
                  for index, entry in enumerate(nodes_raw))
    _check_containers(where, name, nodes)
    waivers = _parse_waivers(where, name, body.get('waivers') or [], args)
    return Profile(name, description, args, nodes, tuple(peers), waivers)


def _parse_waivers(where: _Where, profile: str, raw: Any, args: dict[str, ArgDecl]) -> tuple[Waiver, ...]:
    if not isinstance(raw, list):
        raise where.error('must be a list of {need, when, reason}', profile=profile, field='waivers')
    waivers = []
    for item in raw:
        if (not isinstance(item, dict) or set(item) != {'need', 'when', 'reason'}
                or not all(isinstance(item[k], str) and item[k].strip() for k in item)):
            raise where.error(f'each waiver is {{need, when, reason}} (texts), got {item!r}', profile=profile,
                              field='waivers')

        def fail(message: str, field: str | None = None) -> NodeSetError:
            return where.error(message, profile=profile, field=f'waivers.{field}')

        waivers.append(Waiver(item['need'], _parse_when(item['when'], args, fail), item['reason'].strip()))
    return tuple(waivers)


def _check_containers(where: _Where, profile: str, nodes: tuple[NodeEntry, ...]) -> None:
    """The nodes of one container agree on respawn, respawn_delay and required (they share a process),
    and a container is not named like a node (both name processes in the runner's output)."""
    names = {n.name for n in nodes}
    first: dict[str, tuple[int, NodeEntry]] = {}
    for index, node in enumerate(nodes):
        if node.container is None:
            continue
        if node.container in names:
            raise where.error(f'container {node.container!r} has the name of a node', profile=profile,
                              node=index, node_name=node.name, field='container')
        if node.container not in first:
            first[node.container] = (index, node)
            continue
        other = first[node.container][1]
        for field in ('respawn', 'respawn_delay', 'required'):
            if getattr(node, field) != getattr(other, field):
                raise where.error(f'{field} differs from {other.name!r} in the same container '
                                  f'{node.container!r} (one process: one policy)', profile=profile,
                                  node=index, node_name=node.name, field=field)


def _scalar_text(value: Any) -> str | None:
    """Launch arguments are text; YAML bools and numbers are accepted and written as launch would."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _parse_args(where: _Where, profile: str, raw: Any) -> dict[str, ArgDecl]:
    if not isinstance(raw, dict):
        raise where.error('must be a mapping of argument name -> {default, description}',
                          profile=profile, field='args')
    args = {}
    for arg_name, decl in raw.items():
        field_name = f'args.{arg_name}'
        if not isinstance(arg_name, str) or not _NAME_RE.match(arg_name):
            raise where.error('argument name must be an identifier', profile=profile, field=field_name)
        if not isinstance(decl, dict) or 'default' not in decl or 'description' not in decl:
            raise where.error('needs both default and description', profile=profile, field=field_name)
        unknown = set(decl) - _ARG_FIELDS
        if unknown:
            raise where.error(f'unknown keys {sorted(unknown)}', profile=profile, field=field_name)
        default = _scalar_text(decl['default'])
        if default is None:
            raise where.error('default must be text, a number or a bool', profile=profile, field=field_name)
        if not isinstance(decl['description'], str) or not decl['description'].strip():
            raise where.error('description must be non-empty text', profile=profile, field=field_name)
        choices = decl.get('choices')
        if choices is not None:
            if not isinstance(choices, list) or not choices or any(_scalar_text(c) is None for c in choices):
                raise where.error('choices must be a non-empty list of texts', profile=profile,
                                  field=field_name)
            choices = tuple(_scalar_text(c) for c in choices)
            if default not in choices:
                raise where.error(f'default {default!r} is not one of the choices {list(choices)}',
                                  profile=profile, field=field_name)
        args[arg_name] = ArgDecl(arg_name, default, decl['description'].strip(), choices)
    return args


def _parse_node(where: _Where, profile: str, index: int, entry: Any, *, args: dict[str, ArgDecl],
                executables: Mapping[str, str]) -> NodeEntry:
    node_name = entry.get('name') if isinstance(entry, dict) else None
    node_name = node_name if isinstance(node_name, str) else None

    def fail(message: str, field: str | None = None) -> NodeSetError:
        return where.error(message, profile=profile, node=index, node_name=node_name, field=field)

    if not isinstance(entry, dict):
        raise fail('must be a mapping')
    unknown = set(entry) - _NODE_FIELDS
    if unknown:
        raise fail(f'unknown keys {sorted(unknown)}; allowed: {sorted(_NODE_FIELDS)}')
    for required_field in ('executable', 'name'):
        if required_field not in entry:
            raise fail('is required', required_field)

    def template(value: Any, field: str) -> Template:
        if not isinstance(value, str):
            raise fail(f'must be text, got {type(value).__name__} {value!r}', field)
        try:
            parsed = parse_template(value)
        except ValueError as exc:
            raise fail(str(exc), field) from None
        for ref in arg_refs(parsed):
            if ref not in args:
                raise fail(f'$(arg {ref}) refers to an argument the profile does not declare '
                           f'(declared: {sorted(args)})', field)
        return parsed

    def flag(field: str, default: bool) -> bool:
        value = entry.get(field, default)
        if not isinstance(value, bool):
            raise fail(f'must be true or false, got {value!r}', field)
        return value

    package = entry.get('package', PACKAGE)
    if not isinstance(package, str) or not _NAME_RE.match(package):
        raise fail(f'package name {package!r} must be an identifier', 'package')
    executable = entry['executable']
    if package != PACKAGE:
        # Another package's node (e.g. a vendor's lidar driver): started as <prefix>/lib/PACKAGE/EXECUTABLE;
        # the runner reports it unavailable where that package is not installed.
        if not isinstance(executable, str) or not re.match(r'^[A-Za-z0-9_.-]+$', executable):
            raise fail(f'executable {executable!r} must be a file name', 'executable')
        if 'container' in entry:
            raise fail(f'only {PACKAGE} nodes can share a container process', 'container')
    elif not isinstance(executable, str) or executable not in executables:
        raise fail(f'unknown executable {executable!r}; it must be a key of rover_stack/executables.py '
                   f'EXECUTABLES: {sorted(executables)}', 'executable')
    if not isinstance(entry['name'], str) or not _NAME_RE.match(entry['name']):
        raise fail(f'node name {entry["name"]!r} must be an identifier (letters, digits, _)', 'name')
    namespace = template(entry.get('namespace', ''), 'namespace')
    if namespace and isinstance(namespace[0], str) and namespace[0].startswith('/'):
        raise fail('must be relative (no leading /): the profile namespace is prepended', 'namespace')
    param_files, parameters = _parse_parameters(entry.get('parameters', []), template, fail)
    remappings = []
    raw_remaps = entry.get('remappings', [])
    if not isinstance(raw_remaps, list):
        raise fail('must be a list of [from, to] pairs', 'remappings')
    for number, pair in enumerate(raw_remaps):
        if not isinstance(pair, list) or len(pair) != 2:
            raise fail(f'entry {number} must be a [from, to] pair, got {pair!r}', 'remappings')
        remappings.append((template(pair[0], 'remappings'), template(pair[1], 'remappings')))
    delay = entry.get('respawn_delay', DEFAULT_RESPAWN_DELAY)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 3600:
        raise fail(f'must be a number of seconds in [0, 3600], got {delay!r}', 'respawn_delay')
    when = None
    if 'when' in entry:
        when = _parse_when(entry['when'], args, fail)
    container = entry.get('container')
    if container is not None:
        if not isinstance(container, str) or not _NAME_RE.match(container):
            raise fail(f'container name {container!r} must be an identifier (letters, digits, _)',
                       'container')
        if executable not in COMPONENTS:
            raise fail(f'{executable!r} cannot share a process: it is not in rover_stack/executables.py '
                       f'COMPONENTS {sorted(COMPONENTS)}', 'container')
    return NodeEntry(package, executable, entry['name'], namespace, param_files, parameters,
                     tuple(remappings), flag('respawn', False), float(delay), flag('required', False), when,
                     container)


def _parse_parameters(raw: Any, template, fail) -> tuple[tuple[Template, ...], dict[str, Any]]:
    if not isinstance(raw, list):
        raise fail('must be a list of parameter files (text) and inline mappings', 'parameters')
    files: list[Template] = []
    inline: dict[str, Any] = {}
    for item in raw:
        if isinstance(item, str):
            if inline:
                raise fail('list parameter files before inline mappings (inline values always win, '
                           'as -p does for the runner)', 'parameters')
            files.append(template(item, 'parameters'))
        elif isinstance(item, dict):
            inline.update(_flatten(item, '', template, fail))
        else:
            raise fail(f'entries must be file paths or mappings, got {item!r}', 'parameters')
    return tuple(files), inline


def _flatten(mapping: dict, prefix: str, template, fail) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not key:
            raise fail(f'parameter names must be text, got {key!r}', 'parameters')
        name = prefix + key
        if isinstance(value, dict):
            flat.update(_flatten(value, name + '.', template, fail))
        elif isinstance(value, str):
            parsed = template(value, f'parameters.{name}')
            flat[name] = value if is_literal(parsed) else parsed
        elif isinstance(value, list):
            if any(isinstance(v, str) and '$(' in v for v in value):
                raise fail('$(arg ...) is allowed in text values only, not inside lists',
                           f'parameters.{name}')
            if any(not isinstance(v, bool | int | float | str) for v in value):
                raise fail('lists may hold only texts, numbers or bools', f'parameters.{name}')
            flat[name] = list(value)
        elif isinstance(value, bool | int | float):
            flat[name] = value
        else:
            raise fail(f'unsupported value {value!r}', f'parameters.{name}')
    return flat


def _parse_when(raw: Any, args: dict[str, ArgDecl], fail) -> Condition:
    parts = re.split(r'\s+and\s+', raw.strip()) if isinstance(raw, str) else [raw]
    conditions = []
    for part in parts:
        match = _WHEN_RE.match(part) if isinstance(part, str) else None
        if match is None:
            raise fail(f"must be 'ARG', 'ARG == VALUE' or 'ARG != VALUE' (several joined by 'and'), "
                       f'got {raw!r}', 'when')
        arg, op, value = match.groups()
        if arg not in args:
            raise fail(f'refers to undeclared argument {arg!r} (declared: {sorted(args)})', 'when')
        if "'" in (value or '') or '\\' in (value or ''):
            raise fail('the compared value may not contain quotes or backslashes', 'when')
        conditions.append(Condition(arg, op, value))
    first, *rest = conditions
    return Condition(first.arg, first.op, first.value, tuple(rest))


# --- resolution ------------------------------------------------------------------------------

def parse_arg_assignments(items: list[str]) -> dict[str, str]:
    """``['name:=value', ...]`` -> dict; NodeSetError on a malformed item."""
    values = {}
    for item in items:
        name, sep, value = item.partition(':=')
        if not sep or not _NAME_RE.match(name):
            raise NodeSetError(f'launch argument {item!r} must look like name:=value')
        values[name] = value
    return values


def argument_values(profile: Profile, overrides: Mapping[str, str]) -> dict[str, str]:
    """Declared defaults updated by ``overrides``; NodeSetError on unknown names or bad choices."""
    unknown = sorted(set(overrides) - set(profile.args))
    if unknown:
        raise NodeSetError(f'profile {profile.name!r} has no argument(s) {unknown}; '
                           f'declared: {sorted(profile.args)}')
    values = {name: decl.default for name, decl in profile.args.items()}
    values.update(overrides)
    for name, decl in profile.args.items():
        if decl.choices is not None and values[name] not in decl.choices:
            raise NodeSetError(f'argument {name}:={values[name]!r} is not one of {list(decl.choices)}')
    return values


def resolve(profile: Profile, overrides: Mapping[str, str] | None = None,
            share_dir: str | Path | None = None) -> list[NodeSpec]:
    """The nodes ``profile`` runs with these argument values, in file order (see module doc)."""
    args = argument_values(profile, overrides or {})
    share = Path(share_dir) if share_dir is not None else package_share_dir()
    specs = []
    for entry in profile.nodes:
        if entry.when is not None and not entry.when.holds(args):
            continue
        prefix = args['namespace'] if profile.namespaced else None
        namespace = join_namespace(prefix, render(entry.namespace, args))
        error = check_namespace(namespace)
        if error:
            raise NodeSetError(f'profile {profile.name!r}, node {entry.name}: namespace {error}')
        specs.append(NodeSpec(
            package=entry.package,
            executable=entry.executable,
            name=entry.name,
            namespace=namespace,
            param_files=tuple(str(share / render(t, args)) for t in entry.param_files),
            parameters={k: resolve_value(v, args) for k, v in entry.parameters.items()},
            remappings=tuple((render(a, args), render(b, args)) for a, b in entry.remappings),
            respawn=entry.respawn,
            respawn_delay=entry.respawn_delay,
            required=entry.required,
            container=entry.container,
        ))
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise NodeSetError(f'profile {profile.name!r} starts more than one node named {duplicates}')
    return specs


def resolve_value(value: Any, args: Mapping[str, str]) -> Any:
    """A parameter value with its substitutions rendered and YAML-typed; literals unchanged."""
    if isinstance(value, tuple):
        return yaml_value(render(value, args))
    return value


def section_applies(key: str, namespace: str, name: str) -> bool:
    """True if a parameter-file section ``key`` applies to node ``name`` in ``namespace`` (rcl rules).

    ``/**`` matches any number of namespace tokens, ``/*`` one token; a key without a leading slash
    is taken as absolute, so ``drive_controller`` applies only in the root namespace (use
    ``/**/drive_controller`` for a section that follows the node into any namespace).
    """
    key = key if key.startswith('/') else '/' + key
    pattern = ''.join('(/[^/]+)*' if token == '**' else '/[^/]+' if token == '*' else '/' + re.escape(token)
                      for token in key.split('/')[1:])
    fqn = namespace.rstrip('/') + '/' + name
    return re.fullmatch(pattern, fqn) is not None


# --- argv ------------------------------------------------------------------------------------

def format_param(value: Any) -> str:
    """A value as the YAML text of ``-p name:=value`` that rcl types back to the same value."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20)
    return text.removesuffix('\n').removesuffix('\n...').strip()


def ros_args(spec: NodeSpec) -> list[str]:
    """The ROS argv for ``spec``: name, namespace, parameter files, inline values, remappings."""
    argv = ['--ros-args', '-r', f'__node:={spec.name}', '-r', f'__ns:={spec.namespace}']
    for path in spec.param_files:
        argv += ['--params-file', path]
    for name, value in spec.parameters.items():
        argv += ['-p', f'{name}:={format_param(value)}']
    for source, target in spec.remappings:
        argv += ['-r', f'{source}:={target}']
    return argv




def processes(specs: list[NodeSpec] | tuple[NodeSpec, ...]) -> list[ProcessSpec]:
    """The processes that run ``specs``, in the order of each process's first node."""
    groups: dict[str, list[NodeSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.container or spec.name, []).append(spec)
    return [ProcessSpec(name, tuple(members), members[0].respawn, members[0].respawn_delay,
                        members[0].required) for name, members in groups.items()]


def process_args(process: ProcessSpec) -> list[str]:
    """The argv after the program: a node's ``ros_args``, or ``--node EXECUTABLE --ros-args ...`` per
    member of a container."""
    if process.container is None:
        return ros_args(process.members[0])
    argv: list[str] = []
    for member in process.members:
        argv += ['--node', member.executable, *ros_args(member)]
    return argv
