#!/usr/bin/env bash
# Runs every benchmark and prints its table. Each benchmark starts its peer in the same run.
set -uo pipefail
cd "$(dirname "$0")/.."
for b in bench/*/run.ts; do
  echo "== $b"
  node --import tsx "$b" "$@" || echo "benchmark $b failed"
done
