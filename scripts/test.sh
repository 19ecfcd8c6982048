#!/usr/bin/env bash
# Runs each tests/<suite>/ directory in its own uvu process (a leaked handle in one suite then
# cannot hang the others), and prints one closing line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
suites=${SUITES:-$(cd tests && for d in */; do [ "$d" = "helpers/" ] || echo "${d%/}"; done)}
pass=0; fail=0; skip=0; bad=()
for s in $suites; do
  [ -d "tests/$s" ] || continue
  echo "== suite $s"
  log=$(mktemp)
  timeout --kill-after=10 "${SUITE_TIMEOUT:-600}" \
    node --import tsx node_modules/uvu/bin.js "tests/$s" '\.test\.ts$' 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '/^  Passed:/{print $2}' | tail -1)
  t=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '/^  Total:/{print $2}' | tail -1)
  k=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '/^  Skipped:/{print $2}' | tail -1)
  p=${p:-0}; t=${t:-0}; k=${k:-0}
  pass=$((pass + p)); skip=$((skip + k))
  f=$((t - p - k)); [ "$f" -lt 0 ] && f=0
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  fail=$((fail + f))
  [ "$rc" -ne 0 ] && bad+=("$s(rc=$rc)")
  rm -f "$log"
done
[ ${#bad[@]} -gt 0 ] && echo "failed suites: ${bad[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ ${#bad[@]} -eq 0 ]
