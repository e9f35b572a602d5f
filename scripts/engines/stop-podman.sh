#!/bin/bash
# Stop litecore's Podman API service (started by start-podman.sh); storage is kept for reuse.
set -euo pipefail
. "$(dirname "$0")/common.sh"
stop_pidfile "$LITECORE_RUN_DIR/podman.pid" "podman service"
rm -f "$LITECORE_PODMAN_SOCK"
