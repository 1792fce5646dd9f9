# prog_type: xdp
# expect: reject
# One byte below the 512-byte stack.
    r1 = 0
    *(u8 *)(r10 - 513) = r1
    r0 = 0
    exit
