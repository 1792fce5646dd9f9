# prog_type: xdp
# expect: reject
# exit returns r0, which was never written.
    r1 = 0
    exit
