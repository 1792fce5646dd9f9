// The checked interpreter, run side: a computed-goto loop over the pre-decoded
// program.  Semantics follow RFC 9669 and the Linux kernel's interpreter; every
// memory access is bounds-checked against the live stack and the context's regions.
#include <bit>
#include <cstring>

#include "vm/interpreter_internal.h"

namespace userbpf::vm::interp {
namespace {

static_assert(std::endian::native == std::endian::little, "le/be semantics below assume a little-endian host");

// Aliasing-safe views for atomics on byte buffers (the stack, map storage).
typedef uint32_t __attribute__((may_alias)) u32a;
typedef uint64_t __attribute__((may_alias)) u64a;

constexpr uint64_t kFrame = isa::kStackSize;

// Regions are re-read on every call: helpers may add regions (map values) mid-run.
inline bool in_regions(const ExecContext& ctx, uint64_t addr, uint64_t size, bool write) {
  for (const Region& r : ctx.regions)
    if (r.size >= size && addr - r.start <= r.size - size && (r.writable || !write)) return true;
  return false;
}

// Legacy packet load: big-endian, kernel-style offset (int32), false when out of bounds.
inline bool load_packet(const ExecContext& ctx, int32_t off, uint32_t size, uint64_t& out) {
  const std::span<const uint8_t> pkt = ctx.legacy_packet;
  if (off < 0 || static_cast<uint64_t>(off) + size > pkt.size()) return false;
  uint64_t v = 0;
  for (uint32_t i = 0; i < size; ++i) v = (v << 8) | pkt[static_cast<size_t>(off) + i];
  out = v;
  return true;
}

struct Frame {
  uint64_t saved[4];  // r6..r9 of the caller
  const DInsn* ret;
};

}  // namespace

Result<uint64_t> execute(const Program& p, ExecContext& ctx, const Entry& entry) {
  // Order must match isa::Op, then the pseudo ops of interpreter_internal.h.
  static const void* const kLabels[] = {
#define USERBPF_X(name) &&L_##name,
      USERBPF_OPS(USERBPF_X)
#undef USERBPF_X
      &&L_FALL_OFF, &&L_LDDW_HI,
  };
  static_assert(sizeof(kLabels) / sizeof(kLabels[0]) == kNumDispatchOps);

  alignas(64) uint8_t stack[isa::kMaxCallDepth * kFrame];
  Frame frames[isa::kMaxCallDepth];
  const int base_depth = entry.depth;
  int depth = base_depth;
  uint64_t r[isa::kNumRegs] = {};
  const uintptr_t top = reinterpret_cast<uintptr_t>(stack) + sizeof stack;
  // Live stack = [stk_lo, stk_lo + stk_span); frames are zeroed on entry so runs are deterministic.
  uintptr_t stk_lo = top - kFrame;
  uint64_t stk_span = kFrame;
  std::memset(stack + sizeof stack - kFrame, 0, kFrame);
  for (int i = 0; i < 5; ++i) r[i + 1] = entry.args[i];
  r[isa::kFramePointer] = top;
  ctx.stack_lo = stk_lo;
  ctx.stack_hi = top;
  ctx.stop = false;
  ctx.stop_error.reset();

  const DInsn* const base = p.code.data();
  const DInsn* ip = base + entry.pc;
  uint64_t n = entry.executed;  // instructions started; checked against the budget on taken jumps and calls
  const uint64_t budget = ctx.insn_budget;
  Fault fault;

#define DISPATCH \
  do {           \
    ++n;         \
    goto* kLabels[ip->op]; \
  } while (0)
#define NEXT \
  do {       \
    ++ip;    \
    DISPATCH; \
  } while (0)
#define D r[ip->dst]
#define S r[ip->src]
#define IMM ip->imm
#define FAIL(k)        \
  do {                 \
    fault.kind = (k);  \
    goto fail;         \
  } while (0)
#define JUMP                                              \
  do {                                                    \
    if (__builtin_expect(n > budget, 0)) FAIL(FaultKind::Budget); \
    ip = base + ip->off;                                  \
    DISPATCH;                                             \
  } while (0)
  // Stack first (one compare thanks to unsigned wrap-around), then the regions.
#define CHECK(a, sz, wr)                                                                         \
  do {                                                                                           \
    if (__builtin_expect((a) - stk_lo > stk_span - (sz), 0) && !in_regions(ctx, (a), (sz), (wr))) { \
      fault.addr = (a);                                                                          \
      fault.size = (sz);                                                                         \
      fault.write = (wr);                                                                        \
      FAIL(FaultKind::Memory);                                                                   \
    }                                                                                            \
  } while (0)

  DISPATCH;

  // ---- ALU ------------------------------------------------------------------------
#define BIN64(NAME, OP)            \
  L_##NAME##64_IMM : D = D OP IMM; \
  NEXT;                            \
  L_##NAME##64_REG : D = D OP S;   \
  NEXT;
#define BIN32(NAME, OP)                                                    \
  L_##NAME##32_IMM : D = static_cast<uint32_t>(static_cast<uint32_t>(D) OP static_cast<uint32_t>(IMM)); \
  NEXT;                                                                    \
  L_##NAME##32_REG : D = static_cast<uint32_t>(static_cast<uint32_t>(D) OP static_cast<uint32_t>(S));   \
  NEXT;
  BIN64(ADD, +) BIN64(SUB, -) BIN64(MUL, *) BIN64(OR, |) BIN64(AND, &) BIN64(XOR, ^)
  BIN32(ADD, +) BIN32(SUB, -) BIN32(MUL, *) BIN32(OR, |) BIN32(AND, &) BIN32(XOR, ^)
#undef BIN64
#undef BIN32

  // Shift amounts are masked to the operand width, as the kernel does.
#define SHIFTS(W, T, ST, MASK)                                                                        \
  L_LSH##W##_IMM : D = static_cast<T>(static_cast<T>(D) << (IMM & MASK));                            \
  NEXT;                                                                                               \
  L_LSH##W##_REG : D = static_cast<T>(static_cast<T>(D) << (S & MASK));                              \
  NEXT;                                                                                               \
  L_RSH##W##_IMM : D = static_cast<T>(static_cast<T>(D) >> (IMM & MASK));                            \
  NEXT;                                                                                               \
  L_RSH##W##_REG : D = static_cast<T>(static_cast<T>(D) >> (S & MASK));                              \
  NEXT;                                                                                               \
  L_ARSH##W##_IMM : D = static_cast<T>(static_cast<ST>(static_cast<T>(D)) >> (IMM & MASK));         \
  NEXT;                                                                                               \
  L_ARSH##W##_REG : D = static_cast<T>(static_cast<ST>(static_cast<T>(D)) >> (S & MASK));           \
  NEXT;
  SHIFTS(64, uint64_t, int64_t, 63)
  SHIFTS(32, uint32_t, int32_t, 31)
#undef SHIFTS

  // Division by zero: quotient 0, remainder = dividend (truncated to 32 bits for ALU32).
  // Signed: INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0 (negate instead of dividing).
#define DIVMOD(W, T, ST, SRCV, SFX)                                                       \
  L_DIV##W##_##SFX : {                                                                   \
    const T s = static_cast<T>(SRCV);                                                    \
    D = s ? static_cast<T>(static_cast<T>(D) / s) : 0;                                   \
    NEXT;                                                                                \
  }                                                                                      \
  L_MOD##W##_##SFX : {                                                                   \
    const T s = static_cast<T>(SRCV);                                                    \
    D = s ? static_cast<T>(static_cast<T>(D) % s) : static_cast<T>(D);                   \
    NEXT;                                                                                \
  }                                                                                      \
  L_SDIV##W##_##SFX : {                                                                  \
    const ST s = static_cast<ST>(static_cast<T>(SRCV));                                  \
    const T d = static_cast<T>(D);                                                       \
    D = s == 0 ? 0 : s == -1 ? static_cast<T>(T{0} - d) : static_cast<T>(static_cast<ST>(d) / s); \
    NEXT;                                                                                \
  }                                                                                      \
  L_SMOD##W##_##SFX : {                                                                  \
    const ST s = static_cast<ST>(static_cast<T>(SRCV));                                  \
    const T d = static_cast<T>(D);                                                       \
    D = s == 0 ? d : s == -1 ? 0 : static_cast<T>(static_cast<ST>(d) % s);               \
    NEXT;                                                                                \
  }
  DIVMOD(64, uint64_t, int64_t, IMM, IMM)
  DIVMOD(64, uint64_t, int64_t, S, REG)
  DIVMOD(32, uint32_t, int32_t, IMM, IMM)
  DIVMOD(32, uint32_t, int32_t, S, REG)
