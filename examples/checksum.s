# Internet checksum (RFC 1071) of the input buffer: r1 = data, r2 = length.
# Written in llvm-objdump syntax; `userbpf asm` also takes the uBPF syntax.
    r3 = 0                      # running sum
    r4 = r1
    r4 += r2                    # end of data
loop:
    r5 = r1
    r5 += 2
    if r5 > r4 goto tail
    r0 = *(u16 *)(r1 + 0)
    r0 = be16 r0
    r3 += r0
    r1 += 2
    goto loop
tail:
    if r1 >= r4 goto fold
    r0 = *(u8 *)(r1 + 0)
    r0 <<= 8
    r3 += r0
fold:
    r0 = r3
    r0 >>= 16
    r3 &= 65535
    r3 += r0
    r0 = r3
    r0 >>= 16
    r3 += r0
    r3 ^= -1
    r3 &= 65535
    r0 = r3
    exit
