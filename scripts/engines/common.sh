# Shared settings of litecore's engine scripts (sourced, not run).
# Every path can be overridden from the environment, so CI and tests can keep
# engine state where they like; the defaults keep data roots across reruns so
# built base images and task images are reused.
LITECORE_RUN_DIR="${LITECORE_RUN_DIR:-/run/litecore}"
LITECORE_DOCKER_SOCK="${LITECORE_DOCKER_SOCK:-$LITECORE_RUN_DIR/dockerd.sock}"
LITECORE_DOCKER_ROOT="${LITECORE_DOCKER_ROOT:-/var/lib/litecore-docker}"
LITECORE_PODMAN_SOCK="${LITECORE_PODMAN_SOCK:-$LITECORE_RUN_DIR/podman.sock}"
LITECORE_PODMAN_ROOT="${LITECORE_PODMAN_ROOT:-/var/lib/litecore-podman}"
LITECORE_ENGINE_LOGS="${LITECORE_ENGINE_LOGS:-/var/log/litecore}"

# apt_need PKG... : install the Debian packages whose commands are missing.
apt_need() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "litecore: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2
  fi
}

# ping_sock SOCK: true when an engine answers the Docker API on SOCK.
ping_sock() {
  [ -S "$1" ] && curl -fsS --max-time 2 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1
}

# wait_sock SOCK SECONDS WHAT LOG
wait_sock() {
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    ping_sock "$1" && return 0
    sleep 0.1
  done
  echo "litecore: $3 did not answer on $1 within $2 s; see $4" >&2
  tail -n 20 "$4" >&2 || true
  return 1
}

# stop_pidfile PIDFILE WHAT: stop the process recorded in PIDFILE (TERM, then KILL).
stop_pidfile() {
  local pid
  [ -f "$1" ] || { echo "litecore: $2 is not running (no $1)" >&2; return 0; }
  pid="$(cat "$1")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$1"
  echo "litecore: $2 stopped" >&2
}
