// Context access: each program type allows reads of some fields at some sizes and
// writes to fewer; everything else in or beyond the context is refused.  The
// context pointer itself may not be moved before a dereference.
#include "corpus.h"

SEC("xdp")
int reject_xdp_write_data(struct xdp_md *ctx) {
  ctx->data = 0;
  return XDP_PASS;
}

SEC("xdp")
int reject_xdp_write_ingress_ifindex(struct xdp_md *ctx) {
  ctx->ingress_ifindex = 1;
  return XDP_PASS;
}

SEC("xdp")
int accept_xdp_read_all_fields(struct xdp_md *ctx) {
  return (ctx->ingress_ifindex ^ ctx->rx_queue_index) & 3;
}

// egress_ifindex exists only for programs attached to a devmap.
SEC("xdp")
int reject_xdp_read_egress_ifindex(struct xdp_md *ctx) {
  return ctx->egress_ifindex & 3;
}

// Past the end of struct xdp_md.
SEC("xdp")
int reject_xdp_read_past_ctx(struct xdp_md *ctx) {
  return *(volatile __u32 *)((char *)ctx + sizeof(struct xdp_md)) & 3;
}

SEC("tc")
int reject_tc_write_len(struct __sk_buff *skb) {
  skb->len = 0;
  return 0;
}

SEC("tc")
int accept_tc_write_mark_priority_cb(struct __sk_buff *skb) {
  skb->mark = 0x42;
  skb->priority = 7;
  skb->tc_classid = 1;
  for (int i = 0; i < 5; i++) skb->cb[i] = skb->len + i;
  skb->tc_index = 3;
  return 0;
}

SEC("socket")
int reject_socket_write_mark(struct __sk_buff *skb) {
  skb->mark = 1;
  return 0;
}

SEC("socket")
int accept_socket_write_cb(struct __sk_buff *skb) {
  skb->cb[0] = skb->len;
  skb->cb[4] = skb->protocol;
  return skb->cb[0] & 0xffff;
}

// Socket filters see the packet through helpers and ld_abs, not data/data_end.
SEC("socket")
int reject_socket_read_data(struct __sk_buff *skb) {
  return skb->data & 1;
}

SEC("socket")
int accept_socket_read_fields(struct __sk_buff *skb) {
  return (skb->len + skb->protocol + skb->ifindex + skb->hash + skb->vlan_tci) & 0xffff;
}

// A 4-byte field read at an offset that is not its start.
SEC("socket")
int reject_socket_misaligned_field(struct __sk_buff *skb) {
  return *(volatile __u32 *)((char *)skb + 2) & 1;
}

// Narrow loads of the start of a field are allowed for most fields.
SEC("socket")
int accept_socket_narrow_read(struct __sk_buff *skb) {
  return *(volatile __u8 *)&skb->len + *(volatile __u16 *)&skb->protocol;
}

// The sk_skb-only fields (family ... local_port) are not for socket filters.
SEC("socket")
int reject_socket_read_remote_ip4(struct __sk_buff *skb) {
  return skb->remote_ip4 & 1;
}

// The context pointer with a constant added, then dereferenced.
SEC("socket")
__naked int reject_ctx_modified_ptr(void) {
  asm volatile("r1 += 4;"
               "r0 = *(u32 *)(r1 + 0);"
               "exit;" ::: __clobber_all);
}

// A variable offset into the context.
SEC("socket")
__naked int reject_ctx_variable_offset(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r2 &= 4;"
               "r1 += r2;"
               "r0 = *(u32 *)(r1 + 0);"
               "exit;" ::: __clobber_all);
}

SEC("kprobe/do_nanosleep")
int accept_kprobe_read_regs(void *ctx) {
  unsigned long *regs = ctx;
  return (regs[0] + regs[1] + regs[20]) & 1;
}

// struct pt_regs is read-only for kprobes.
SEC("kprobe/do_nanosleep")
int reject_kprobe_write_regs(void *ctx) {
  ((unsigned long *)ctx)[0] = 0;
  return 0;
}

SEC("kprobe/do_nanosleep")
int reject_kprobe_read_past_regs(void *ctx) {
  return ((volatile unsigned long *)ctx)[200] & 1;
}

SEC("tracepoint/syscalls/sys_enter_nanosleep")
int accept_tracepoint_read(void *ctx) {
  return ((volatile unsigned long *)ctx)[2] & 1;
}

SEC("tracepoint/syscalls/sys_enter_nanosleep")
int reject_tracepoint_write(void *ctx) {
  ((volatile unsigned long *)ctx)[2] = 0;
  return 0;
}
