# prog_type: xdp
# expect: reject
# Precision tracking and linked scalars: on the first path r8 is a copy of r7,
# so "if r7 > 7" bounds r8 too; on the second r8 has the same range but is not
# linked, so the check leaves it up to 15 and the store reaches fp+7.
    call 7
    r6 = r0
    call 7
    r9 = r0
    if r6 > 5 goto b
    r7 = r9
    r7 &= 15
    r8 = r7
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
    r7 = r9
    r7 &= 15
    r8 = r6
    r8 &= 15
join:
    r1 = 1
    r1 = 2
    r1 = 3
    r1 = 4
    if r7 > 7 goto out
    r2 = r10
    r2 += -8
    r2 += r8
    *(u8 *)(r2 + 0) = 1
out:
    r0 = 0
    exit
