# prog_type: xdp
# expect: reject
# 32-bit arithmetic on a pointer.
    r2 = r10
    w2 += -8
    r0 = 0
    exit
