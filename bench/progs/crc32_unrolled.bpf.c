// Bitwise CRC-32 over 128 bytes, fully unrolled: ~5,000 instructions of straight-line code.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(crc32_unrolled)

char LICENSE[] SEC("license") = "GPL";
