// bpf-to-bpf calls and tail calls: at most 8 frames, at most 512 bytes of stack
// over the deepest chain, callee-saved registers kept, argument types checked
// against BTF for global functions, tail calls only through a prog_array.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} jumps SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} plain SEC(".maps");

static __noinline __u32 mix(__u32 a, __u32 b) { return (a * 31) ^ b; }

SEC("xdp")
int accept_static_subprog(struct xdp_md *ctx) {
  return mix(ctx->rx_queue_index, ctx->ingress_ifindex) & 3;
}

// Global functions are verified on their own, from their BTF signature.
__noinline int global_len(struct xdp_md *ctx) {
  return ctx->data_end - ctx->data;
}

SEC("xdp")
int accept_global_func_ctx_arg(struct xdp_md *ctx) {
  return global_len(ctx) > 100 ? XDP_DROP : XDP_PASS;
}

// A global function's scalar argument is unknown inside it, whatever the caller passes.
__noinline int global_index(__u32 i) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&plain, &key);
  if (!v) return 0;
  return ((volatile __u8 *)v)[i];
}

SEC("xdp")
int reject_global_func_unbounded_arg(struct xdp_md *ctx) {
  return global_index(1);
}

// A chain of calls, one frame per level.
#define LEVEL(n, next)                                   \
  static __noinline __u32 level##n(__u32 x) {            \
    volatile __u32 keep = x;                             \
    return next(keep * 3 + n) + 1;                       \
  }
static __noinline __u32 level0(__u32 x) {
  volatile __u32 keep = x;
  return keep;
}
LEVEL(1, level0)
LEVEL(2, level1)
LEVEL(3, level2)
LEVEL(4, level3)
LEVEL(5, level4)
LEVEL(6, level5)
LEVEL(7, level6)
LEVEL(8, level7)

// main + level7..level0 = 9 frames.
SEC("xdp")
int reject_call_chain_9_frames(struct xdp_md *ctx) {
  return level7(ctx->rx_queue_index) & 3;
}

// main + level6..level0 = 8 frames, the most the kernel allows.
SEC("xdp")
int accept_call_chain_8_frames(struct xdp_md *ctx) {
  return level6(ctx->rx_queue_index) & 3;
}

// Assembly callees are separate functions: libbpf only links calls whose
// target is the start of a function symbol.
__used static __noinline __naked void countdown(void) {
  asm volatile("if r1 == 0 goto 1f;"
               "r1 += -1;"
               "call countdown;"
               "1: r0 = 0;"
               "exit;" ::: __clobber_all);
}

// A subprogram that calls itself.  The kernel walks the calls as it walks
// branches, so recursion ends at the frame limit ("the call stack of 8 frames is
// too deep").  (Assembly: clang turns the C version into a loop.)
SEC("xdp")
__naked int reject_recursion(void) {
  asm volatile("r1 = 3;"
               "call countdown;"
               "exit;" ::: __clobber_all);
}

__used static __noinline __naked void return_r6(void) {
  asm volatile("r0 = r6;"
               "exit;" ::: __clobber_all);
}

// The callee reads r6 expecting the caller's value; callee-saved registers
// start out unreadable in the new frame.
SEC("xdp")
__naked int reject_callee_reads_caller_r6(void) {
  asm volatile("r6 = 1;"
               "call return_r6;"
               "exit;" ::: __clobber_all);
}

__used static __noinline __naked void clobber_r6(void) {
  asm volatile("r6 = 0;"
               "r0 = 0;"
               "exit;" ::: __clobber_all);
}

// The caller's r6..r9 survive the call.
SEC("xdp")
__naked int accept_callee_saved_preserved(void) {
  asm volatile("r6 = r1;"
               "call clobber_r6;"
               "r0 = *(u32 *)(r6 + 16);"
               "exit;" ::: __clobber_all);
}

// r1..r5 are clobbered by the call; reading r2 afterwards reads garbage.
SEC("xdp")
__naked int reject_caller_reads_r2_after_call(void) {
  asm volatile("r2 = 1;"
               "call clobber_r6;"
               "r0 = r2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
int accept_tail_call(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &jumps, ctx->rx_queue_index & 3);
  return XDP_PASS;
}

// The map of a tail call must be a prog_array.
SEC("xdp")
int reject_tail_call_wrong_map(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &plain, 0);
  return XDP_PASS;
}

// The first argument must be the context.
SEC("xdp")
__naked int reject_tail_call_not_ctx(void) {
  asm volatile("r1 = r10;"
               "r1 += -8;"
               "r2 = %[jumps] ll;"
               "r3 = 0;"
               "call %[bpf_tail_call];"
               "r0 = 2;"
               "exit;"
               :
               : __imm_addr(jumps), __imm(bpf_tail_call)
               : __clobber_all);
}
