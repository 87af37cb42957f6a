"""Render the contract's topic tables for docs/hardware_interface.md, so the page cannot drift from the YAML.

The page keeps hand-written prose; the part between the two markers is generated. Regenerate with
``python -m rover_stack.contract.docs`` (rewrites docs/hardware_interface.md in the source tree).
"""
from __future__ import annotations

import sys

from rover_stack.common.share_files import source_root
from rover_stack.contract.checks import CHECK_KINDS
from rover_stack.contract.model import Contract, TopicContract, load_contract

BEGIN = '<!-- contract-tables:begin (generated from config/hardware_interface.yaml) -->'
END = '<!-- contract-tables:end -->'
DOC_FILE = source_root() / 'docs' / 'hardware_interface.md'


def _frame(topic: TopicContract) -> str:
    if topic.frame_id is None:
        return '(no header)'
    return f'`{topic.frame_id}`' if topic.frame_id else '(empty)'


def _rate(topic: TopicContract) -> str:
    return 'on change' if topic.rate_hz == 0 else f'{topic.rate_hz:g}'


def render_tables(contract: Contract) -> str:
    """Summary table of every topic, then per topic its units and checks."""
    lines = [
        '| topic | direction | type | frame_id | rate (Hz) | QoS | variants |',
        '| --- | --- | --- | --- | --- | --- | --- |',
    ]
    for t in contract.topics.values():
        lines.append(f'| `{t.name}` | {t.direction} | `{t.type}` | {_frame(t)} | {_rate(t)} | {t.qos} | '
                     f'{", ".join(t.kinematics)} |')
    for t in contract.topics.values():
        lines += ['', f'### `{t.name}`', '', t.description.replace('<', '\\<'), '']
        if t.units:
            lines.append('Units: ' + ', '.join(f'`{name}` {unit}' for name, unit in t.units.items()) + '.')
            lines.append('')
        if t.checks:
            lines += ['Checks:', '']
            lines += [f'- `{check}`: {CHECK_KINDS[check.kind].description}' for check in t.checks]
        else:
            lines.append('Checks: type, rate and QoS only.')
    return '\n'.join(lines)


def updated_page(page: str, contract: Contract) -> str:
    """``page`` with the text between the markers replaced by :func:`render_tables`."""
    head, begin, rest = page.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f'the page lacks the markers {BEGIN!r} ... {END!r}')
    return f'{head}{BEGIN}\n{render_tables(contract)}\n{END}{tail}'


def main() -> None:
    page = DOC_FILE.read_text()
    DOC_FILE.write_text(updated_page(page, load_contract()))
    sys.stderr.write(f'updated {DOC_FILE}\n')


if __name__ == '__main__':
    main()
