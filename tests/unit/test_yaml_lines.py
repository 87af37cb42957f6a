"""YAML loading with line numbers and the typed field readers shared by the course and mission loaders."""
import pytest

from rover_stack.common.yaml_lines import Fields, FileFieldError, load_yaml_file, load_yaml_text

TEXT = """\
top: 1
nested:
  a: 2.5
  b: [1, 2]
items:
  - {x: 1}
  - x: 2
    y: 3
"""


def test_values_and_lines_are_kept():
    data = load_yaml_text(TEXT, 'f.yaml')
    assert data == {'top': 1, 'nested': {'a': 2.5, 'b': [1, 2]}, 'items': [{'x': 1}, {'x': 2, 'y': 3}]}
    assert data.lines['top'] == 1
    assert data.lines['nested'] == 2
    assert data['nested'].lines['a'] == 3
    assert data['items'].lines == [6, 7]
    assert data['items'][1].lines['y'] == 8
    assert data['items'][1].line == 7


def test_error_text_is_path_line_field_message():
    error = FileFieldError('a/b.yaml', 12, 'legs[2].tolerance', 'must be greater than 0')
    assert str(error) == 'a/b.yaml:12: legs[2].tolerance: must be greater than 0'
    assert str(FileFieldError('a.yaml', 1, '', 'empty')) == 'a.yaml:1: empty'


def test_duplicate_key_and_syntax_errors_name_their_line():
    with pytest.raises(FileFieldError, match=r'^f.yaml:3: a: duplicate key'):
        load_yaml_text('a: 1\nb: 2\na: 3\n', 'f.yaml')
    with pytest.raises(FileFieldError, match=r'^f.yaml:3: invalid YAML: .*flow sequence started on line 2'):
        load_yaml_text('a: 1\nb: [1, 2\n', 'f.yaml')
    with pytest.raises(FileFieldError, match=r'^f.yaml:2: invalid YAML'):
        load_yaml_text('a: 1\n\tb: 2\n', 'f.yaml')


def test_unreadable_file(tmp_path):
    with pytest.raises(FileFieldError, match='cannot read file'):
        load_yaml_file(tmp_path / 'missing.yaml')


@pytest.mark.parametrize(('call', 'line', 'message'), [
    (lambda f: f.integer('top', minimum=2), 1, 'top: must be at least 2'),
    (lambda f: f.string('top'), 1, 'top: must be a string'),
    (lambda f: f.number('missing'), 1, "missing required field 'missing'"),
    (lambda f: f.mapping('nested').number('a', maximum=1.0), 3, 'nested.a: must be at most 1'),
    (lambda f: f.mapping('nested').integer('a'), 3, 'nested.a: must be an integer'),
    (lambda f: f.mapping('nested').mapping('b'), 4, 'nested.b: expected a mapping'),
    (lambda f: f.sequence('items')[1].number('y', above=5.0), 8, r'items\[1\].y: must be greater than 5'),
    (lambda f: f.sequence('top'), 1, 'top: must be a list'),
    (lambda f: f.mapping('nested').reject_unknown({'a'}), 4, 'nested.b: unknown field; expected one of: a'),
    (lambda f: f.choice('top', ('x', 'y')), 1, 'top: must be a string'),
])
def test_typed_readers_raise_with_field_path_and_line(call, line, message):
    fields = Fields(load_yaml_text(TEXT, 'f.yaml'), 'f.yaml')
    with pytest.raises(FileFieldError, match=rf'^f.yaml:{line}: {message}'):
        call(fields)


def test_booleans_are_not_numbers_and_defaults_apply():
    fields = Fields(load_yaml_text('flag: true\nnothing:\n', 'f.yaml'), 'f.yaml')
    with pytest.raises(FileFieldError, match='must be a finite number'):
        fields.number('flag')
    assert fields.number('absent', 4.0) == 4.0
    assert fields.number('nothing', 1.5) == 1.5
    with pytest.raises(FileFieldError, match='nothing: must not be empty'):
        fields.number('nothing')
