# prog_type: xdp
# expect: reject
# ... but the result is a scalar, not a pointer.
    r2 = (s32)r1
    r0 = *(u32 *)(r2 + 0)
    exit
