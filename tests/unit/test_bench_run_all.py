"""The pure parts of bench/run_all: verdicts, rows from each bench's figures, the table, results.json.

The benches themselves are not run here (they take minutes); their figures are canned dicts shaped like
the ``measure`` functions' return values.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parents[2] / 'bench' / 'run_all'


def _load():
    loader = importlib.machinery.SourceFileLoader('bench_run_all', str(RUN_ALL))
    spec = importlib.util.spec_from_loader('bench_run_all', loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


run_all = _load()

DRIVE = {'commands': 1000, 'rate_hz': 50.0, 'wall_s': 40.0,
         'hops': {'end to end': {'p50_ms': 4.0, 'p99_ms': 9.5, 'mean_ms': 4.5, 'max_ms': 30.0},
                  'dds round trip': {'p50_ms': 1.5, 'p99_ms': 3.0, 'mean_ms': 1.6, 'max_ms': 9.0}}}
EKF = {'core_cycles_per_s': 12_345.0, 'core_cycles': 40_000, 'node_cpu_share': 0.12}
PERCEPTION = {'resolutions': [
    {'width': 640, 'height': 480, 'bare_fps': 200.0, 'node_fps': 160.0, 'p50_ms': 20.0, 'p99_ms': 45.0,
     'max_ms': 60.0, 'lost': 0, 'node_work_ms': '9.0'},
    {'width': 1280, 'height': 720, 'bare_fps': 100.0, 'node_fps': 10.0, 'p50_ms': 30.0, 'p99_ms': 300.0,
     'max_ms': 400.0, 'lost': 1, 'node_work_ms': '15.0'}]}
SIM = {'engine': {'rtf': 9.0, 'cpu_per_sim_s': {}}, 'node': {'rtf': 3.5, 'cpu_per_sim_s': {'a': 0.2}},
       'stack': {'rtf': 1.6, 'cpu_per_sim_s': {}}}
PLANNER = {'obstacle_share': 0.04, 'costmap': {'median': 50.0, 'max': 60.0},
           'plan_auto': {'median': 250.0, 'max': 300.0, 'coarse_factor': 2, 'waypoints': 10, 'length_m': 77.0},
           'plan_full': {'median': 900.0, 'max': 950.0, 'waypoints': 12, 'length_m': 77.5},
           'follower_step': {'median': 30.0, 'max': 90.0}}
MISSION = {'courses': [
    {'course': 'flat_easy', 'runs': 2, 'successes': 1, 'rate': 0.5, 'mean_sim_time_s': 120.0,
     'mean_wall_time_s': 200.0, 'mean_rmse_m': 0.4, 'collisions': 0},
    {'course': 'urc_sprint', 'runs': 1, 'successes': 0, 'rate': 0.0, 'mean_sim_time_s': None,
     'mean_wall_time_s': None, 'mean_rmse_m': None, 'collisions': 1}]}


def _all_rows() -> list[dict]:
    return (run_all.drive_rows(DRIVE) + run_all.ekf_rows(EKF) + run_all.perception_rows(PERCEPTION)
            + run_all.sim_rows(SIM) + run_all.planner_rows(PLANNER) + run_all.mission_rows(MISSION)
            + run_all.setup_rows({'ok': True, 'seconds': 95.0}))


def _by_name(rows, fragment):
    found = [r for r in rows if fragment in r['name']]
    assert len(found) == 1, (fragment, [r['name'] for r in rows])
    return found[0]


@pytest.mark.parametrize(('value', 'op', 'bound', 'expected'), [
    (5000.0, '>=', 5000, 'met'), (4999.9, '>=', 5000, 'MISSED'), (250.0, '<=', 250, 'met'),
    (250.1, '<=', 250, 'MISSED'), (None, '<=', 40, 'FAILED')])
def test_verdict_against_a_target(value, op, bound, expected):
    assert run_all.verdict(value, run_all.target_of(op, bound, 'ms')) == expected


def test_no_target_no_verdict_and_unknown_operator_refused():
    assert run_all.verdict(3.0, None) == ''
    with pytest.raises(ValueError, match='operator'):
        run_all.target_of('<', 1.0, 'ms')


def test_rows_carry_the_issue_targets():
    rows = _all_rows()
    assert _by_name(rows, 'control latency p99')['verdict'] == 'met'                      # 9.5 ms <= 10 ms
    assert _by_name(rows, 'control latency p99')['target']['value'] == run_all.DRIVE_P99_TARGET_MS == 10.0
    assert _by_name(rows, 'DDS round trip of a TwistStamped, p99')['value'] == pytest.approx(3.0)
    assert _by_name(rows, 'control latency p50')['verdict'] == ''
    assert _by_name(rows, 'EKF filter core')['verdict'] == 'met'
    assert _by_name(rows, 'EKF node CPU')['value'] == pytest.approx(12.0)
    ratio = _by_name(rows, '640x480, node rate')
    assert ratio['value'] == pytest.approx(80.0) and ratio['verdict'] == 'met'
    assert '160.0 fps' in ratio['text']
    assert _by_name(rows, '640x480, node latency p99')['verdict'] == 'MISSED'     # 45 > 40 ms
    assert _by_name(rows, '1280x720, node latency p99')['target'] is None   # targets stated at 640x480
    assert _by_name(rows, '1280x720, node rate')['target'] is None
    assert _by_name(rows, 'node alone')['verdict'] == 'MISSED'             # 3.5x < 4x
    assert _by_name(rows, 'full sim stack')['verdict'] == 'met'            # 1.6x >= 1.5x
    assert _by_name(rows, 'engine')['target'] is None
    assert _by_name(rows, 'planner')['verdict'] == 'met'                   # 250 ms <= 250 ms
    assert _by_name(rows, 'flat_easy: success')['text'] == '50 % (1/2 seeds)'
    assert _by_name(rows, 'urc_sprint: mean time')['text'] == 'no successful run'
    assert 'warm pip cache' in _by_name(rows, 'cold set-up')['name']


def test_failures_become_failed_rows():
    failed = run_all.setup_rows({'ok': False, 'error': 'make exit code 2'})
    assert failed[0]['verdict'] == 'FAILED' and 'make exit code 2' in failed[0]['text']
    assert run_all.failed_row('sim_rtf', 'timed out after 600 s')['verdict'] == 'FAILED'
    no_ekf_node = run_all.ekf_rows({**EKF, 'node_cpu_share': None})
    assert len(no_ekf_node) == 1


def test_table_has_one_line_per_row_and_escapes_pipes():
    rows = [*_all_rows(), run_all.failed_row('x', 'a | b')]
    table = run_all.format_table(rows).splitlines()
    assert table[0] == '| benchmark | value | target | verdict |'
    assert len(table) == 2 + len(rows)
    assert all(line.startswith('| ') and line.endswith('|') for line in table[2:])
    assert all(line.count(' | ') == 3 for line in table[2:])       # 4 cells, the '|' in a cell escaped
    assert '| <= 250 ms | met |' in run_all.format_table(run_all.planner_rows(PLANNER))
    assert '12,345 cycles/s' in run_all.format_table(run_all.ekf_rows(EKF))


@pytest.mark.parametrize(('op', 'bound', 'unit', 'text'), [
    ('>=', 1.5, 'x', '>= 1.5x'), ('>=', 5000, 'cycles/s', '>= 5,000 cycles/s'), ('<=', 40, 'ms', '<= 40 ms'),
    ('>=', 75, '% of bare', '>= 75 % of bare')])
def test_target_text_keeps_the_bound_exact(op, bound, unit, text):
    assert run_all.target_text(run_all.target_of(op, bound, unit)) == text


def test_machine_info_from_proc_text():
    cpuinfo = 'processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\nflags\t: fpu\n'
    machine = run_all.machine_info(cpuinfo, '3.52 2.10 1.00 2/300 1234\n', 2, '3.11.7', '2026-11-27 19:00 UTC')
    assert machine == {'cpu': 'Example CPU @ 2.0GHz', 'cores': 2, 'load_average': [3.52, 2.1, 1.0],
                       'python': '3.11.7', 'date': '2026-11-27 19:00 UTC'}
    assert run_all.machine_info('', '', 1, '3.11', 'd')['cpu'] == 'unknown'
    assert '2 cores, load average 3.5 / 2.1 / 1.0' in run_all.machine_line(machine)


def test_results_document_fits_the_schema_and_survives_json():
    machine = run_all.machine_info('model name : X\n', '1 2 3 1/1 1', 2, '3.11.7', 'today')
    document = run_all.results_document(machine, _all_rows(), 'bench/run_all --quick')
    assert run_all.check_results(document) == []
    again = json.loads(json.dumps(document))
    assert run_all.check_results(again) == [] and again['rows'] == document['rows']


@pytest.mark.parametrize(('breakage', 'problem'), [
    (lambda d: d.pop('machine'), 'machine'),
    (lambda d: d['machine'].__setitem__('cores', '2'), 'machine.cores'),
    (lambda d: d.__setitem__('rows', {}), 'rows'),
    (lambda d: d['rows'][0].pop('verdict'), 'rows[0]'),
    (lambda d: d['rows'][0].__setitem__('value', '21'), 'rows[0].value'),
    (lambda d: d['rows'][1].__setitem__('verdict', 'ok'), 'rows[1].verdict'),
    (lambda d: d['rows'][1].__setitem__('target', {'op': '<', 'value': 1}), 'rows[1].target')])
def test_schema_check_names_what_is_wrong(breakage, problem):
    machine = run_all.machine_info('model name : X\n', '1 2 3', 2, '3.11.7', 'today')
    document = json.loads(json.dumps(run_all.results_document(machine, _all_rows(), 'c')))
    breakage(document)
    problems = run_all.check_results(document)
    assert problems and any(p.startswith(problem) for p in problems), problems


def test_last_json_line_skips_progress_and_warnings():
    out = 'flat_easy seed 0: ok (1 s sim, 2 s wall)\n{"courses": []}\nwarning: {not json\n'
    assert run_all.last_json_line(out) == {'courses': []}
    assert run_all.last_json_line('no figures\n[1, 2]\n') is None


def test_quick_plan_runs_one_seed_of_two_courses():
    options = run_all.argparse.Namespace(quick=True, seeds=None, courses=None, jobs=1)
    benches = {name: args for name, _, args, _, _ in run_all.plan(options)}
    assert benches['mission'][:2] == ['--seeds', '1']
    assert benches['mission'][-2:] == ['--courses', 'flat_easy,urc_sprint']
    full = {name: args for name, _, args, _, _ in run_all.plan(
        run_all.argparse.Namespace(quick=False, seeds=None, courses=None, jobs=1))}
    assert full['mission'][:2] == ['--seeds', '10'] and '--courses' not in full['mission']


def test_parallel_mission_seeds_are_passed_on_and_share_the_time_limit():
    plans = {jobs: {name: (args, timeout) for name, _, args, timeout, _ in run_all.plan(
        run_all.argparse.Namespace(quick=False, seeds=10, courses=None, jobs=jobs))} for jobs in (1, 2)}
    args, timeout = plans[2]['mission']
    assert args[args.index('--jobs') + 1] == '2'
    assert timeout == plans[1]['mission'][1] / 2
