# prog_type: xdp
# expect: reject
# Half of a spilled context pointer overwritten: the filled value is a scalar
# and cannot be dereferenced.
    *(u64 *)(r10 - 8) = r1
    r2 = 0
    *(u32 *)(r10 - 4) = r2
    r1 = *(u64 *)(r10 - 8)
    r0 = *(u32 *)(r1 + 16)
    exit
