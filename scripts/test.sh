#!/usr/bin/env bash
# Installs what is missing, builds with -Werror, runs the whole test suite, then the
# same tests under ASan+UBSan and a short libFuzzer run.  Exit code is non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

echo "== release build and tests"
cmake -S . -B build -G Ninja -DUSERBPF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$JOBS"
ctest --test-dir build -j "$JOBS" --output-on-failure --timeout 600

echo "== ASan+UBSan build and tests"
cmake -S . -B build-asan -G Ninja -DUSERBPF_WERROR=ON -DUSERBPF_SANITIZE=ON -DUSERBPF_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j "$JOBS" --output-on-failure --timeout 900

echo "== libFuzzer (${FUZZ_SECONDS}s per target)"
CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DUSERBPF_FUZZ=ON -DUSERBPF_TESTS=OFF \
  -DUSERBPF_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$JOBS"
for target in build-fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  mkdir -p "build-fuzz/corpus-$(basename "$target")"
  "$target" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=4096 -timeout=10 \
    "build-fuzz/corpus-$(basename "$target")" 2>&1 | tail -n 3
done
echo "== all tests passed"
