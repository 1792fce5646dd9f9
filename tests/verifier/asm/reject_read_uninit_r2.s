# prog_type: socket_filter
# expect: reject
# At entry only r1 (context) and r10 (frame pointer) are readable.
    r0 = r2
    exit
