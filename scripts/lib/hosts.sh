# Demo hosts, sourced by scripts/demo*.sh: host i is namespace bvd-TAG-hi with eth0 at
# 10.0.0.i/24 and MAC 02:00:00:00:00:0i; its switch port is the veth end bvdTAGpi in the root
# namespace. IPv6 is off on both ends, so flow dumps show only the demo's own traffic.
make_hosts() {  # TAG N
  local tag=$1 n=$2 i ns
  for i in $(seq "$n"); do
    ns=bvd-$tag-h$i
    ip netns add "$ns"
    ip link add "bvd${tag}p$i" type veth peer name "bvd${tag}q$i"
    ip link set "bvd${tag}q$i" netns "$ns"
    ip -n "$ns" link set "bvd${tag}q$i" name eth0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    sysctl -qw "net.ipv6.conf.bvd${tag}p$i.disable_ipv6=1"
    ip -n "$ns" link set eth0 address "02:00:00:00:00:0$i"
    ip -n "$ns" addr add "10.0.0.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip link set "bvd${tag}p$i" up
  done
}

remove_hosts() {  # TAG N
  local tag=$1 n=$2 i
  for i in $(seq "$n"); do
    ip link del "bvd${tag}p$i" 2>/dev/null
    ip netns del "bvd-$tag-h$i" 2>/dev/null
  done
  return 0
}
