# prog_type: socket_filter
# expect: accept
# Division by a register that may be zero is defined (result 0), as is modulo (dst unchanged).
    r0 = *(u32 *)(r1 + 0)
    r2 = 0
    r0 /= r2
    r3 = 7
    r3 %= r2
    w0 /= w2
    r0 += r3
    exit
