"""Names agree with what runs: a node executable ``foo_bar`` is module ``<package>/foo_bar_node.py`` with
class ``FooBarNode`` (the one suffix convention), and its node tests are ``tests/node/test_foo_bar_node.py``."""
import ast
from pathlib import Path

import pytest

from rover_stack.executables import COMPONENTS, EXECUTABLES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
#: Executables that are not one node of the stack: launchers, CLIs, demos, the process runner.
NOT_NODES = {'rover_runner', 'rover_container', 'rover_sim', 'rover', 'rover_gz_world', 'gz_sim', 'gz_spawn',
             'gz_bridge', 'heartbeat_talker', 'heartbeat_listener', 'fail_on_start'}
NODES = sorted(set(EXECUTABLES) - NOT_NODES)


def camel(name: str) -> str:
    return ''.join(part.capitalize() for part in name.split('_'))


def node_classes(module: str) -> list[str]:
    path = ROOT / 'src' / (module.replace('.', '/') + '.py')
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef) and n.name.endswith('Node')]


@pytest.mark.parametrize('executable', NODES)
def test_node_module_and_class_are_named_after_the_executable(executable):
    module, function = EXECUTABLES[executable].split(':')
    assert module.rsplit('.', 1)[1] == f'{executable}_node' and function == 'main'
    assert node_classes(module) == [f'{camel(executable)}Node']


@pytest.mark.parametrize('executable', sorted(COMPONENTS))
def test_components_name_the_same_module_and_class(executable):
    module = EXECUTABLES[executable].split(':')[0]
    assert COMPONENTS[executable] == f'{module}:{camel(executable)}Node'


@pytest.mark.parametrize('executable', NODES)
def test_each_node_has_node_tests_under_its_name(executable):
    assert (ROOT / 'tests' / 'node' / f'test_{executable}_node.py').is_file()
