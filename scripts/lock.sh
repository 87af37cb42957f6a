#!/usr/bin/env bash
# Regenerate the pinned requirement files from requirements/*.in (run by a maintainer, not by make):
#   scripts/lock.sh            -> requirements/python.lock, ros-jazzy.lock, ros-kilted.lock
# Each lock pins every distribution pip installed into a fresh venv, so installs are reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# `pip freeze` would also list the egg-info metadata that the ROS wheels carry inside them
# (action_msgs, rclpy, ...), which are not installable distributions: keep what pip installed.
freeze() {
  "$1/bin/python" - <<'PY' | LC_ALL=C sort -f
import importlib.metadata as md
skip = {'pip', 'setuptools', 'wheel'}
for dist in md.distributions():
    name = dist.metadata['Name']
    if (dist.read_text('INSTALLER') or '').strip() == 'pip' and name.lower() not in skip:
        print(f'{name}=={dist.version}')
PY
}

"$PY" -m venv "$tmp/py"
if [ "${1:-}" != "--keep-python" ]; then
  "$tmp/py/bin/pip" install -q -r requirements/python.in
  freeze "$tmp/py" > requirements/python.lock
fi

for distro in jazzy kilted; do
  # keep lines for this distro (dropping the marker), drop lines marked for another one
  sed -e "s/ *@ONLY:$distro@//" -e '/@ONLY:/d' -e "s/@DISTRO@/$distro/g" requirements/ros-wheels.in \
    > "$tmp/ros-$distro.in"
  "$PY" -m venv "$tmp/$distro"
  "$tmp/$distro/bin/pip" install -q -c requirements/python.lock -r requirements/python.lock -r "$tmp/ros-$distro.in"
  freeze "$tmp/$distro" > "requirements/ros-$distro.lock"
done
echo "locked: $(wc -l requirements/*.lock | tail -n 1)"
