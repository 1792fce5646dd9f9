// RFC 1071 internet checksum over the first 512 bytes of the packet.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(inet_csum)

char LICENSE[] SEC("license") = "GPL";
