// Toeplitz (RSS) hash of the IPv4/TCP 4-tuple.
#include "bench_xdp.h"

// Writable data on purpose (see bk_toeplitz).
__u8 rss_key[40] = BK_RSS_KEY_INIT;

SEC("xdp")
int toeplitz(struct xdp_md *ctx) { return (int)bk_toeplitz(BENCH_PKT_DATA(ctx), BENCH_PKT_END(ctx), rss_key); }

char LICENSE[] SEC("license") = "GPL";
