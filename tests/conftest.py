"""Test-suite wiring shared by every tier.

* Markers come from the directory: tests/unit -> unit, tests/node -> node, tests/system -> system,
  tests/launch -> launch.
* Each pytest run claims its own DDS domain id (an flock'ed file per id under the temp dir), so two
  runs on one machine, or a stray process, never hear each other. Child processes inherit it.
* ``ros_context`` gives node tests a private rclpy Context, shut down afterwards.
* Tests marked ``nav2`` need Nav2's interfaces (nav2_msgs, geographic_msgs: install-nav/, which
  ``make test`` builds). Without them they FAIL under ``make test`` (ROVER_REQUIRE_NAV2=1) and are skipped,
  with the reason, in a plain pytest run.
* Fast DDS shared-memory files of participants that are gone (killed processes) are removed from
  /dev/shm before and after the run (``rover_stack.testing.shm_segments``): tmpfs keeps them in RAM.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from rover_stack.common.domains import claim_domain_id
from rover_stack.testing.shm_segments import remove_stale_segments

TIERS = ('unit', 'node', 'system', 'launch')
_domain_lock = None     # held for the life of this process


def pytest_configure(config):
    if 'ROVER_TEST_DOMAIN_ID' not in os.environ:
        global _domain_lock
        domain_id, _domain_lock = claim_domain_id()
        os.environ['ROVER_TEST_DOMAIN_ID'] = str(domain_id)
        os.environ['ROS_DOMAIN_ID'] = str(domain_id)
    # Nothing in the tests may reach beyond this machine: refuse to run with a wide DDS scope.
    if os.environ.get('ROVER_DDS_SCOPE', 'localhost') != 'localhost':
        raise pytest.UsageError('tests run only with ROVER_DDS_SCOPE=localhost (source scripts/env.sh)')


def nav2_missing() -> str:
    """Why Nav2's interfaces cannot be imported, or ''."""
    try:
        import geographic_msgs.msg  # noqa: F401, PLC0415 - nav2: optional
        import nav2_msgs.action  # noqa: F401, PLC0415 - nav2: optional
    except ImportError as error:
        return (f'Nav2 interfaces missing ({error}): make test builds them into install-nav/ '
                '(scripts/build_tools.sh ... nav); with a distro: apt install ros-jazzy-nav2-msgs')
    return ''


def pytest_runtest_setup(item):
    if 'nav2' in item.keywords:
        missing = nav2_missing()
        if missing and os.environ.get('ROVER_REQUIRE_NAV2') == '1':
            pytest.fail(missing, pytrace=False)
        elif missing:
            pytest.skip(missing)


def pytest_sessionstart(session):
    remove_stale_segments()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = tier_counts(terminalreporter.stats)
    if counts:
        terminalreporter.write_line('tiers: ' + '; '.join(
            f'{tier} ' + ', '.join(f'{n} {outcome}' for outcome, n in sorted(by_outcome.items()))
            for tier, by_outcome in counts.items()))
    freed = remove_stale_segments()
    if freed:
        terminalreporter.write_line(f'removed {freed / 2**20:.0f} MiB of Fast DDS shared memory left by '
                                    'processes that are gone')


def tier_counts(stats) -> dict[str, dict[str, int]]:
    """{tier: {outcome: number of tests}} from the terminal reporter's stats (one outcome per test:
    a failed set-up or call counts as failed, a skip at any phase as skipped)."""
    outcome_of: dict[str, tuple[str, str]] = {}
    for outcome in ('passed', 'failed', 'skipped', 'error'):
        for report in stats.get(outcome, []):
            tier = next((t for t in TIERS if t in getattr(report, 'keywords', {})), None)
            if tier is None or (outcome == 'passed' and report.when != 'call'):
                continue
            if report.nodeid not in outcome_of or outcome in ('failed', 'error', 'skipped'):
                outcome_of[report.nodeid] = (tier, 'failed' if outcome == 'error' else outcome)
    counts: dict[str, dict[str, int]] = {}
    for tier, outcome in outcome_of.values():
        counts.setdefault(tier, {}).setdefault(outcome, 0)
        counts[tier][outcome] += 1
    return dict(sorted(counts.items(), key=lambda item: TIERS.index(item[0])))


def pytest_collection_modifyitems(config, items):
    root = Path(__file__).parent
    for item in items:
        try:
            tier = Path(item.fspath).relative_to(root).parts[0]
        except ValueError:
            continue
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def ros_context():
    """A private, initialised rclpy Context for one test."""
    import rclpy  # noqa: PLC0415 - unit tier is rclpy-free

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        context.try_shutdown()
