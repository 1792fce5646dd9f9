/* Map layouts shared by the map benchmarks and the suite, which fills the maps
 * from user space (the same entries into userbpf's maps and the kernel's). */
#ifndef USERBPF_BENCH_FLOWS_H
#define USERBPF_BENCH_FLOWS_H

#include <linux/types.h>

/* Host byte order: the programs convert the header fields. */
struct bench_flow_key {
  __u32 saddr, daddr;
  __u16 sport, dport;
  __u32 proto;
};

struct bench_flow_val {
  __u64 packets, bytes;
};

/* map_hash: the suite inserts BENCH_FLOW_PREFILL flows with the packet's
 * addresses and destination port and source ports sport + 2i (sport: the
 * packet's); the program looks up BENCH_FLOW_PROBES source ports from sport
 * on, so that half of the lookups hit. */
#define BENCH_FLOW_PREFILL 256
#define BENCH_FLOW_PROBES 32

/* map_array: 256 entries, value of entry i = bench_array_value(i). */
#define BENCH_ARRAY_ENTRIES 256
static inline __u32 bench_array_value(__u32 i) { return (i * 2654435761u) >> 7; }

#endif
