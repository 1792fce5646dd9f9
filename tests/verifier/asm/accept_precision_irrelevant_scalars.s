# prog_type: xdp
# expect: accept
# Precision tracking: 22 independent coin flips each set a bit of r6, which
# nothing ever checks.  Without precision tracking the 4 million paths exceed
# the 1,000,000-instruction budget; with it the states at the joins match.
    r6 = 0
    call 7
    if r0 > 1000 goto l0
    r6 |= 1
l0:
    call 7
    if r0 > 1000 goto l1
    r6 |= 2
l1:
    call 7
    if r0 > 1000 goto l2
    r6 |= 4
l2:
    call 7
    if r0 > 1000 goto l3
    r6 |= 8
l3:
    call 7
    if r0 > 1000 goto l4
    r6 |= 16
l4:
    call 7
    if r0 > 1000 goto l5
    r6 |= 32
l5:
    call 7
    if r0 > 1000 goto l6
    r6 |= 64
l6:
    call 7
    if r0 > 1000 goto l7
    r6 |= 128
l7:
    call 7
    if r0 > 1000 goto l8
    r6 |= 256
l8:
    call 7
    if r0 > 1000 goto l9
    r6 |= 512
l9:
    call 7
    if r0 > 1000 goto l10
    r6 |= 1024
l10:
    call 7
    if r0 > 1000 goto l11
    r6 |= 2048
l11:
    call 7
    if r0 > 1000 goto l12
    r6 |= 4096
l12:
    call 7
    if r0 > 1000 goto l13
    r6 |= 8192
l13:
    call 7
    if r0 > 1000 goto l14
    r6 |= 16384
l14:
    call 7
    if r0 > 1000 goto l15
    r6 |= 32768
l15:
    call 7
    if r0 > 1000 goto l16
    r6 |= 65536
l16:
    call 7
    if r0 > 1000 goto l17
    r6 |= 131072
l17:
    call 7
    if r0 > 1000 goto l18
    r6 |= 262144
l18:
    call 7
    if r0 > 1000 goto l19
    r6 |= 524288
l19:
    call 7
    if r0 > 1000 goto l20
    r6 |= 1048576
l20:
    call 7
    if r0 > 1000 goto l21
    r6 |= 2097152
l21:
    r0 = r6
    exit
