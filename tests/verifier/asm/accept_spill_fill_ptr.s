# prog_type: xdp
# expect: accept
# A pointer spilled whole and filled whole stays a pointer.
    *(u64 *)(r10 - 16) = r1
    r1 = 0
    r1 = *(u64 *)(r10 - 16)
    r0 = *(u32 *)(r1 + 16)
    r0 &= 3
    exit
