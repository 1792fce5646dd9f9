// Nested loops: an 8x8 by 8x8 matrix product of packet bytes.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(matrix)

char LICENSE[] SEC("license") = "GPL";
