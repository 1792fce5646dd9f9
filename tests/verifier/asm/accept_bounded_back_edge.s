# prog_type: xdp
# expect: accept
# A counted loop: each iteration is a new state until the counter reaches 100.
    r0 = 0
    r2 = 0
loop:
    r0 += r2
    r2 += 1
    if r2 < 100 goto loop
    r0 &= 3
    exit
