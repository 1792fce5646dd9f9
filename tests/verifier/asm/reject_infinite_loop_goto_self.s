# prog_type: xdp
# expect: reject
# A back edge to itself: the state never changes.  (A goto is a valid last
# instruction, so nothing follows it.)
    r0 = 0
spin:
    goto spin
