// Full TCP checksum: verify, set PSH, recompute into the packet.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(tcp_csum)

char LICENSE[] SEC("license") = "GPL";
