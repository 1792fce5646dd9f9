# prog_type: xdp
# expect: reject
# The frame pointer is read-only (patched in: the assembler refuses to write r10).
#! patch 0 dst=10
    r9 = 0
    r0 = 0
    exit
