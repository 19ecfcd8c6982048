# The pipeline: build-bpf -> build-addon -> typecheck -> test. npm scripts delegate here.
export PATH := justfile_directory() + "/node_modules/.bin:" + env_var('PATH')

default: build

# Compile bpf/*.bpf.c into bpf/.output/*.bpf.o (make skips it when up to date).
build-bpf:
    make -s -C bpf

# Build the node addon (skipped when the .node file is newer than its sources).
build-addon:
    #!/usr/bin/env bash
    set -euo pipefail
    out=addon/build/Release/bvs_addon.node
    if [ -f "$out" ] && [ -z "$(find addon/src addon/binding.gyp bpf/include -newer "$out" 2>/dev/null | head -1)" ]; then exit 0; fi
    node-gyp rebuild --directory=addon --nodedir=/usr --silent

build-native: build-bpf build-addon

typecheck:
    tsc -p . --noEmit

build: build-native typecheck

# All test suites; each runs in its own process. Set SUITES="datapath ofproto" to choose.
test: build
    bash scripts/test.sh

bench: build-native
    bash bench/run.sh

demo: build-native
    bash scripts/demo.sh

lint:
    tsc -p . --noEmit
