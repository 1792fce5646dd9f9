# prog_type: xdp
# expect: accept
# The lowest 8 bytes of the stack.
    r1 = 0
    *(u64 *)(r10 - 512) = r1
    r0 = *(u64 *)(r10 - 512)
    exit
