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
MISSIONS_DIR = Path('config') / 'missions'   # shipped missions, <name>.yaml
COURSES_DIR = Path('sim') / 'courses'        # shipped simulator courses, <name>.yaml
ROBOT_CONFIG_DIR = Path('config') / 'robot'  # shipped robot variants, <name>.yaml (skid4, corner6, ...)


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


def package_share_dir() -> Path:
    """share/rover_stack of the installed package, or the source tree when it is not installed."""
    return share_roots()[0]


def source_root() -> Path:
    """The repository root holding config/, launch/ and src/rover_stack."""
    return SOURCE_ROOT


def shipped_dir(relative: str | Path) -> Path:
    """The first root holding the directory ``relative`` (config, urdf, ...); the source tree's else."""
    for root in share_roots():
        if (root / relative).is_dir():
            return root / relative
    return SOURCE_ROOT / relative


def config_dir() -> Path:
    """The installed package's share/rover_stack/config, else the source tree's config/."""
    return shipped_dir('config')


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


class UnknownNameError(LookupError):
    """A bare name that no shipped file in the directory has."""


def names_a_file(value: str | Path) -> bool:
    """True when ``value`` is a file path (a Path, or text with a '/' or ending in .yaml/.yml), False
    for a bare name such as 'urc_sprint'. Every course/mission argument is read by this one rule."""
    text = str(value).strip()
    return isinstance(value, Path) or '/' in text or text.endswith(('.yaml', '.yml'))


def find_named_file(value: str | Path, directory: str | Path, what: str,
                    error: type[Exception] = UnknownNameError) -> Path:
    """A course or mission argument -> its file: a path as given (``names_a_file``), a bare name ->
    ``<directory>/<name>.yaml`` of the installed share or the source tree; UnknownNameError naming the
    shipped ones otherwise (``what``: 'course', 'mission'; ``error``: its type)."""
    if names_a_file(value):
        return Path(str(value).strip()).expanduser()
    name = str(value).strip()
    path = share_path(Path(directory) / f'{name}.yaml')
    if not name or not path.is_file():
        known = ', '.join(share_names(directory)) or 'none'
        raise error(f"unknown {what} {name!r}; known: {known} (a path needs a '/' or a .yaml suffix)")
    return path


class UnknownRobotError(ValueError):
    """A robot variant name that no shipped robot config has."""


def robot_config_path(value: str | Path) -> Path:
    """A robot variant ('corner6') -> config/robot/corner6.yaml of the share or the source tree; a path
    (a '/' or a .yaml suffix) as given; UnknownRobotError naming the shipped variants otherwise."""
    return find_named_file(value, ROBOT_CONFIG_DIR, 'robot variant', error=UnknownRobotError)


def robot_variants() -> list[str]:
    """Names of the shipped robot configs (skid4, skid6, corner6, ...)."""
    return share_names(ROBOT_CONFIG_DIR)
