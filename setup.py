"""ament_python package of the rover stack; Python sources live under src/rover_stack."""
import os
import runpy

from setuptools import find_packages, setup

PACKAGE = 'rover_stack'
HERE = os.path.dirname(os.path.abspath(__file__))
# One list of executables, shared with the node-set descriptions (see src/rover_stack/executables.py).
EXECUTABLES = runpy.run_path(os.path.join(HERE, 'src', PACKAGE, 'executables.py'))['EXECUTABLES']


def tree(directory, suffixes=None):
    """data_files entries installing directory/** under share/rover_stack/directory."""
    entries = []
    for root, _dirs, files in os.walk(os.path.join(HERE, directory)):
        picked = [
            os.path.relpath(os.path.join(root, name), HERE)
            for name in sorted(files)
            if suffixes is None or name.endswith(suffixes)
        ]
        if picked:
            entries.append((os.path.join('share', PACKAGE, os.path.relpath(root, HERE)), picked))
    return entries


setup(
    name=PACKAGE,
    version='0.1.0',
    package_dir={'': 'src'},
    packages=find_packages('src', include=[PACKAGE, PACKAGE + '.*']),
    package_data={'rover_stack.base_station': ['static/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        *tree('launch', ('.py', '.yaml')),
        *tree('config'),
        *tree('urdf'),
        *tree('sim'),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Rover stack maintainers',
    maintainer_email='rover-stack@users.noreply.github.com',
    description='ROS 2 stack for competition planetary rovers',
    license='Apache-2.0',
    tests_require=['pytest'],
    extras_require={'test': ['pytest', 'pytest-timeout', 'hypothesis']},
    entry_points={
        'console_scripts': [f'{name} = {target}' for name, target in sorted(EXECUTABLES.items())],
    },
)