#undef DIVMOD

L_NEG64:
  D = 0 - D;
  NEXT;
L_NEG32:
  D = static_cast<uint32_t>(0u - static_cast<uint32_t>(D));
  NEXT;
L_MOV64_IMM:
  D = IMM;
  NEXT;
L_MOV64_REG:
  D = S;
  NEXT;
L_MOV32_IMM:
  D = static_cast<uint32_t>(IMM);
  NEXT;
L_MOV32_REG:
  D = static_cast<uint32_t>(S);
  NEXT;
L_MOVSX8_64:
  D = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(S)));
  NEXT;
L_MOVSX16_64:
  D = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(S)));
  NEXT;
L_MOVSX32_64:
  D = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(S)));
  NEXT;
L_MOVSX8_32:
  D = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(S)));
  NEXT;
L_MOVSX16_32:
  D = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int16_t>(S)));
  NEXT;

  // ---- byte order (host is little-endian: le truncates, be swaps) ------------------
L_LE16:
  D = static_cast<uint16_t>(D);
  NEXT;
L_LE32:
  D = static_cast<uint32_t>(D);
  NEXT;
L_LE64:
  NEXT;
L_BE16:
L_BSWAP16:
  D = __builtin_bswap16(static_cast<uint16_t>(D));
  NEXT;
