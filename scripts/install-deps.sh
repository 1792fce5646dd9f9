#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of userbpf from Debian 12 packages.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
PKGS=(
  build-essential cmake ninja-build pkg-config
  clang clang-19 llvm-19 lld
  libbpf-dev libelf-dev zlib1g-dev
  libxbyak-dev libzydis-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpcap-dev bpftool
  libclang-rt-19-dev
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
