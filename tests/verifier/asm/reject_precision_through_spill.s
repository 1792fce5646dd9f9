# prog_type: xdp
# expect: reject
# Precision tracking through the stack: after the join the number that moves
# the pointer is spilled, the register overwritten, and the number filled back.
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
    *(u64 *)(r10 - 8) = r7
    r7 = 0
    r3 = *(u64 *)(r10 - 8)
    r2 = r10
    r2 += -64
    r2 += r3
    *(u8 *)(r2 + 0) = 1
    r0 = 0
    exit
