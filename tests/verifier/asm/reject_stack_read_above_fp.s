# prog_type: xdp
# expect: reject
# r10 points just past the stack: nothing at or above it belongs to the program.
    r0 = *(u64 *)(r10 + 0)
    exit
