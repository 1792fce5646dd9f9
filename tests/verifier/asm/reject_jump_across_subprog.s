# prog_type: xdp
# expect: reject
# Ordinary jumps stay inside their function; this one goes from the main
# program into the subprogram that starts at slot 4.
    r0 = 0
    if r1 == 0 goto sub_body
    call sub
    exit
sub:
    r0 = 1
sub_body:
    exit
