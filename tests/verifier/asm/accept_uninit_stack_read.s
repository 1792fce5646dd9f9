# prog_type: xdp
# expect: accept
# A privileged loader may read stack bytes it never wrote.
    r0 = *(u64 *)(r10 - 8)
    r0 &= 3
    exit
