# prog_type: xdp
# expect: reject
# Precision tracking: r7 is 0 on one path and 100 on the other, and after the
# join it moves a stack pointer.  The first path marks r7 precise in the state
# kept at the join, so the second path is not pruned there and its store to
# fp+36 is found.
    call 7
    r6 = r0
    r7 = 0
    if r6 > 5 goto big
    r1 = 1
    r1 = 2
    r1 = 3
    r1 = 4
    r1 = 5
    r1 = 6
    r1 = 7
    r1 = 8
    goto join
big:
    r7 = 100
join:
    r1 = 1
    r1 = 2
    r1 = 3
    r1 = 4
    r2 = r10
    r2 += -64
    r2 += r7
    *(u8 *)(r2 + 0) = 1
    r0 = 0
    exit
