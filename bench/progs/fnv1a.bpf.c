// FNV-1a (32-bit) over the first 512 bytes of the packet.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(fnv1a)

char LICENSE[] SEC("license") = "GPL";