L_BE32:
L_BSWAP32:
  D = __builtin_bswap32(static_cast<uint32_t>(D));
  NEXT;
L_BE64:
L_BSWAP64:
  D = __builtin_bswap64(D);
  NEXT;

  // ---- jumps ------------------------------------------------------------------------
L_JA:
L_JA32:
  JUMP;
#define JCMP(NAME, W, T, OP)                                        \
  L_##NAME##W##_IMM : if (static_cast<T>(D) OP static_cast<T>(IMM)) JUMP; \
  NEXT;                                                             \
  L_##NAME##W##_REG : if (static_cast<T>(D) OP static_cast<T>(S)) JUMP;   \
  NEXT;
#define JCMPS(W, U, I)                                                                            \
  JCMP(JEQ, W, U, ==) JCMP(JNE, W, U, !=) JCMP(JGT, W, U, >) JCMP(JGE, W, U, >=) JCMP(JLT, W, U, <) \
  JCMP(JLE, W, U, <=) JCMP(JSGT, W, I, >) JCMP(JSGE, W, I, >=) JCMP(JSLT, W, I, <) JCMP(JSLE, W, I, <=) \
  L_JSET##W##_IMM : if (static_cast<U>(D) & static_cast<U>(IMM)) JUMP;                             \
  NEXT;                                                                                             \
  L_JSET##W##_REG : if (static_cast<U>(D) & static_cast<U>(S)) JUMP;                               \
  NEXT;
  JCMPS(64, uint64_t, int64_t)
  JCMPS(32, uint32_t, int32_t)
#undef JCMPS
#undef JCMP

  // ---- calls --------------------------------------------------------------------------
  // Helpers see the count so far (callbacks and tail calls share the budget) and
  // may add to it.
L_CALL_HELPER:
  ctx.insns_executed = n;
  r[0] = reinterpret_cast<HelperFn>(IMM)(r[1], r[2], r[3], r[4], r[5], &ctx);
  n = ctx.insns_executed;
  if (__builtin_expect(ctx.stop, 0)) goto helper_stop;
  NEXT;
