// Ethernet / IPv4 (checksum verified) / TCP with a walk of the TCP options.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(parse_tcp)

char LICENSE[] SEC("license") = "GPL";
