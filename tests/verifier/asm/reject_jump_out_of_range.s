# prog_type: xdp
# expect: reject
# A jump past the last instruction (patched in: the assembler refuses it).
#! patch 1 off=5
    r0 = 0
    if r1 == 0 goto +0
    exit
