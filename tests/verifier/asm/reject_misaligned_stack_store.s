# prog_type: xdp
# expect: reject
# Stack accesses must be aligned to their size, whatever the loader's privileges.
    r1 = 0
    *(u64 *)(r10 - 12) = r1
    r0 = 0
    exit
