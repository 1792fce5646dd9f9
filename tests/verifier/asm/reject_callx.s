# prog_type: xdp
# expect: reject
# Indirect calls (callx) are not part of the kernel's instruction set.
    r2 = 7
    callx r2
    r0 = 0
    exit
