# prog_type: socket_filter
# expect: reject
# The loop condition depends on a value the body never changes.
    r0 = 0
    r2 = *(u32 *)(r1 + 0)
top:
    r3 = r2
    r3 &= 1
    if r2 != 0 goto top
    exit
