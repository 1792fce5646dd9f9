# prog_type: xdp
# expect: reject
# A spilled pointer may only be filled back whole: a 4-byte load of it is refused.
    *(u64 *)(r10 - 8) = r1
    r0 = *(u32 *)(r10 - 8)
    exit
