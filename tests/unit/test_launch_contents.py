"""What the launch files and node sets start is there: programs, modules, parameter files, arguments.

Complements tests/unit/test_launch_files.py (which checks that launch and runner start the same
thing): here every launch file compiles, every node's executable maps to an existing module and
function (read as source, nothing imported: no rclpy in unit tests), every parameter file exists and
has a section for its node under every choice of the profile's arguments, every $(arg) is declared,
the external programs the Gazebo wrappers exec are a known list, and the Gazebo profile's defaults
match the generated world.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib.util
import itertools
import re
from pathlib import Path

import pytest
import yaml

from rover_stack.bringup.node_set import load_node_sets, resolve, section_applies
from rover_stack.executables import EXECUTABLES
from rover_stack.gazebo import launchers
from rover_stack.gazebo.world import build_world
from rover_stack.sim.course import load_course

ROOT = Path(__file__).resolve().parents[2]
NODE_SETS = ROOT / 'config' / 'node_sets.yaml'
PROFILES = load_node_sets(NODE_SETS)
ARG_RE = re.compile(r'\$\(arg\s+([A-Za-z_]\w*)\)')
# Programs of other packages that rover_stack executables start (package -> executables), and the
# Gazebo CLI. A new one must be added here and to package.xml / docs/gazebo.md.
KNOWN_EXTERNAL = {'ros_gz_sim': {'create'}, 'ros_gz_bridge': {'parameter_bridge'}}
WRAPPER_PARAMS = {'gz_sim': launchers.GzSimParams, 'gz_spawn': launchers.GzSpawnParams}


@pytest.mark.parametrize('path', sorted((ROOT / 'launch').glob('*.py')), ids=lambda p: p.name)
def test_every_launch_file_compiles(path):
    compile(path.read_text(), str(path), 'exec')


@pytest.mark.parametrize('name', sorted({e.executable for p in PROFILES.values() for e in p.nodes
                                         if e.package == 'rover_stack'}))
def test_every_executable_of_a_profile_has_its_module_and_function(name):
    module, function = EXECUTABLES[name].split(':')
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f'{name}: module {module} not found'
    tree = ast.parse(Path(spec.origin).read_text())
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert function in defined, f'{name}: {module} defines no function {function}'


def choice_combinations(profile):
    """Every combination of the arguments that have choices (others at their defaults)."""
    with_choices = [a for a in profile.args.values() if a.choices]
    for values in itertools.product(*(a.choices for a in with_choices)):
        yield dict(zip((a.name for a in with_choices), values, strict=True))


@pytest.mark.parametrize('profile', sorted(PROFILES))
def test_parameter_files_exist_and_have_a_section_for_their_node(profile):
    for overrides in choice_combinations(PROFILES[profile]):
        for namespace in ('', 'rover1') if PROFILES[profile].namespaced else ('',):
            args = dict(overrides, namespace=namespace) if PROFILES[profile].namespaced else overrides
            for spec in resolve(PROFILES[profile], args, share_dir=ROOT):
                for path in spec.param_files:
                    assert Path(path).is_file(), f'{profile} {args}: {spec.name}: {path} missing'
                    keys = yaml.safe_load(Path(path).read_text()) or {}
                    assert any(section_applies(k, spec.namespace, spec.name) for k in keys), \
                        f'{path} has no section for {spec.namespace}/{spec.name} (key it /**/{spec.name})'


def raw_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from raw_strings(key)
            yield from raw_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from raw_strings(item)


@pytest.mark.parametrize('profile', sorted(PROFILES))
def test_every_argument_used_is_declared(profile):
    """Read from the raw YAML, independently of the loader's own check."""
    data = yaml.safe_load(NODE_SETS.read_text())
    raw = data['profiles'][profile]
    declared = set(raw.get('args') or {})
    nodes = []
    for node in raw.get('nodes') or []:
        if 'group' in node:        # a group brings its nodes and the arguments they use
            group = data['groups'][node['group']]
            declared |= set(group.get('args') or {})
            nodes += group['nodes']
        else:
            nodes.append(node)
    for waiver in raw.get('waivers') or []:
        assert re.match(r'\s*(\w+)', waiver['when']).group(1) in declared
    used = set()
    for node in nodes:
        for text in raw_strings({k: v for k, v in node.items() if k != 'when'}):
            used |= set(ARG_RE.findall(text))
        if 'when' in node:
            used.add(re.match(r'\s*(\w+)', node['when']).group(1))
    assert used <= declared, f'{profile}: undeclared {sorted(used - declared)}'


def test_gazebo_wrappers_exec_only_known_external_programs():
    tree = ast.parse(Path(launchers.__file__).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'package_executable']
    found = {(c.args[0].value, c.args[1].value) for c in calls}
    assert found == {(p, e) for p, names in KNOWN_EXTERNAL.items() for e in names}


@pytest.mark.parametrize('executable', sorted(WRAPPER_PARAMS))
def test_gazebo_wrapper_parameters_are_the_ones_they_declare(executable):
    fields = {f.name for f in dataclasses.fields(WRAPPER_PARAMS[executable])} | {'use_sim_time'}
    entries = [e for e in PROFILES['gazebo'].nodes if e.executable == executable]
    assert entries and all(set(e.parameters) <= fields for e in entries)


def test_gazebo_profile_defaults_spawn_the_rover_at_the_world_start():
    args = {name: decl.default for name, decl in PROFILES['gazebo'].args.items()}
    spawn = build_world(load_course(args['world'])).spawn
    assert (ROOT / 'sim' / 'gazebo' / f"{args['world']}.sdf").is_file()
    for axis in ('x', 'y', 'z', 'yaw'):
        text = args[f'spawn_{axis}']
        assert '.' in text, f'spawn_{axis} default {text!r} must be written as a float (a double parameter)'
        assert float(text) == pytest.approx(getattr(spawn, axis), abs=1e-3)


def test_the_sim_camera_rate_argument_defaults_to_the_contract_rate():
    """camera_rate overrides config/simulator.yaml; by default both are the hardware contract's rate."""
    root = NODE_SETS.parents[1]
    contract = yaml.safe_load((root / 'config' / 'hardware_interface.yaml').read_text())
    simulator = yaml.safe_load((root / 'config' / 'simulator.yaml').read_text())
    sim_rate = next(iter(simulator.values()))['ros__parameters']['camera']['rate']
    default = float(PROFILES['sim'].args['camera_rate'].default)
    assert default == sim_rate == float(contract['topics']['camera/image_raw']['rate_hz'])
