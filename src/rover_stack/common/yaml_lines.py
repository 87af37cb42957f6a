"""YAML loading that remembers line numbers, and field readers that raise errors naming them.

``load_yaml_text`` composes the document (``yaml.compose``) and builds plain Python values in which
every mapping is a :class:`LineDict` and every sequence a :class:`LineList`: ordinary dict/list
subclasses that also know the line of each value (1-based). Duplicate keys are rejected.

:class:`Fields` reads one mapping of such a document with typed accessors (``number``, ``integer``,
``string``, ``choice``, ``mapping``, ``sequence``) and raises :class:`FileFieldError`, whose text
is ``path:line: field.path: message`` so an editor can jump straight to the mistake.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

_MISSING = object()
MAX_VALUES = 100_000   # values in one document after aliases are expanded ("billion laughs" guard)
MAX_FLOW_DEPTH = 64    # nested [ ] / { }: PyYAML's scanner slows down quadratically with the depth


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses flow collections nested deeper than MAX_FLOW_DEPTH, so a hostile text
    ('[[[[...' from an action goal) fails at once instead of scanning for minutes."""

    def fetch_flow_collection_start(self, token_class):
        if self.flow_level >= MAX_FLOW_DEPTH:
            raise yaml.scanner.ScannerError(None, None, f'[ ] or {{ }} nested deeper than {MAX_FLOW_DEPTH}',
                                            self.get_mark())
        super().fetch_flow_collection_start(token_class)


class FileFieldError(ValueError):
    """A field of a YAML file is missing or invalid; str() is 'path:line: field.path: message'."""

    def __init__(self, path: str, line: int, field_path: str, message: str):
        self.path, self.line, self.field_path, self.message = str(path), int(line), field_path, message
        where = f'{self.path}:{self.line}: '
        super().__init__(where + (f'{field_path}: {message}' if field_path else message))


class LineDict(dict):
    """A dict that knows its own line and the line of each value (``lines[key]``), 1-based."""
    line: int = 1
    lines: dict


class LineList(list):
    """A list that knows its own line and the line of each item (``lines[index]``), 1-based."""
    line: int = 1
    lines: list


def _build(node: yaml.Node, loader: yaml.SafeLoader, source: str, budget: list[int]):
    budget[0] -= 1
    if budget[0] < 0:
        raise FileFieldError(source, node.start_mark.line + 1, '',
                             f'document too large: more than {MAX_VALUES} values once aliases are expanded')
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line, result.lines = node.start_mark.line + 1, {}
        loader.flatten_mapping(node)  # resolves '<<' merge keys
        for key_node, value_node in node.value:
            key = _build(key_node, loader, source, budget)
            line = key_node.start_mark.line + 1
            if isinstance(key, (dict, list)):
                raise FileFieldError(source, line, '', 'mapping keys must be plain scalars')
            if key in result:
                raise FileFieldError(source, line, str(key), 'duplicate key')
            result[key] = _build(value_node, loader, source, budget)
            # A value on its own line (a nested block) is reported at its key.
            result.lines[key] = line if isinstance(value_node, yaml.MappingNode | yaml.SequenceNode) \
                else value_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        result = LineList(_build(item, loader, source, budget) for item in node.value)
        result.line = node.start_mark.line + 1
        result.lines = [item.start_mark.line + 1 for item in node.value]
        return result
    return loader.construct_object(node, deep=True)


def load_yaml_text(text: str, source: str = '<text>'):
    """Parse one YAML document into LineDict/LineList/scalars; any unreadable text -> FileFieldError
    (syntax, characters YAML forbids, bad tagged values such as a 13th month, nesting too deep,
    more than MAX_VALUES values after alias expansion)."""
    try:
        loader = _Loader(text)
    except yaml.YAMLError as error:          # e.g. a NUL character: the reader checks on creation
        raise FileFieldError(source, 1, '', f'invalid YAML: {error}') from None
    try:
        node = loader.get_single_node()
        return None if node is None else _build(node, loader, source, [MAX_VALUES])
    except FileFieldError:
        raise
    except RecursionError:
        raise FileFieldError(source, 1, '', 'invalid YAML: nested too deeply') from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = f'invalid YAML: {error.problem or error}'
        if error.context and error.context_mark is not None:
            message += f' ({error.context} started on line {error.context_mark.line + 1})'
        raise FileFieldError(source, line, '', message) from None
    except yaml.YAMLError as error:
        raise FileFieldError(source, 1, '', f'invalid YAML: {error}') from None
    except (ValueError, TypeError, OverflowError) as error:   # a tagged value the constructor refuses
        raise FileFieldError(source, 1, '', f'invalid YAML value: {error}') from None
    finally:
        loader.dispose()


