// cpu v4 instructions from C: sign-extending loads and moves, signed division and
// modulo, byte swaps, and 32-bit atomics.  Under -mcpu=v3 the same source
// compiles to the older sequences (shifts, be64, unsigned division helpers).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct results {
  __s64 quot;
  __s64 rem;
  __u64 swapped;
  __s64 widened;
  __s32 narrow;
  __u32 old_count;
  __u64 old_owner;
  __u32 old_state;
  __u32 old_mask;
};

struct results out = {};
__u32 counter = 0;
__u32 flags = 0;
__u64 owner = 0;
__u32 state = 0;

static __always_inline __s64 sdiv(__s64 a, __s64 b) {
#ifdef __BPF_FEATURE_SDIV_SMOD
  return a / b;
#else
  __u64 ua = a < 0 ? -(__u64)a : (__u64)a, ub = b < 0 ? -(__u64)b : (__u64)b;
  __u64 q = ua / ub;
  return (a < 0) != (b < 0) ? -(__s64)q : (__s64)q;
#endif
}

static __always_inline __s64 smod(__s64 a, __s64 b) {
#ifdef __BPF_FEATURE_SDIV_SMOD
  return a % b;
#else
  return a - sdiv(a, b) * b;
#endif
}

SEC("xdp")
int xdp_v4_ops(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + 16 > data_end) return XDP_PASS;

  __s8 a = *(volatile __s8 *)data;          /* ldxsb */
  __s16 b = *(volatile __s16 *)(data + 2);  /* ldxsh */
  __s32 c = *(volatile __s32 *)(data + 4);  /* ldxsw */
  __u64 raw = *(volatile __u64 *)(data + 8);

  __s64 divisor = b ? b : 7;
  out.quot = sdiv((__s64)c, divisor);
  out.rem = smod((__s64)c, divisor);
  out.swapped = __builtin_bswap64(raw);
  out.widened = (__s64)(__s32)(raw >> 16); /* movsx 32 -> 64 */
  out.narrow = (__s32)(__s16)(c * a);       /* movsx 16 -> 32 */

  out.old_count = __sync_fetch_and_add(&counter, 1);
  __sync_fetch_and_or(&flags, 1u << (a & 7));
  out.old_mask = __sync_fetch_and_xor(&flags, 0x100);
  __sync_fetch_and_and(&flags, 0xffff);
  out.old_owner = __sync_lock_test_and_set(&owner, raw);       /* xchg 64 */
  out.old_state = __sync_val_compare_and_swap(&state, 0, 1); /* cmpxchg 32 */
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
