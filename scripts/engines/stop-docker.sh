#!/bin/bash
# Stop litecore's dockerd (started by start-docker.sh); its data root is kept for reuse.
set -euo pipefail
. "$(dirname "$0")/common.sh"
stop_pidfile "$LITECORE_RUN_DIR/dockerd.pid" dockerd
rm -f "$LITECORE_DOCKER_SOCK"
