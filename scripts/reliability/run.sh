#!/usr/bin/env bash
# One figure of docs/reliability.md, reproduced by one command:
#   scripts/reliability/run.sh faults|hostile|bad_input|ray|load
# Runs the suite (slow cases included) and prints its table.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/tmp/venv/bin/python}
suite=${1:?usage: run.sh faults|hostile|bad_input|ray|load}
out=$(mktemp -d /tmp/lc-reliability-XXXX)
export LITECORE_RELIABILITY_OUT=$out
case "$suite" in
  faults|hostile|bad_input)
    "$PY" -m pytest "tests/reliability/test_${suite}.py" -q -p no:randomly -m "slow or not slow" || status=$?
    "$PY" scripts/reliability/summarize.py "$out/${suite}.jsonl"
    exit "${status:-0}" ;;
  ray)
    exec "$PY" -m pytest plugins/litecore-executor-ray -q -m "slow or not slow" ;;
  load)  # BACKEND=docker|podman|local; EXECUTOR=local|ray|both (default both)
    if [ "${EXECUTOR:-both}" != ray ]; then
      "$PY" benchmarks/bench_load.py --backend "${BACKEND:-local}" --concurrency 16 --json "$out/load-local.json"
    fi
    if [ "${EXECUTOR:-both}" != local ]; then
      # a local Ray cluster of two nodes (a head and one worker node, one CPU each)
      RAY="$(dirname "$PY")/ray"; port=$((20000 + RANDOM % 20000)); export RAY_AUTH_MODE=disabled
      trap '"$RAY" stop --force >/dev/null 2>&1 || true' EXIT
      "$RAY" start --head --node-ip-address=127.0.0.1 --port="$port" --num-cpus=1 --include-dashboard=false >/dev/null
      "$RAY" start --address="127.0.0.1:$port" --node-ip-address=127.0.0.1 --num-cpus=1 >/dev/null
      "$PY" benchmarks/bench_load.py --backend "${BACKEND:-local}" --executor ray --ray-address "127.0.0.1:$port" \
        --ray-cpus 2 --concurrency 16 --json "$out/load-ray.json"
    fi ;;
  *) echo "unknown suite: $suite" >&2; exit 2 ;;
esac
