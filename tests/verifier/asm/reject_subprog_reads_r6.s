# prog_type: xdp
# expect: reject
# A new frame starts with r6..r9 unreadable.
    r6 = 40
    call sub
    exit
sub:
    r0 = r6
    exit
