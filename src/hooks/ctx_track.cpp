// analyze_ctx_pointers: where the context pointer is, per instruction.
//
// Lattice per register / 8-byte stack slot: Unknown (not derived from the
// context), Ctx+off, Stack+off (pointer into the current frame, to follow
// spills), Mixed (the context on some paths, or mangled).  Joins of different
// values give Mixed when the context is involved, Unknown otherwise; the lattice
// is finite, so the worklist terminates.  Subprograms share one entry state per
// callee, joined over every call site (context-insensitive).
#include <algorithm>
#include <deque>
#include <string>

#include "hooks/ctx_rewrite.h"

namespace userbpf::hooks {
namespace {

using isa::Insn;
using isa::InsnSpec;
using isa::Kind;
using isa::Op;

struct Val {
  enum K : uint8_t { Unknown, Ctx, Stack, Mixed };
  K k = Unknown;
  int32_t off = 0;
  bool operator==(const Val&) const = default;
  bool ctx_like() const { return k == Ctx || k == Mixed; }
};

Val join(Val a, Val b) {
  if (a == b) return a;
  if (a.ctx_like() || b.ctx_like()) return {Val::Mixed, 0};
  return {};
}

struct State {
  bool reached = false;
  Val r[isa::kNumRegs];
  std::vector<std::pair<int32_t, Val>> slots;  // frame offset (multiple of 8) -> value; absent = Unknown

