// Bitwise CRC-32 (IEEE, reflected) over 64 bytes of the packet.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(crc32)

char LICENSE[] SEC("license") = "GPL";
