"""Every parameter that is not read-only takes effect at run time: its node applies changes with
``watch_params`` (or reads it with get_parameter where it is used); the helpers validate and coerce."""
import ast
import dataclasses
import importlib
import pkgutil
from pathlib import Path

import pytest

import rover_stack
from rover_stack.common.param_spec import changed_params, param, writable

pytestmark = pytest.mark.unit


def params_classes():
    found = []
    for info in pkgutil.walk_packages(rover_stack.__path__, 'rover_stack.'):
        if info.name.startswith('rover_stack.testing'):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
                    and writable(obj)):
                found.append((module, name, obj))
    return found


def _package_trees():
    root = Path(rover_stack.__file__).parent
    return [ast.parse(path.read_text()) for path in sorted(root.rglob('*.py'))]


TREES = _package_trees()


@pytest.mark.parametrize('module, name, cls', params_classes(), ids=lambda v: getattr(v, '__name__', str(v)))
def test_every_writable_parameter_is_applied_at_run_time(module, name, cls):
    # A core's config is declared and watched by its node (another module): look in the whole package.
    calls = [call for tree in TREES for call in ast.walk(tree) if isinstance(call, ast.Call)]
    watched = {call.args[1].id for call in calls
               if getattr(call.func, 'id', '') == 'watch_params'
               and len(call.args) > 1 and isinstance(call.args[1], ast.Name)}
    read_live = {call.args[0].value for call in ast.parse(Path(module.__file__).read_text()).body
                 for call in ast.walk(call)
                 if isinstance(call, ast.Call) and getattr(call.func, 'attr', '') == 'get_parameter'
                 and call.args and isinstance(call.args[0], ast.Constant)}
    if name in watched:
        return
    unapplied = [field for field in writable(cls) if field not in read_live]
    assert not unapplied, (f'{module.__name__}.{name}: {unapplied} are writable but nothing applies a change: '
                           f'call watch_params(self, {name}, apply) or declare them read_only=True')


@dataclasses.dataclass
class Example:
    speed: float = param(1.0, 'speed', unit='m/s', low=0.0, high=2.0)
    count: int = param(3, 'count', low=1, high=9)
    rate: float = param(10.0, 'rate', unit='Hz', low=1.0, high=100.0, read_only=True)


class P:
    def __init__(self, name, value):
        self.name, self.value = name, value


def test_changed_params_take_ours_and_coerce_integers_for_floats():
    new = changed_params(Example(), [P('speed', 2), P('count', 4), P('use_sim_time', True)])
    assert new == Example(speed=2.0, count=4) and isinstance(new.speed, float)
    assert writable(Example) == ['speed', 'count']
