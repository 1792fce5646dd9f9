# prog_type: socket_filter
# expect: accept
# cpu v4: signed division, sign-extending moves and loads, 32-bit-offset goto.
    r0 = *(u32 *)(r1 + 0)
    r2 = -3
    r0 s/= r2
    r0 s%= r2
    r3 = (s8)r0
    r4 = (s16)r3
    w5 = (s8)w4
    *(u64 *)(r10 - 8) = r0
    r6 = *(s8 *)(r10 - 8)
    if r6 == 0 goto other
    gotol skip
other:
    r0 = 9
skip:
    r0 = bswap16 r0
    exit
