#!/usr/bin/env bash
# Run a command in a private network namespace that has only a loopback interface, so no DDS
# discovery or data can leave this machine whatever a process does (belt and braces on top of the
# loopback-only Fast DDS profile). Needs root (or user namespaces); falls back to running the
# command directly, with a notice, where namespaces are not available.
#   scripts/private_net.sh CMD [ARGS...]
set -euo pipefail
if [ "${ROVER_PRIVATE_NET:-1}" = "0" ] || [ -n "${ROVER_IN_PRIVATE_NET:-}" ]; then
  exec "$@"
fi
if unshare --net true >/dev/null 2>&1; then
  export ROVER_IN_PRIVATE_NET=1
  exec unshare --net -- bash -c 'ip link set lo up 2>/dev/null || true; exec "$@"' bash "$@"
fi
echo "note: no private network namespace here (needs root); relying on the loopback-only DDS profile" >&2
exec "$@"
