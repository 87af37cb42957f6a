"""``rover``: the stack's command line. Subcommands:

    rover sim [...]     run a simulated mission end to end (cli/sim_job.py; make sim ARGS='...')
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

COMMANDS = {'sim': 'run the full stack in the simulator on a course and execute its mission'}


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
        from rover_stack.cli.sim_job import main as sim_main

        return sim_main(rest, prog='rover sim')
    print(f'rover: unknown command {command!r}\n{usage()}', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
