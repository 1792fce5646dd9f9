# prog_type: socket_filter
# expect: reject
# LD_ABS takes the context from r6, which here is a scalar.
    r6 = 0
    r0 = *(u16 *)skb[12]
    exit