L_CALLX : {
  const uint64_t id = S;
  const HelperRegistry* reg = p.helpers ? p.helpers : ctx.helpers;
  const HelperInfo* h = reg && id < static_cast<uint64_t>(isa::kMaxHelperId) ? reg->find(static_cast<int32_t>(id)) : nullptr;
  if (!h || !h->fn) {
    fault.addr = id;
    FAIL(FaultKind::UnknownCallx);
  }
  ctx.insns_executed = n;
  r[0] = h->fn(r[1], r[2], r[3], r[4], r[5], &ctx);
  n = ctx.insns_executed;
  if (__builtin_expect(ctx.stop, 0)) goto helper_stop;
  NEXT;
}
helper_stop:
  if (ctx.stop_error) {
    Error e = std::move(*ctx.stop_error);
    ctx.stop_error.reset();
    ctx.insns_executed = n;
    ctx.stack_lo = ctx.stack_hi = 0;
    return e;
  }
  r[0] = ctx.stop_value;
  goto done;
L_CALL_LOCAL : {
  if (depth + 1 >= isa::kMaxCallDepth) FAIL(FaultKind::CallDepth);
  if (__builtin_expect(n > budget, 0)) FAIL(FaultKind::Budget);
  Frame& f = frames[depth++];
  std::memcpy(f.saved, &r[6], sizeof f.saved);
  f.ret = ip + 1;
  stk_lo -= kFrame;
  stk_span += kFrame;
  std::memset(reinterpret_cast<void*>(stk_lo), 0, kFrame);
  r[isa::kFramePointer] = stk_lo + kFrame;
  ctx.stack_lo = stk_lo;
  ip = base + ip->off;
  DISPATCH;
}
L_EXIT:
  if (depth == base_depth) goto done;
  {
    const Frame& f = frames[--depth];
    std::memcpy(&r[6], f.saved, sizeof f.saved);
    ip = f.ret;
    stk_lo += kFrame;
    stk_span -= kFrame;
    r[isa::kFramePointer] = stk_lo + kFrame;  // recomputed: never trust a register for it
    ctx.stack_lo = stk_lo;
    DISPATCH;
  }
L_CALL_KFUNC:  // refused at build time
L_LDDW_HI:
  FAIL(FaultKind::BadSlot);
L_FALL_OFF:
  FAIL(FaultKind::FallOff);

  // ---- loads and stores ------------------------------------------------------------------
L_LDDW:
  D = IMM;
  ip += 2;
  DISPATCH;

  // Legacy packet loads: out of bounds ends the whole program with r0 = 0.
#define LDPKT(NAME, SZ, OFF)                                      \
  L_##NAME : {                                                    \
    uint64_t v;                                                   \
    if (!load_packet(ctx, static_cast<int32_t>(OFF), SZ, v)) {    \
      r[0] = 0;                                                   \
      goto done;                                                  \
    }                                                             \
    r[0] = v;                                                     \
    NEXT;                                                         \
  }
  LDPKT(LDABSB, 1, IMM)
  LDPKT(LDABSH, 2, IMM)
  LDPKT(LDABSW, 4, IMM)
  LDPKT(LDINDB, 1, static_cast<uint32_t>(S) + static_cast<uint32_t>(IMM))
  LDPKT(LDINDH, 2, static_cast<uint32_t>(S) + static_cast<uint32_t>(IMM))
  LDPKT(LDINDW, 4, static_cast<uint32_t>(S) + static_cast<uint32_t>(IMM))
#undef LDPKT

#define LDX(NAME, T, EXT)                                                  \
  L_##NAME : {                                                             \
    const uint64_t a = S + static_cast<uint64_t>(static_cast<int64_t>(ip->off)); \
    CHECK(a, sizeof(T), false);                                            \
    T v;                                                                   \
    std::memcpy(&v, reinterpret_cast<const void*>(a), sizeof v);           \
    D = static_cast<uint64_t>(static_cast<EXT>(v));                        \
    NEXT;                                                                  \
  }
  LDX(LDXB, uint8_t, uint64_t)
  LDX(LDXH, uint16_t, uint64_t)
  LDX(LDXW, uint32_t, uint64_t)
  LDX(LDXDW, uint64_t, uint64_t)
  LDX(LDXSB, int8_t, int64_t)
  LDX(LDXSH, int16_t, int64_t)
  LDX(LDXSW, int32_t, int64_t)
#undef LDX

