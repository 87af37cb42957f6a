"""``rover``: the stack's command line. Subcommands:

    rover sim [...]     run a simulated mission end to end (cli/sim.py; make sim ARGS='...')
    rover replay RUN.mcap [...]   feed a recording to fresh localization/perception nodes (cli/replay.py)
    rover report RUN [...]        plots and a summary of a recorded run (cli/report_cmd.py)
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

COMMANDS = {'sim': 'run the full stack in the simulator on a course and execute its mission',
            'replay': 'feed a recording to fresh localization/perception nodes and compare their output',
            'report': 'render a recorded run: trajectory, position error, events (PNG + markdown)'}


def usage() -> str:
    lines = ['usage: rover COMMAND [ARGS...]', '', 'commands:']
    lines += [f'  {name:8s}{text}' for name, text in COMMANDS.items()]
    return '\n'.join([*lines, '', "'rover COMMAND --help' describes a command."])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == 'sim':
        from rover_stack.cli.sim import main as sim_main  # noqa: PLC0415 - load only the chosen subcommand

        return sim_main(rest, prog='rover sim')
    if command == 'replay':
        from rover_stack.cli.replay import main as replay_main  # noqa: PLC0415 - load only the chosen subcommand

        return replay_main(rest, prog='rover replay')
    if command == 'report':
        from rover_stack.cli.report_cmd import main as report_main  # noqa: PLC0415 - load only the chosen subcommand

        return report_main(rest, prog='rover report')
    print(f'rover: unknown command {command!r}\n{usage()}', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
