# prog_type: socket_filter
# expect: accept
# A 32-bit comparison on a zero-extended value bounds a stack index.
    r2 = *(u32 *)(r1 + 0)
    if w2 > 7 goto out
    r3 = r10
    r3 += -8
    r3 += r2
    r4 = 0
    *(u8 *)(r3 + -8) = r4
out:
    r0 = 0
    exit
