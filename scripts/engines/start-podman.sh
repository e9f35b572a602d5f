#!/bin/bash
# Start (or reuse) a Podman API service (Docker-compatible) on its own socket and
# storage root; prints the socket URL. Idempotent.
# Here crun fails on cgroup v1 and default ulimits exceed the hard limits, so the
# service runs with its own containers.conf: runc, cgroupfs, file events, ulimits.
set -euo pipefail
. "$(dirname "$0")/common.sh"
if ping_sock "$LITECORE_PODMAN_SOCK"; then
  echo "unix://$LITECORE_PODMAN_SOCK"; exit 0
fi
apt_need podman runc curl catatonit
mkdir -p "$LITECORE_RUN_DIR" "$LITECORE_PODMAN_ROOT" "$LITECORE_ENGINE_LOGS"
pidfile="$LITECORE_RUN_DIR/podman.pid"
log="$LITECORE_ENGINE_LOGS/podman.log"
conf="$LITECORE_PODMAN_ROOT/containers.conf"
nofile="$(ulimit -Hn)"; [ "$nofile" = unlimited ] || [ "$nofile" -ge 4096 ] && nofile=4096
nproc="$(ulimit -Hu)"; [ "$nproc" = unlimited ] || [ "$nproc" -ge 4096 ] && nproc=4096
cat >"$conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  wait_sock "$LITECORE_PODMAN_SOCK" 30 podman "$log" && { echo "unix://$LITECORE_PODMAN_SOCK"; exit 0; }
  exit 1
fi
rm -f "$pidfile" "$LITECORE_PODMAN_SOCK"
# the daemon runs in its own folder: engines drop files (conmon's "oom") in their cwd
cd "$LITECORE_RUN_DIR"
CONTAINERS_CONF="$conf" setsid podman --root "$LITECORE_PODMAN_ROOT/storage" \
  --runroot "$LITECORE_RUN_DIR/podman-run" --tmpdir "$LITECORE_RUN_DIR/podman-tmp" \
  system service --time=0 "unix://$LITECORE_PODMAN_SOCK" </dev/null >>"$log" 2>&1 &
echo $! >"$pidfile"
wait_sock "$LITECORE_PODMAN_SOCK" 60 podman "$log"
echo "unix://$LITECORE_PODMAN_SOCK"
