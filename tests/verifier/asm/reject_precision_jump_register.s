# prog_type: xdp
# expect: reject
# Precision tracking through "if r8 > r9": the bound r8 gets depends on r9,
# which is 7 on one path and 200 on the other.
    call 7
    r6 = r0
    call 7
    r8 = r0
    r8 &= 255
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
    if r8 > r9 goto out
    r2 = r10
    r2 += -8
    r2 += r8
    *(u8 *)(r2 + 0) = 1
out:
    r0 = 0
    exit
