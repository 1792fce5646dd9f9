# prog_type: xdp
# expect: reject
# Precision tracking across a bpf-to-bpf call: the callee moves its stack
# pointer by its argument, which is 0 on one path into the call and 100 on the other.
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
    r1 = r7
    call move_ptr
    r0 = 0
    exit
move_ptr:
    r2 = r10
    r2 += -64
    r2 += r1
    *(u8 *)(r2 + 0) = 1
    exit
