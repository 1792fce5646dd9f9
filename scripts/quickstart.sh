#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bundled example: the XDP firewall
# in examples/xdp_firewall.bpf.c (compiled by the build with clang -target bpf) on a
# UDP packet to port 53, printing the verdict (1 = XDP_DROP) and the map it filled.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
set -x
./build/userbpf prog show build/progs/xdp_firewall.v3.bpf.o
./build/userbpf verify build/progs/xdp_firewall.v3.bpf.o --stats
./build/userbpf run build/progs/xdp_firewall.v3.bpf.o --data examples/dns_packet.bin --repeat 1000 --dump-maps
