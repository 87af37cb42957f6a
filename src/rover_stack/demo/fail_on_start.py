"""A node executable that fails at once with exit code 1: tests the runner's required-node handling."""
from __future__ import annotations

import logging
import sys

EXIT_CODE = 1


def main() -> int:
    logging.basicConfig(stream=sys.stderr, format='%(levelname)s %(name)s: %(message)s')
    logging.getLogger('fail_on_start').error('failing on purpose (test node), exit code %d', EXIT_CODE)
    return EXIT_CODE
