# prog_type: xdp
# expect: reject
# Legacy packet loads exist only for socket_filter and tc programs.
    r6 = r1
    r0 = *(u16 *)skb[12]
    exit
