# prog_type: socket_filter
# expect: accept
# Legacy packet loads: r6 holds the context, r0 gets the (host-order) value.
    r6 = r1
    r0 = *(u16 *)skb[12]
    r7 = 14
    r0 = *(u8 *)skb[r7 + 9]
    exit
