#!/bin/bash
# Start (or reuse) litecore's own dockerd on its own socket; prints the DOCKER_HOST URL.
# Idempotent: when the socket already answers, nothing is started.
set -euo pipefail
. "$(dirname "$0")/common.sh"
if ping_sock "$LITECORE_DOCKER_SOCK"; then
  echo "unix://$LITECORE_DOCKER_SOCK"; exit 0
fi
apt_need docker.io runc curl
mkdir -p "$LITECORE_RUN_DIR" "$LITECORE_DOCKER_ROOT" "$LITECORE_ENGINE_LOGS"
pidfile="$LITECORE_RUN_DIR/dockerd.pid"
log="$LITECORE_ENGINE_LOGS/dockerd.log"
# a stale pidfile or socket from a crashed engine must not block a new one
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  wait_sock "$LITECORE_DOCKER_SOCK" 30 dockerd "$log" && { echo "unix://$LITECORE_DOCKER_SOCK"; exit 0; }
  exit 1
fi
rm -f "$pidfile" "$LITECORE_DOCKER_SOCK"
# the daemon runs in its own folder: engines drop files (conmon's "oom") in their cwd
cd "$LITECORE_RUN_DIR"
setsid dockerd --host "unix://$LITECORE_DOCKER_SOCK" \
  --data-root "$LITECORE_DOCKER_ROOT" --exec-root "$LITECORE_RUN_DIR/docker-exec" \
  --pidfile "$pidfile" --log-level warn </dev/null >>"$log" 2>&1 &
wait_sock "$LITECORE_DOCKER_SOCK" 60 dockerd "$log"
echo "unix://$LITECORE_DOCKER_SOCK"
