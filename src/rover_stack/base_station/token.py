"""The operator token: configured, or generated once and stored with owner-only permissions."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_TOKEN_FILE = Path.home() / '.config' / 'rover_stack' / 'base_station_token'
MIN_LENGTH = 16


def load_or_create(path: Path) -> tuple[str, bool]:
    """Return (token, created): read ``path``, or write a new random token there (mode 0600)."""
    if path.exists():
        token = path.read_text(encoding='utf-8').strip()
        if len(token) < MIN_LENGTH:
            raise ValueError(f'{path}: token shorter than {MIN_LENGTH} characters')
        return token, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(token + '\n')
    return token, True
