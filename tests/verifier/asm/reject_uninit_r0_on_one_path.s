# prog_type: socket_filter
# expect: reject
# r0 is set on one branch only; the other reaches exit without it.
    r2 = *(u32 *)(r1 + 0)
    if r2 > 100 goto +1
    r0 = 1
    exit
