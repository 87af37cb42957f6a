"""Find data files shipped with the package (config/, sim/, urdf/): the installed share directory
(share/rover_stack, via ament_index) when the file is there, else the source tree."""
from __future__ import annotations

from pathlib import Path

try:  # present when the package runs from a ROS install; the source tree works without it
    from ament_index_python.packages import get_package_share_directory
except ImportError:
    get_package_share_directory = None

PACKAGE = 'rover_stack'
SOURCE_ROOT = Path(__file__).resolve().parents[3]


def share_roots() -> list[Path]:
    """Directories searched in order: the installed share directory (if any), then the source tree."""
    roots = []
    if get_package_share_directory is not None:
        try:
            roots.append(Path(get_package_share_directory(PACKAGE)))
        except LookupError:  # PackageNotFoundError: not in the ament index
            pass
    roots.append(SOURCE_ROOT)
    return roots


def share_path(relative: str | Path) -> Path:
    """The first existing root/relative; the source-tree path when it exists nowhere."""
    for root in share_roots():
        candidate = root / relative
        if candidate.is_file():
            return candidate
    return SOURCE_ROOT / relative


def share_names(directory: str | Path, suffix: str = '.yaml') -> list[str]:
    """Sorted stems of the files ending in ``suffix`` in ``directory`` under any root."""
    names = set()
    for root in share_roots():
        names.update(path.name[:-len(suffix)] for path in (root / directory).glob('*' + suffix))
    return sorted(names)