  Val slot(int32_t off) const {
    for (const auto& [o, v] : slots)
      if (o == off) return v;
    return {};
  }
  void set_slot(int32_t off, Val v) {
    auto it = std::find_if(slots.begin(), slots.end(), [&](const auto& p) { return p.first == off; });
    if (v.k == Val::Unknown) {
      if (it != slots.end()) slots.erase(it);
    } else if (it != slots.end()) {
      it->second = v;
    } else {
      slots.emplace_back(off, v);
      std::sort(slots.begin(), slots.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    }
  }
  // A store of `size` bytes at frame offset `off` that is not a full spill.
  void clobber(int64_t off, uint32_t size) {
    for (int64_t s = off & ~int64_t{7}; s < off + size; s += 8) set_slot(static_cast<int32_t>(s), {});
  }
};

// Joins `in` into `dst`; true when dst changed.
bool merge(State& dst, const State& in) {
  if (!dst.reached) {
    dst = in;
    dst.reached = true;
    return true;
  }
  bool changed = false;
  for (int i = 0; i < isa::kNumRegs; ++i) {
    const Val j = join(dst.r[i], in.r[i]);
    if (!(j == dst.r[i])) {
      dst.r[i] = j;
      changed = true;
    }
  }
  std::vector<int32_t> keys;
  for (const auto& p : dst.slots) keys.push_back(p.first);
  for (const auto& p : in.slots) keys.push_back(p.first);
  for (int32_t k : keys) {
    const Val old = dst.slot(k);
    const Val j = join(old, in.slot(k));
    if (!(j == old)) {
      dst.set_slot(k, j);
      changed = true;
    }
  }
  return changed;
}

State entry_state(bool ctx_in_r1) {
  State s;
  s.reached = true;
  if (ctx_in_r1) s.r[1] = {Val::Ctx, 0};
  s.r[isa::kFramePointer] = {Val::Stack, 0};
  return s;
}

// Result of an ALU instruction on dst.
Val alu(const InsnSpec& spec, const Insn& in, Val dst, Val src) {
  switch (spec.op) {
    case Op::MOV64_REG: return src;
    case Op::ADD64_IMM:
      if (dst.k == Val::Ctx || dst.k == Val::Stack) return {dst.k, dst.off + in.imm};
      return dst.k == Val::Mixed ? dst : Val{};
    case Op::SUB64_IMM:
      if (dst.k == Val::Ctx || dst.k == Val::Stack) return {dst.k, dst.off - in.imm};
      return dst.k == Val::Mixed ? dst : Val{};
    case Op::MOV64_IMM:
    case Op::MOV32_IMM: return {};
    default: break;
  }
  const bool overwrites = spec.op == Op::MOV32_REG || spec.op == Op::MOVSX8_64 || spec.op == Op::MOVSX16_64 ||
                          spec.op == Op::MOVSX32_64 || spec.op == Op::MOVSX8_32 || spec.op == Op::MOVSX16_32;
  const bool tainted = (!overwrites && dst.ctx_like()) || (spec.uses_src_reg && src.ctx_like());
  return tainted ? Val{Val::Mixed, 0} : Val{};
}

}  // namespace

Result<std::vector<CtxFact>> analyze_ctx_pointers(std::span<const Insn> prog) {
  if (Status st = isa::validate(prog); !st) return st.error();
  const size_t n = prog.size();
  std::vector<State> states(n);
  std::deque<size_t> work;
  auto flow = [&](size_t to, const State& s) {
    if (to >= n) return;
    if (merge(states[to], s)) work.push_back(to);
  };
  flow(0, entry_state(true));

  while (!work.empty()) {
    const size_t pc = work.front();
    work.pop_front();
    State s = states[pc];
    const Insn& in = prog[pc];
    const InsnSpec* spec = isa::lookup(in);
    if (!spec) return make_error(ErrorKind::Malformed, "invalid instruction", static_cast<int64_t>(pc));
    const Val src = s.r[in.src];
    Val& dst = s.r[in.dst];
    size_t next = pc + 1;
    switch (spec->kind) {
      case Kind::Alu:
      case Kind::Endian:
        dst = spec->kind == Kind::Alu ? alu(*spec, in, dst, src) : (dst.ctx_like() ? Val{Val::Mixed, 0} : Val{});
        break;
      case Kind::LoadImm64:
        dst = {};
        next = pc + 2;
        // A callback (lddw src=FUNC, loader form: imm relative) starts with unknown arguments.
        if (in.src == isa::pseudo::FUNC) flow(static_cast<size_t>(static_cast<int64_t>(pc) + 1 + in.imm), entry_state(false));
        break;
      case Kind::LegacyLoad:
        for (int r = 0; r <= 5; ++r) s.r[r] = {};
        break;
      case Kind::Load: {
        const bool fill = src.k == Val::Stack && spec->width == 8 && spec->op == Op::LDXDW;
        dst = fill ? s.slot(src.off + in.off) : Val{};
        break;
      }
      case Kind::Store:
      case Kind::StoreReg:
      case Kind::Atomic: {
        const Val base = s.r[in.dst];
        if (base.k == Val::Stack) {
          const int64_t a = static_cast<int64_t>(base.off) + in.off;
          if (spec->kind == Kind::StoreReg && spec->width == 8 && a % 8 == 0)
            s.set_slot(static_cast<int32_t>(a), src);
          else
            s.clobber(a, spec->width);
        }
        if (spec->kind == Kind::Atomic && (in.imm & isa::op::FETCH)) {
          if (in.imm == isa::op::CMPXCHG) s.r[0] = {};
          else s.r[in.src] = {};
        }
        break;
      }
      case Kind::Call: {
        if (spec->op == Op::CALL_LOCAL) {
          State callee = entry_state(false);
          for (int r = 1; r <= 5; ++r) callee.r[r] = s.r[r].k == Val::Stack ? Val{} : s.r[r];
          flow(static_cast<size_t>(isa::jump_target(in, *spec, pc)), callee);
        }
        for (int r = 0; r <= 5; ++r) s.r[r] = {};
        break;
      }
      case Kind::Exit:
        continue;
      case Kind::Jump: {
        const int64_t t = isa::jump_target(in, *spec, pc);
        if (t < 0 || static_cast<size_t>(t) >= n)
          return make_error(ErrorKind::Malformed, "jump outside the program", static_cast<int64_t>(pc));
        flow(static_cast<size_t>(t), s);
        if (spec->op == Op::JA || spec->op == Op::JA32) continue;
        break;
      }
    }
    flow(next, s);
  }

  std::vector<CtxFact> facts(n);
  for (size_t pc = 0; pc < n; ++pc) {
    if (!states[pc].reached) continue;
    const InsnSpec* spec = isa::lookup(prog[pc]);
    if (!spec) continue;
    int base = -1;
    if (spec->kind == Kind::Load) base = prog[pc].src;
    else if (spec->kind == Kind::Store || spec->kind == Kind::StoreReg || spec->kind == Kind::Atomic) base = prog[pc].dst;
    if (base < 0) continue;
    const Val v = states[pc].r[base];
    if (v.k == Val::Ctx) facts[pc] = {CtxFact::Kind::Ctx, v.off};
    else if (v.k == Val::Mixed) facts[pc] = {CtxFact::Kind::Ambiguous, 0};
  }
  return facts;
}

}  // namespace userbpf::hooks
