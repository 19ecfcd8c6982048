#!/usr/bin/env bash
# bvs demo: the switch daemon with three hosts in network namespaces on one bridge.
#   1. starts `bvs daemon` in a private run dir and pin dir (its own OVSDB and nats-server);
#   2. builds the bridge and its ports with the real ovs-vsctl against DIR/db.sock;
#   3. pings between the hosts (NORMAL switching: MAC learning, megaflows in the eBPF datapath);
#   4. shows the datapath flows (bvs dpctl), the OpenFlow table and MAC table (over NATS) and
#      the trace of one packet;
#   5. drives the bridge with OVS's own tools: ovs-ofctl over RUN/BR.mgmt, then OVS's
#      learning-switch controller (ovs-testcontroller) set with ovs-vsctl set-controller;
#   6. cleans up everything, also on failure or Ctrl-C.
# The datapath-only demo (no daemon, flows written by hand) is scripts/demo-dpctl.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/hosts.sh
BVS=$PWD/bin/bvs
tag=$(printf '%04x' $((RANDOM)))
DIR=$(mktemp -d "/tmp/bvs-demo-$tag.XXXX")
export BVS_RUN_DIR=$DIR/run
export BVS_PIN_DIR=/sys/fs/bpf/bvs-demo-$tag
BR=demo$tag
VSCTL=(ovs-vsctl "--db=unix:$BVS_RUN_DIR/db.sock" --timeout=20)
daemon_pid=
ctl_pid=

cleanup() {
  set +e
  [ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    "${VSCTL[@]}" --if-exists del-br "$BR" >/dev/null 2>&1
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null
  fi
  [ -d "$BVS_PIN_DIR/$BR" ] && $BVS dpctl del-dp "$BR" 2>/dev/null
  ip link del "$BR" 2>/dev/null
  rmdir "$BVS_PIN_DIR" 2>/dev/null
  remove_hosts "$tag" 3
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

for cmd in ovs-vsctl nats-server ping; do
  command -v "$cmd" >/dev/null || { echo "demo: $cmd is not installed (see README: requirements)" >&2; exit 1; }
done

echo "starting: bvs daemon --run-dir $BVS_RUN_DIR --db $DIR/conf.db --pin-dir $BVS_PIN_DIR"
$BVS daemon --db "$DIR/conf.db" --log-level warn 2>"$DIR/daemon.log" &
daemon_pid=$!
for _ in $(seq 200); do
  "${VSCTL[@]}" --timeout=1 show >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { echo "demo: the daemon exited:"; cat "$DIR/daemon.log"; exit 1; }
  sleep 0.1
done

make_hosts "$tag" 3
echo "hosts: bvd-$tag-h1 (10.0.0.1), bvd-$tag-h2 (10.0.0.2), bvd-$tag-h3 (10.0.0.3)"

step "${VSCTL[@]}" add-br "$BR"
for i in 1 2 3; do step "${VSCTL[@]}" add-port "$BR" "bvd${tag}p$i"; done
step "${VSCTL[@]}" show
step ip netns exec "bvd-$tag-h1" ping -c 3 -i 0.2 10.0.0.2
step ip netns exec "bvd-$tag-h3" ping -c 3 -i 0.2 10.0.0.1
step $BVS dpctl dump-flows "$BR"
step $BVS ofctl dump-flows "$BR"
step $BVS appctl fdb/show "$BR"
step $BVS appctl ofproto/trace "$BR" "in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2"
echo
echo "The first packet of each flow went to the daemon (upcall), which learned the MACs, installed"
echo "a megaflow in the eBPF datapath and sent the packet on; the rest never left the kernel."

echo
echo "The same bridge through OVS's tools: ovs-ofctl finds it at \$OVS_RUNDIR/$BR.mgmt."
export OVS_RUNDIR=$BVS_RUN_DIR
step ovs-ofctl -O OpenFlow13 add-flow "$BR" "priority=100,icmp,nw_dst=10.0.0.3,actions=drop"
step ovs-ofctl -O OpenFlow13 dump-flows "$BR"
ovs-testcontroller --unixctl="$DIR/tc.ctl" -O OpenFlow13 "punix:$DIR/controller.sock" >"$DIR/tc.log" 2>&1 &
ctl_pid=$!
for _ in $(seq 50); do [ -S "$DIR/controller.sock" ] && break; sleep 0.1; done
step "${VSCTL[@]}" set-controller "$BR" "unix:$DIR/controller.sock"
for _ in $(seq 100); do
  [ "$("${VSCTL[@]}" --bare --columns=is_connected list Controller)" = true ] && break; sleep 0.1
done
step "${VSCTL[@]}" --columns=target,is_connected,role,status list Controller
step ip netns exec "bvd-$tag-h1" ping -c 3 -i 0.2 10.0.0.2
step ovs-ofctl -O OpenFlow13 dump-flows "$BR"
echo
echo "Setting a controller flushed the tables (as OVS does); ovs-testcontroller put in its"
echo "table-miss flow, learned from packet-ins, answered with packet-outs and installed flows."
