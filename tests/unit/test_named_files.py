"""Every argument that names a course or a mission reads it by one rule (common.share_files): a
bare name is a shipped file, a path (a '/' or a .yaml suffix) is taken as given."""
import shutil

import pytest

from rover_stack.autonomy.goals import default_mission_dirs, resolve_goal
from rover_stack.autonomy.mission import MissionError, find_mission, load_mission
from rover_stack.common.share_files import UnknownNameError, find_named_file, names_a_file
from rover_stack.sim.course import UnknownCourseError, find_course, load_course


@pytest.mark.parametrize('value, is_path', [
    ('urc_sprint', False), ('flat_easy', False), ('x.yaml', True), ('x.yml', True), ('./x', True),
    ('/tmp/missions/x', True), ('  urc_sprint ', False)])
def test_names_a_file(value, is_path):
    assert names_a_file(value) is is_path


def legs(mission):
    return mission.name, mission.datum, mission.legs


def test_a_name_and_its_path_give_the_same_course_and_mission():
    assert load_course('urc_sprint') == load_course(str(find_course('urc_sprint')))
    assert legs(load_mission('urc_sprint')) == legs(load_mission(str(find_mission('urc_sprint'))))
    mission, _text, _source = resolve_goal('urc_sprint', '', default_mission_dirs())
    assert legs(mission) == legs(load_mission('urc_sprint'))


def test_a_path_without_the_yaml_suffix_is_a_path(tmp_path):
    copy = tmp_path / 'my_mission'
    shutil.copy(find_mission('flat_easy'), copy)
    assert legs(load_mission(str(copy))) == legs(load_mission('flat_easy'))
    assert find_named_file(str(copy), 'config/missions', 'mission') == copy


def test_unknown_names_list_the_shipped_ones():
    with pytest.raises(UnknownCourseError, match=r'known: .*urc_sprint'):
        find_course('no_such_course')
    with pytest.raises(MissionError, match=r'known: .*urc_sprint'):
        load_mission('no_such_mission')
    with pytest.raises(UnknownNameError, match='unknown mission'):
        find_named_file('', 'config/missions', 'mission')
