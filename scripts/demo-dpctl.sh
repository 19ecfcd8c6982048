#!/usr/bin/env bash
# bvs datapath-only demo (no daemon): three hosts in network namespaces joined by a bvs datapath. It programs flows with
# `bvs dpctl`, pings between the hosts, shows the datapath and its flows, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/hosts.sh
BVS=./bin/bvs
tag=$(printf '%04x' $((RANDOM)))
DP=demo$tag
export BVS_PIN_DIR=${BVS_PIN_DIR:-/sys/fs/bpf/bvs}

cleanup() {
  set +e
  $BVS dpctl del-dp "$DP" 2>/dev/null
  remove_hosts "$tag" 3
  rmdir "$BVS_PIN_DIR" 2>/dev/null  # the pin root, when this demo made it and nothing else uses it
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

make_hosts "$tag" 3
echo "hosts: bvd-$tag-h1 (10.0.0.1), bvd-$tag-h2 (10.0.0.2), bvd-$tag-h3 (10.0.0.3)"

step $BVS dpctl add-dp "$DP" "bvd${tag}p1" "bvd${tag}p2" "bvd${tag}p3"
# Flood ARP; forward IPv4 by destination MAC (what NORMAL would install, written by hand).
for i in 1 2 3; do
  others=$(for j in 1 2 3; do [ $j = $i ] || printf '%s,' $j; done)
  step $BVS dpctl add-flow "$DP" "in_port($i),eth_type(0x0806)" "${others%,}"
  for j in 1 2 3; do
    [ $j = $i ] && continue
    step $BVS dpctl add-flow "$DP" "in_port($i),eth(dst=02:00:00:00:00:0$j),eth_type(0x0800)" "$j"
  done
done
step ip netns exec "bvd-$tag-h1" ping -c 3 -i 0.2 10.0.0.2
step ip netns exec "bvd-$tag-h3" ping -c 3 -i 0.2 10.0.0.1
step $BVS dpctl show -s "$DP"
step $BVS dpctl dump-flows "$DP"
echo
echo "The daemon was never involved: the pinned program forwarded every packet."
