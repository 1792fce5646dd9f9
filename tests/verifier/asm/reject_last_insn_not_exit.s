# prog_type: xdp
# expect: reject
# Execution would fall off the end of the program.
    r0 = 0
    r0 += 1
