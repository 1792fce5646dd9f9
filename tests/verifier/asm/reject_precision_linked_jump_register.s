# prog_type: xdp
# expect: reject
# Precision tracking and linked scalars: "if r8 > r9" also bounds r7 (r8 is a
# copy of it), so r9 decides r7's bound.  r9 is 7 on one path and 200 on the other.
    call 7
    r6 = r0
    call 7
    r7 = r0
    r7 &= 255
    if r6 > 5 goto b
    r9 = 7
    r1 = 1
    r1 = 2
    r1 = 3
    r1 = 4
    r1 = 5
    r1 = 6
    r1 = 7
    r1 = 8
    goto join
b:
    r9 = 200
join:
    r1 = 1
    r1 = 2
    r1 = 3
    r1 = 4
    r8 = r7
    if r8 > r9 goto out
    r2 = r10
    r2 += -8
    r2 += r7
    *(u8 *)(r2 + 0) = 1
out:
    r0 = 0
    exit
