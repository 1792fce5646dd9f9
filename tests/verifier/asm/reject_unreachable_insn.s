# prog_type: xdp
# expect: reject
# Slots 2 and 3 can never run; the kernel refuses dead code.
    r0 = 0
    exit
    r0 = 1
    exit