def load_yaml_file(path: str | Path):
    """Read and parse a YAML file (see load_yaml_text); an unreadable file -> FileFieldError at line 1."""
    try:
        text = Path(path).read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as error:
        raise FileFieldError(str(path), 1, '', f'cannot read file: {error}') from None
    return load_yaml_text(text, str(path))


def _is_finite_number(value) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:                    # an integer too large for a float
        return False


class Fields:
    """Typed, line-aware access to one mapping of a loaded document.

    ``prefix`` is the dotted path of this mapping in the document ('' at the top, 'legs[2]' for
    the third leg). Every accessor raises ``error_type`` (a FileFieldError subclass) on bad input.
    """

    def __init__(self, data, source: str, prefix: str = '', line: int = 1,
                 error_type: type[FileFieldError] = FileFieldError):
        self.source, self.prefix, self.error_type = source, prefix, error_type
        if not isinstance(data, dict):
            raise error_type(source, line, prefix, f'expected a mapping, got {_describe(data)}')
        self.data = data
        self.line = getattr(data, 'line', line)

    # -- locations and errors -------------------------------------------------
    def path_of(self, key: str) -> str:
        return f'{self.prefix}.{key}' if self.prefix else key

    def line_of(self, key: str) -> int:
        return getattr(self.data, 'lines', {}).get(key, self.line)

    def error(self, key: str | None, message: str) -> FileFieldError:
        """An error at ``key`` (its line) or, with key None, at this mapping."""
        if key is None:
            return self.error_type(self.source, self.line, self.prefix, message)
        return self.error_type(self.source, self.line_of(key), self.path_of(key), message)

    def reject_unknown(self, allowed) -> None:
        """Unknown keys are almost always typos ('tolerence'); name the first one and the valid ones."""
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f'unknown field; expected one of: {", ".join(sorted(allowed))}')

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default):
        if key in self.data and self.data[key] is not None:
            return self.data[key]
        if default is _MISSING:
            raise self.error(None, f'missing required field {key!r}') if key not in self.data \
                else self.error(key, 'must not be empty')
        return default

    # -- typed readers ---------------------------------------------------------
    def number(self, key: str, default: Any = _MISSING, *, minimum: float | None = None,
               maximum: float | None = None, above: float | None = None) -> float:
        """A finite number, optionally within [minimum, maximum] or strictly above ``above``."""
        value = self._get(key, default)
        if not _is_finite_number(value):
            raise self.error(key, f'must be a finite number, got {value!r}{_number_hint(value)}')
        value = float(value)
        if above is not None and value <= above:
            raise self.error(key, f'must be greater than {above:g}, got {value:g}')
        if minimum is not None and value < minimum:
            raise self.error(key, f'must be at least {minimum:g}, got {value:g}')
        if maximum is not None and value > maximum:
            raise self.error(key, f'must be at most {maximum:g}, got {value:g}')
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self._get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f'must be an integer, got {value!r}')
        if minimum is not None and value < minimum:
            raise self.error(key, f'must be at least {minimum}, got {value}')
        if maximum is not None and value > maximum:
            raise self.error(key, f'must be at most {maximum}, got {value}')
        return value

    def string(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f'must be a string, got {value!r}')
        return value

    def choice(self, key: str, choices, default: Any = _MISSING) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.error(key, f'must be one of {", ".join(choices)}, got {value!r}')
        return value

    def mapping(self, key: str, default: Any = _MISSING) -> Fields:
        """The nested mapping at ``key`` (an empty one when absent and a default is given)."""
        value = self._get(key, default)
        return type(self)(value, self.source, self.path_of(key), self.line_of(key), self.error_type)

    def sequence(self, key: str, default: Any = _MISSING, *, non_empty: bool = False) -> list[Fields]:
        """The list at ``key`` as Fields, one per item (each item must be a mapping)."""
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self.error(key, f'must be a list, got {_describe(value)}')
        if non_empty and not value:
            raise self.error(key, 'must not be empty')
        lines = getattr(value, 'lines', [self.line_of(key)] * len(value))
        return [type(self)(item, self.source, f'{self.path_of(key)}[{index}]', lines[index], self.error_type)
                for index, item in enumerate(value)]


def _number_hint(value) -> str:
    """PyYAML (YAML 1.1) reads 1e6 as text: say how to write it."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ''
        return ' (YAML reads this as text; write a decimal point and a signed exponent, e.g. 1.0e+6)'
    return ''


def _describe(value) -> str:
    if isinstance(value, dict):
        return 'a mapping'
    if isinstance(value, list):
        return 'a list'
    return repr(value)
