// Jenkins lookup3 (the kernel's jhash) over 480 bytes of the packet.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(jhash)

char LICENSE[] SEC("license") = "GPL";
