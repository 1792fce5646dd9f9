#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bundled example.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
set -x
./build/userbpf asm examples/checksum.s -o build/checksum.bin
./build/userbpf disasm build/checksum.bin
./build/userbpf run build/checksum.bin --data examples/ipv4_header.bin --repeat 1000
