# prog_type: socket_filter
# expect: reject
# A division by the constant 0 is refused outright.
    r0 = 1
    r0 /= 0
    exit