#define STORE(NAME, T, VAL)                                                \
  L_##NAME : {                                                             \
    const uint64_t a = D + static_cast<uint64_t>(static_cast<int64_t>(ip->off)); \
    CHECK(a, sizeof(T), true);                                             \
    const T v = static_cast<T>(VAL);                                       \
    std::memcpy(reinterpret_cast<void*>(a), &v, sizeof v);                 \
    NEXT;                                                                  \
  }
  STORE(STB, uint8_t, IMM)
  STORE(STH, uint16_t, IMM)
  STORE(STW, uint32_t, IMM)
  STORE(STDW, uint64_t, IMM)
  STORE(STXB, uint8_t, S)
  STORE(STXH, uint16_t, S)
  STORE(STXW, uint32_t, S)
  STORE(STXDW, uint64_t, S)
#undef STORE

  // ---- atomics: real atomic builtins, since map memory is shared between threads -------
#define ATOMIC_ADDR(T, PTR)                                                \
  const uint64_t a = D + static_cast<uint64_t>(static_cast<int64_t>(ip->off)); \
  CHECK(a, sizeof(T), true);                                               \
  if (__builtin_expect(a & (sizeof(T) - 1), 0)) {                          \
    fault.addr = a;                                                        \
    fault.size = sizeof(T);                                                \
    FAIL(FaultKind::Misaligned);                                           \
  }                                                                        \
  PTR* const ptr = reinterpret_cast<PTR*>(a);
#define ATOMIC_RMW(NAME, W, T, PTR, BUILTIN)                               \
  L_ATOMIC_##NAME##W : {                                                   \
    ATOMIC_ADDR(T, PTR)                                                    \
    BUILTIN(ptr, static_cast<T>(S), __ATOMIC_SEQ_CST);                     \
    NEXT;                                                                  \
  }                                                                        \
  L_ATOMIC_FETCH_##NAME##W : {                                             \
    ATOMIC_ADDR(T, PTR)                                                    \
    S = static_cast<T>(BUILTIN(ptr, static_cast<T>(S), __ATOMIC_SEQ_CST)); \
    NEXT;                                                                  \
  }
#define ATOMICS(W, T, PTR)                                                 \
  ATOMIC_RMW(ADD, W, T, PTR, __atomic_fetch_add)                           \
  ATOMIC_RMW(OR, W, T, PTR, __atomic_fetch_or)                             \
  ATOMIC_RMW(AND, W, T, PTR, __atomic_fetch_and)                           \
  ATOMIC_RMW(XOR, W, T, PTR, __atomic_fetch_xor)                           \
  L_ATOMIC_XCHG##W : {                                                     \
    ATOMIC_ADDR(T, PTR)                                                    \
    S = static_cast<T>(__atomic_exchange_n(ptr, static_cast<T>(S), __ATOMIC_SEQ_CST)); \
    NEXT;                                                                  \
  }                                                                        \
  L_ATOMIC_CMPXCHG##W : {                                                  \
    ATOMIC_ADDR(T, PTR)                                                    \
    T expected = static_cast<T>(r[0]); /* becomes the old value either way */ \
    __atomic_compare_exchange_n(ptr, &expected, static_cast<T>(S), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    r[0] = expected;                                                       \
    NEXT;                                                                  \
  }
  ATOMICS(32, uint32_t, u32a)
  ATOMICS(64, uint64_t, u64a)
#undef ATOMICS
#undef ATOMIC_RMW
#undef ATOMIC_ADDR

done:
  ctx.insns_executed = n;
  ctx.stack_lo = ctx.stack_hi = 0;
  if (__builtin_expect(n > budget, 0)) {
    fault.kind = FaultKind::Budget;
    fault.pc = static_cast<size_t>(ip - base);
    ctx.stack_lo = stk_lo;
    ctx.stack_hi = top;
    Error e = describe_fault(p, ctx, fault);
    ctx.stack_lo = ctx.stack_hi = 0;
    return e;
  }
  return r[0];

fail : {
  fault.pc = static_cast<size_t>(ip - base);
  ctx.insns_executed = n;
  Error e = describe_fault(p, ctx, fault);  // while ctx still shows the live stack
  ctx.stack_lo = ctx.stack_hi = 0;
  return e;
}

#undef DISPATCH
#undef NEXT
#undef D
#undef S
#undef IMM
#undef FAIL
#undef JUMP
#undef CHECK
}

}  // namespace userbpf::vm::interp
