# prog_type: xdp
# expect: reject
# No helper has id 100000 (patched in: the assembler refuses the id).
#! patch 0 imm=100000
    call 1
    r0 = 0
    exit
