# prog_type: xdp
# expect: reject
# A jump may not land on the second slot of a 16-byte lddw.  The assembler
# refuses to write that jump, so a patch sets the offset afterwards.
#! patch 1 off=1
    r0 = 0
    if r1 == 0 goto +0      # patched: +1 lands on slot 3, the lddw's second half
    r2 = 0x1122334455667788 ll
    exit
