"""Every node refuses out-of-range, unknown-choice and wrong-type parameters with a ValueError naming the
parameter (``run_node`` turns that into one log line and exit code 1), never another exception.

The nodes are those of the package's executables (rover_stack/executables.py). Each is built once with
its defaults while ``declare_params`` is wrapped to record which dataclasses (and prefixes) it declares;
the cases come from those dataclasses. Every parameter with a range or choices is checked below ``low``,
above ``high`` and with a bad choice against the validation ``declare_params`` applies; the node itself
is then started with one case of each kind per dataclass (float and integer ranges, choices, NaN, wrong
type), which exercises both refusal paths (ours and rclpy's descriptor ranges) through the real
constructor. Starting a node costs ~50 ms, so one start per field would take most of a minute.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest
from rclpy.node import Node
from rclpy.parameter import Parameter

from rover_stack.common import params as params_module
from rover_stack.executables import EXECUTABLES

#: Overrides every construction of a node gets (no fixed ports, no rendering): not the values under test.
BASE_OVERRIDES = {
    'web_bridge': {'port': 0},
    'foxglove_bridge': {'port': 0},
    'rover_simulator': {'camera.rate': 0.0},
    'static_tf_publisher': {'robot_config': 'skid4'},
}
#: Node options that only make the many short-lived constructions cheaper.
LIGHT = {'start_parameter_services': False, 'enable_rosout': False}
CASES_RUN: dict[str, tuple[int, int]] = {}   # node -> (values validated, starts refused)


def node_classes() -> dict[str, type]:
    """Executable name -> the rclpy Node subclass its module defines (modules without one are skipped)."""
    found, seen = {}, set()
    for executable, target in sorted(EXECUTABLES.items()):
        module = importlib.import_module(target.split(':')[0])
        classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
                   if issubclass(c, Node) and c is not Node and c.__module__ == module.__name__
                   and 'declare_params' in inspect.getsource(c) and c not in seen]
        seen.update(classes)
        for cls in classes:
            found[executable if len(classes) == 1 else f'{executable}:{cls.__name__}'] = cls
    return found


NODE_CLASSES = node_classes()


def declared_dataclasses(cls, context, overrides, monkeypatch) -> list[tuple[type, str]]:
    """(dataclass, prefix) of every declare_params call made while building ``cls`` with defaults."""
    calls = []
    real = params_module.declare_params

    def recording(node, params_cls, prefix=''):
        calls.append((params_cls, prefix))
        return real(node, params_cls, prefix)

    module = importlib.import_module(cls.__module__)
    with monkeypatch.context() as patch:
        for target in {module, params_module, *_modules_using_declare_params(module)}:
            if hasattr(target, 'declare_params'):
                patch.setattr(target, 'declare_params', recording)
        node = cls(context=context, parameter_overrides=overrides, **LIGHT)
        node.destroy_node()
    return calls


def _modules_using_declare_params(module):
    """Modules imported by ``module`` from this package that call declare_params themselves
    (e.g. the image pipeline base class)."""
    return [value for value in vars(module).values()
            if inspect.ismodule(value) and value.__name__.startswith('rover_stack.')]


def _default(field: dataclasses.Field):
    return field.default if field.default is not dataclasses.MISSING else field.default_factory()


def bad_values(field: dataclasses.Field) -> list[tuple[str, object]]:
    """(kind, value) that ``declare_params`` must refuse for ``field``: below ``low``, above ``high``,
    not in ``choices``, NaN, and a value of the wrong type. Kinds name the refusal path."""
    meta = params_module.spec(field)
    default = _default(field)
    if isinstance(default, bool):
        return [('bool:wrong_type', 'yes')]
    cases = []
    if isinstance(default, int | float):
        number = type(default)
        kind = number.__name__
        if meta['low'] is not None:
            cases.append((f'{kind}:below_low', number(meta['low']) - number(1)))
        if meta['high'] is not None:
            cases.append((f'{kind}:above_high', number(meta['high']) + number(1)))
        if isinstance(default, float):
            cases.append(('float:nan', float('nan')))
        cases.append((f'{kind}:wrong_type', 'not a number'))
    elif isinstance(default, str):
        if meta['choices'] is not None:
            cases.append(('str:bad_choice', 'no_such_choice'))
        cases.append(('str:wrong_type', 3.5))
    return cases


def start_cases(declared) -> list[tuple[str, str, object]]:
    """(parameter, kind, value): the first case of each kind in each declared dataclass."""
    cases = []
    for params_cls, prefix in declared:
        kinds = set()
        for field in dataclasses.fields(params_cls):
            for kind, value in bad_values(field):
                if kind not in kinds:
                    kinds.add(kind)
                    cases.append((prefix + field.name, kind, value))
    return cases


@pytest.fixture(scope='module')
def case_report(request):
    yield CASES_RUN
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin('terminalreporter'), plugins.get_plugin('capturemanager')
    if reporter is not None and capture is not None and CASES_RUN:
        with capture.global_and_fixture_disabled():
            checked = sum(c for c, _ in CASES_RUN.values())
            started = sum(s for _, s in CASES_RUN.values())
            reporter.write_line(f'\nbad-parameter cases: {checked} values validated and {started} node starts '
                                f'refused on {len(CASES_RUN)} nodes')


def test_the_executables_have_nodes_to_check():
    assert {'drive_controller', 'cmd_arbitration', 'ekf_localization', 'navigator',
            'rover_simulator'} <= set(NODE_CLASSES)


@pytest.fixture
def participant_kept(ros_context):
    """One node alive in the context for the whole test: rmw_fastrtps creates the DDS participant with a
    context's first node and destroys it with its last, so without it every refused start below made
    and destroyed a participant. Destroying one can busy-wait for ever in Fast DDS 2.14 on a discovery
    callback in flight (eProsima/Fast-DDS#6513): a clean-clone run hung here at 100 % CPU, out of
    reach of the test timeout (the loop is in C)."""
    keeper = Node('bad_parameters_participant', context=ros_context, **LIGHT)
    yield ros_context
    keeper.destroy_node()


@pytest.mark.timeout(60)
@pytest.mark.parametrize('name', sorted(NODE_CLASSES))
def test_node_refuses_bad_parameters_by_name(name, participant_kept, monkeypatch, case_report):
    ros_context = participant_kept
    cls = NODE_CLASSES[name]
    base = BASE_OVERRIDES.get(name.split(':')[0], {})
    overrides = [Parameter(k, value=v) for k, v in base.items()]
    declared = declared_dataclasses(cls, ros_context, overrides, monkeypatch)
    assert declared, f'{name} declares no parameters through declare_params'
    checked = 0
    for params_cls, prefix in declared:          # every field: the validation declare_params applies
        for field in dataclasses.fields(params_cls):
            meta, parameter = params_module.spec(field), prefix + field.name
            for kind, value in bad_values(field):
                if kind.endswith(('below_low', 'above_high', 'bad_choice', 'nan')):
                    error = params_module.validate(parameter, value, meta)
                    assert error and parameter in error, (name, parameter, kind, error)
                    checked += 1
    started = 0
    for parameter, kind, value in start_cases(declared):   # the node itself refuses to start
        if parameter in base:
            continue
        with pytest.raises(ValueError) as refused:
            node = cls(context=ros_context, parameter_overrides=[*overrides, Parameter(parameter, value=value)],
                       **LIGHT)
            node.destroy_node()    # reached only when the value was wrongly accepted
        assert parameter in str(refused.value), (name, parameter, kind, str(refused.value))
        started += 1
    CASES_RUN[name] = (checked, started)


def test_an_integer_for_a_float_parameter_means_that_number(ros_context):
    """'-p camera.rate:=10' or a launch argument '10' arrive as integers; a float parameter takes them
    as 10.0 (rclpy alone refuses them), still range-checked; other wrong types are still refused."""
    @dataclasses.dataclass
    class Rates:
        rate: float = params_module.param(15.0, 'a rate', unit='Hz', low=0.0, high=60.0, read_only=True)
        count: int = params_module.param(3, 'a count', low=0, high=10)

    def declared(**overrides):
        node = Node('int_for_float', context=ros_context,
                    parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
        try:
            return params_module.declare_params(node, Rates), node.get_parameter('rate').value
        finally:
            node.destroy_node()

    values, stored = declared(rate=10)
    assert values.rate == 10.0 and isinstance(values.rate, float) and stored == 10.0 and isinstance(stored, float)
    for bad in ({'rate': 61}, {'rate': True}, {'rate': 'fast'}, {'count': 2.5}):
        with pytest.raises(ValueError, match='parameter'):
            declared(**bad)
