#!/usr/bin/env bash
# Runs every benchmark and prints its table. Each benchmark starts its peer in the same run.
#   bash bench/run.sh            full runs (several minutes; the figures recorded in bench/results)
#   bash bench/run.sh --quick    short runs, as CI does: every benchmark runs end to end, its
#                                figures are indicative only
# Exits non-zero when a benchmark fails to run (benchmarks assert nothing about their figures).
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
failed=()
for b in bench/*/run.ts; do
  name=$(basename "$(dirname "$b")")
  args=()
  if [ $quick = 1 ]; then
    case $name in
      addon) args=(--rounds 3) ;;
      daemon) args=(--seconds 1 --flows 5000 --trials 3 --rates 0) ;;
      datapath) args=(--seconds 1) ;;
      ovsdb) args=(--quick) ;;
      openflow) args=(--flows 1000) ;;
      controller) args=(--quick) ;;
    esac
  fi
  echo "== bench $name ${args[*]:-}"
  if ! timeout 600 node --import tsx "$b" "${args[@]}"; then
    echo "benchmark $name failed"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed benchmarks: ${failed[*]}"
  exit 1
fi
