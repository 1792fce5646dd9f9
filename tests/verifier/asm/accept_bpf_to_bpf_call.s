# prog_type: xdp
# expect: accept
# A subprogram receives r1..r5 and returns in r0; r6..r9 survive the call.
    r6 = 40
    r1 = 2
    call add_one
    r0 += r6
    r0 &= 3
    exit
add_one:
    r0 = r1
    r0 += 1
    exit
