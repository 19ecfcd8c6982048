#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine, run as root. Quick when everything is there:
# it checks before it installs or builds, and the builds are make-style (just + stamps).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool iproute2 iputils-ping ethtool
  iperf3 tcpdump nats-server openvswitch-common
  openvswitch-switch openvswitch-testcontroller python3-os-ken make g++ python3)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# bpffs: pins live there.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# npm: `npm ci` cannot be used as is: the registry mirror this project builds against lacks
# rust-just's non-Linux optional packages, which npm ci insists on. `npm install` honours the
# lock file for everything it can fetch and is a no-op when node_modules is current.
stamp=node_modules/.bvs-lock-stamp
want=$(sha256sum package.json package-lock.json | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm install --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# BPF object and addon (just skips them when they are up to date).
PATH="$PWD/node_modules/.bin:$PATH" just build-native
