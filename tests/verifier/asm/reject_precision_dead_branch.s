# prog_type: xdp
# expect: reject
# Precision tracking: on the first path "if r7 == 0" is always taken, which
# depends on r7's exact value; the second path (r7 = 100) must not be pruned
# at the join and reaches the store above the frame.
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
    if r7 == 0 goto ok
    *(u8 *)(r10 + 8) = 1
ok:
    r0 = 0
    exit
