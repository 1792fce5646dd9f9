// Global variables live in single-entry array maps (.data, .bss, .rodata):
// accesses are map value accesses, and .rodata is read-only for the program.
#include "corpus.h"

__u64 packets = 0;                  // .bss
__u32 table[16] = {1, 2, 3};        // .data
const volatile __u32 threshold = 100;  // .rodata
const char banner[] = "corpus";     // .rodata

SEC("xdp")
int accept_global_bss_counter(struct xdp_md *ctx) {
  packets++;
  return packets > 1000 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int accept_global_rodata_read(struct xdp_md *ctx) {
  return ctx->rx_queue_index > threshold ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int reject_global_rodata_write(struct xdp_md *ctx) {
  *(volatile __u32 *)&threshold = 5;
  return XDP_PASS;
}

SEC("xdp")
int accept_global_array_masked(struct xdp_md *ctx) {
  table[ctx->rx_queue_index & 15] += 1;
  return XDP_PASS;
}

SEC("xdp")
int reject_global_array_unbounded(struct xdp_md *ctx) {
  table[ctx->rx_queue_index] += 1;
  return XDP_PASS;
}

// Index 16 of a 16-entry array: the .data map value ends there.
SEC("xdp")
int reject_global_array_one_past(struct xdp_md *ctx) {
  return *(volatile __u32 *)((char *)table + sizeof(table)) & 3;
}

SEC("xdp")
int accept_global_string_read(struct xdp_md *ctx) {
  return banner[ctx->rx_queue_index & 3] == 'c' ? XDP_DROP : XDP_PASS;
}

// A read-only string can be passed to helpers as read-only memory.
SEC("xdp")
int accept_global_rodata_as_helper_arg(struct xdp_md *ctx) {
  bpf_trace_printk(banner, sizeof(banner));
  return XDP_PASS;
}

// ... but not as memory a helper writes into.
SEC("kprobe/do_nanosleep")
int reject_rodata_as_helper_output(void *ctx) {
  bpf_get_current_comm((void *)banner, sizeof(banner));
  return 0;
}
