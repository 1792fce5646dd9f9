// A tiny register machine with switch dispatch running a hashing loop from .rodata.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(bytecode_vm)

char LICENSE[] SEC("license") = "GPL";
