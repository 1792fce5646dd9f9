// MurmurHash3 x86_32 over the first 512 bytes of the packet.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(murmur3)

char LICENSE[] SEC("license") = "GPL";
