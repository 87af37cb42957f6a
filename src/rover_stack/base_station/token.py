"""The operator token: a file readable by its owner only, read or generated once (docs/base_station.md).

The token is never a ROS parameter (any DDS participant may read parameters) and never logged: a new
one is written to the file (mode 0600) and shown on the terminal only.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DEFAULT_TOKEN_FILE = Path.home() / '.config' / 'rover_stack' / 'base_station_token'
MIN_LENGTH = 16


def check_private(path: Path) -> None:
    """ValueError unless ``path`` is a regular file owned by this user and closed to group and others."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f'{path}: not a regular file')
    if info.st_uid != os.getuid():
        raise ValueError(f'{path}: owned by uid {info.st_uid}, not by this user ({os.getuid()})')
    if info.st_mode & 0o077:
        raise ValueError(f'{path}: readable or writable by group or others (mode '
                         f'{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}')


def load_or_create(path: Path) -> tuple[str, bool]:
    """Return (token, created): read ``path`` (refused unless private), or write a new random token there
    (mode 0600)."""
    if path.exists():
        check_private(path)
        token = path.read_text(encoding='utf-8').strip()
        if len(token) < MIN_LENGTH:
            raise ValueError(f'{path}: token shorter than {MIN_LENGTH} characters')
        return token, False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(24)
    write(path, token)
    return token, True


def write(path: Path, token: str) -> Path:
    """Store ``token`` in a new private file ``path`` (mode 0600), e.g. for tests and scripts; ``path``."""
    if len(token) < MIN_LENGTH:
        raise ValueError(f'token: at least {MIN_LENGTH} characters are required')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(token + '\n')
    return path
