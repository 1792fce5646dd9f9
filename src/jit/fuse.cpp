// Finding the idioms of fuse.h: one pass over the program follows, per basic
// block, what each register holds in terms of byte loads and shifts (a value
// number per register tells copies apart from new values); every complete
// idiom becomes a candidate.  Only when there is one are jump targets and
// register liveness computed, and each candidate checked against them.
#include "jit/fuse.h"

#include <algorithm>
#include <array>

namespace userbpf::jit::detail {
namespace {

using isa::Op;
using vm::interp::DInsn;
using vm::interp::kOpLddwHi;

constexpr uint16_t bit(unsigned r) { return static_cast<uint16_t>(1u << r); }
constexpr uint16_t kArgs = 0x3E;         // r1..r5
constexpr uint16_t kCallerSaved = 0x3F;  // r0..r5
constexpr uint8_t kNone = 0xFF;

// The ALU operations an idiom is made of.
bool idiom_op(Op op) {
  switch (op) {
    case Op::MOV64_REG:
    case Op::MOV32_REG:
    case Op::LSH64_IMM:
    case Op::LSH32_IMM:
    case Op::RSH32_IMM:
    case Op::OR64_REG:
    case Op::OR32_REG: return true;
    default: return false;
  }
}

struct UseDef {
  uint16_t use = 0, def = 0;
};

// Registers an instruction may read, and registers it surely writes: uses are
// over-approximated and writes under-approximated, so liveness errs on "live".
UseDef use_def(const DInsn& d, const isa::InsnSpec& s) {
  const uint16_t D = bit(d.dst), S = bit(d.src);
  switch (s.kind) {
    case isa::Kind::Alu:
      if (s.op == Op::MOV64_IMM || s.op == Op::MOV32_IMM) return {0, D};
      if (s.op == Op::MOV64_REG || s.op == Op::MOV32_REG || s.op == Op::MOVSX8_64 || s.op == Op::MOVSX16_64 ||
          s.op == Op::MOVSX32_64 || s.op == Op::MOVSX8_32 || s.op == Op::MOVSX16_32)
        return {S, D};
      return {static_cast<uint16_t>(D | (s.uses_src_reg ? S : 0)), D};
    case isa::Kind::Endian: return {D, D};
    case isa::Kind::Load: return {S, D};
    case isa::Kind::LoadImm64: return {0, D};
    case isa::Kind::Store: return {D, 0};
    case isa::Kind::StoreReg: return {static_cast<uint16_t>(D | S), 0};
    case isa::Kind::Atomic: return {static_cast<uint16_t>(D | S | bit(0)), 0};
    case isa::Kind::Jump:
      if (s.op == Op::JA || s.op == Op::JA32) return {};
      return {static_cast<uint16_t>(D | (s.uses_src_reg ? S : 0)), 0};
    case isa::Kind::Call: return {static_cast<uint16_t>(kArgs | (s.op == Op::CALLX ? S : 0)), kCallerSaved};
    case isa::Kind::Exit: return {bit(0), 0};
    case isa::Kind::LegacyLoad: return {static_cast<uint16_t>(bit(6) | (s.uses_src_reg ? S : 0)), kCallerSaved};
  }
  return {0xFFFF, 0};
}

// What a register holds, as far as the idioms go.
struct Sym {
  enum Kind : uint8_t { kOpaque, kBytes, kShl, kShr };
  Kind kind = kOpaque;
  uint8_t reg = 0;     // kBytes: the base register; else the register the value was read from
  uint8_t amount = 0;  // kShl / kShr: the shift count
  uint32_t vid = 0;    // kBytes: the base's value number; else the value's (low 32 bits)
  int32_t off0 = 0;    // kBytes: offset of pos[0]
  std::array<uint8_t, 8> pos{};  // kBytes: bit position of byte off0 + i, kNone if absent
  uint32_t first = 0, mask = 0;  // the instructions that made it: bit i = slot first + i
};

struct Candidate {
  uint32_t first = 0, mask = 0, last = 0;
  Fusion f;
  uint8_t alt = kNone;  // rotates: another register holding the value
};

// Adds slot pc to s's group; false when the group would span 32 slots or more.
bool add(Sym& s, size_t pc) {
  if (pc - s.first >= 32) return false;
  s.mask |= 1u << (pc - s.first);
  return true;
}

// out's group = a's + b's + pc.
bool join(Sym& out, const Sym& a, const Sym& b, size_t pc) {
  const uint32_t first = std::min(a.first, b.first);
  if (pc - first >= 32) return false;
  out.mask = (a.mask << (a.first - first)) | (b.mask << (b.first - first)) | (1u << (pc - first));
  out.first = first;
  return true;
}

// The Bytes symbol of a completed little- / big-endian word, as a fusion.
bool complete(const Sym& s, uint8_t dst, Fusion& f) {
  int n = 0;
  while (n < 8 && s.pos[static_cast<size_t>(n)] != kNone) ++n;
  for (int i = n; i < 8; ++i)
    if (s.pos[static_cast<size_t>(i)] != kNone) return false;
  if (n != 2 && n != 4 && n != 8) return false;
  bool le = true, be = n != 8;
  for (int i = 0; i < n; ++i) {
    le = le && s.pos[static_cast<size_t>(i)] == 8 * i;
    be = be && s.pos[static_cast<size_t>(i)] == 8 * (n - 1 - i);
  }
  if (!le && !be) return false;
  f = Fusion{le ? Fusion::kLoadLE : Fusion::kLoadBE, dst, s.reg, static_cast<uint8_t>(n), 0, s.off0};
  return true;
}

class Planner {
 public:
  Planner(const vm::interp::Program& prog, std::span<const uint32_t> proofs, const isa::InsnSpec* const* specs)
      : prog_(prog), proofs_(proofs), specs_(specs) {}

  FusionPlan run() {
    scan();
    FusionPlan plan;
    if (cands_.empty()) return plan;
    liveness();
    plan.action.assign(prog_.raw.size(), FusionPlan::kEmit);
    std::vector<uint8_t> claimed(prog_.raw.size(), 0);
    // Later candidates first: a word is completed after its halves.
    for (size_t i = cands_.size(); i-- > 0;) {
      Candidate& c = cands_[i];
      if (!check(c, claimed)) continue;
      for (size_t pc = c.first; pc <= c.last; ++pc) {
        claimed[pc] = 1;
        if (pc != c.last && (c.mask >> (pc - c.first) & 1)) plan.action[pc] = FusionPlan::kSkip;
      }
      plan.action[c.last] = FusionPlan::kFused + static_cast<uint32_t>(plan.fused.size());
      plan.fused.push_back(c.f);
    }
    if (plan.fused.empty()) plan.action.clear();
    return plan;
  }

 private:
  void forget_all() {
    for (int r = 0; r < isa::kNumRegs; ++r) {
      sym_[r].kind = Sym::kOpaque;
      vid_[r] = vid32_[r] = next_++;
    }
  }
  void forget_bytes() {
    for (Sym& s : sym_)
      if (s.kind == Sym::kBytes) s.kind = Sym::kOpaque;
  }
  void scan();
  Sym alu(const DInsn& d, Op op, size_t pc);
  void liveness();
  bool check(Candidate& c, const std::vector<uint8_t>& claimed) const;

  const isa::InsnSpec& spec_of(uint8_t op) const { return *specs_[op]; }

  const vm::interp::Program& prog_;
  std::span<const uint32_t> proofs_;
  const isa::InsnSpec* const* specs_;  // by isa::Op
  std::array<Sym, isa::kNumRegs> sym_{};
  std::array<uint32_t, isa::kNumRegs> vid_{}, vid32_{};  // value numbers: whole register, low 32 bits
  uint32_t next_ = 1;
  std::vector<Candidate> cands_;
  std::vector<uint16_t> live_in_;
  std::vector<uint8_t> target_;  // jump / call targets
};

void Planner::scan() {
  const size_t n = prog_.raw.size();
  forget_all();
  for (size_t pc = 0; pc < n; ++pc) {
    const DInsn& d = prog_.code[pc];
    if (d.op == kOpLddwHi) continue;
    const isa::InsnSpec& s = spec_of(d.op);
    switch (s.kind) {
      case isa::Kind::Load: {
        Sym v;
        if (s.op == Op::LDXB && (proofs_[pc] & vm::proof::kMemSafe)) {
          v.kind = Sym::kBytes;
          v.reg = d.src;
          v.vid = vid_[d.src];
          v.off0 = d.off;
          v.pos.fill(kNone);
          v.pos[0] = 0;
          v.first = static_cast<uint32_t>(pc);
          v.mask = 1;
        }
        sym_[d.dst] = v;
        vid_[d.dst] = vid32_[d.dst] = next_++;
        break;
      }
      case isa::Kind::Alu: {
        if (idiom_op(s.op)) sym_[d.dst] = alu(d, s.op, pc);
        else sym_[d.dst].kind = Sym::kOpaque;
        if (s.op == Op::MOV64_REG) {
          vid_[d.dst] = vid_[d.src];
          vid32_[d.dst] = vid32_[d.src];
        } else if (s.op == Op::MOV32_REG) {
          const uint32_t low = vid32_[d.src];
          vid_[d.dst] = next_++;
          vid32_[d.dst] = low;
        } else {
          vid_[d.dst] = vid32_[d.dst] = next_++;
        }
        break;
      }
      case isa::Kind::Endian:
      case isa::Kind::LoadImm64:
        sym_[d.dst].kind = Sym::kOpaque;
        vid_[d.dst] = vid32_[d.dst] = next_++;
        break;
      case isa::Kind::Store:
      case isa::Kind::StoreReg: forget_bytes(); break;
      default: forget_all(); break;  // atomics, and the ends of blocks
    }
    if (s.kind != isa::Kind::Load && s.kind != isa::Kind::Alu) continue;
    Fusion f;
    if (sym_[d.dst].kind == Sym::kBytes && complete(sym_[d.dst], d.dst, f))
      cands_.push_back({sym_[d.dst].first, sym_[d.dst].mask, static_cast<uint32_t>(pc), f});
  }
}

// The symbol an ALU instruction leaves in dst (candidates for rotates are
// recorded here, when the or that completes one is seen).
Sym Planner::alu(const DInsn& d, Op op, size_t pc) {
  const Sym& a = sym_[d.dst];
  const Sym& b = sym_[d.src];
  Sym v;
  const bool is64 = spec_of(d.op).width == 64;
  const int width = is64 ? 64 : 32;
  switch (op) {
    case Op::MOV64_REG:
    case Op::MOV32_REG: {
      const bool fits32 = b.kind != Sym::kBytes || std::all_of(b.pos.begin(), b.pos.end(), [](uint8_t p) {
                            return p == kNone || p <= 24;
                          });
      // A copy of a plain value needs no symbol: the value numbers say the
      // copy holds the same (low 32 bits), and the mov itself stays.
      if (b.kind != Sym::kOpaque && (is64 || fits32)) {
        v = b;
        if (!add(v, pc)) v.kind = Sym::kOpaque;
      }
      return v;
    }
    case Op::LSH64_IMM:
    case Op::LSH32_IMM:
    case Op::RSH32_IMM: {
      const int k = static_cast<int>(d.imm & (is64 ? 63 : 31));
      if (op != Op::RSH32_IMM && a.kind == Sym::kBytes && k % 8 == 0) {
        v = a;
        for (uint8_t& p : v.pos)
          if (p != kNone) {
            if (p + k > width - 8) return Sym{};
            p = static_cast<uint8_t>(p + k);
          }
        if (!add(v, pc)) return Sym{};
        return v;
      }
      if (is64 || k == 0) return v;
      v.kind = op == Op::LSH32_IMM ? Sym::kShl : Sym::kShr;
      v.amount = static_cast<uint8_t>(k);
      v.reg = d.dst;
      v.vid = vid32_[d.dst];
      v.first = static_cast<uint32_t>(pc);
      v.mask = 1;
      return v;
    }
    case Op::OR64_REG:
    case Op::OR32_REG: {
      if (d.dst == d.src) return v;
      if (a.kind == Sym::kBytes && b.kind == Sym::kBytes && a.reg == b.reg && a.vid == b.vid) {
        v = a;
        v.off0 = std::min(a.off0, b.off0);
        v.pos.fill(kNone);
        for (const Sym* s : {&a, &b})
          for (size_t i = 0; i < 8; ++i) {
            if (s->pos[i] == kNone) continue;
            const int64_t at = static_cast<int64_t>(s->off0) + static_cast<int64_t>(i) - v.off0;
            if (at >= 8 || v.pos[static_cast<size_t>(at)] != kNone || (!is64 && s->pos[i] > 24)) return Sym{};
            v.pos[static_cast<size_t>(at)] = s->pos[i];
          }
        for (size_t i = 0; i < 8; ++i)  // no two bytes may share bits
          for (size_t j = i + 1; j < 8; ++j)
            if (v.pos[i] != kNone && v.pos[j] != kNone && v.pos[i] == v.pos[j]) return Sym{};
        if (!join(v, a, b, pc)) return Sym{};
        return v;
      }
      const bool shl_a = a.kind == Sym::kShl && b.kind == Sym::kShr;
      const bool shl_b = a.kind == Sym::kShr && b.kind == Sym::kShl;
      if (!is64 && (shl_a || shl_b) && a.vid == b.vid && a.amount + b.amount == 32) {
        const Sym& shl = shl_a ? a : b;
        const Sym& shr = shl_a ? b : a;
        Sym g;
        if (join(g, a, b, pc))
          cands_.push_back({g.first, g.mask, static_cast<uint32_t>(pc),
                            Fusion{Fusion::kRotl32, d.dst, shl.reg, 0, shl.amount, 0}, shr.reg});
      }
      return v;
    }
    default: return v;
  }
}

void Planner::liveness() {
  const size_t n = prog_.raw.size();
  target_.assign(n + 1, 0);
  for (uint32_t f : prog_.func_entries) target_[f] = 1;
  for (size_t pc = 0; pc < n; ++pc) {
    const DInsn& d = prog_.code[pc];
    if (d.op == kOpLddwHi) continue;
    const isa::InsnSpec& s = spec_of(d.op);
    if (s.kind == isa::Kind::Jump || s.op == Op::CALL_LOCAL) target_[static_cast<size_t>(d.off)] = 1;
  }
  live_in_.assign(n + 1, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t pc = n; pc-- > 0;) {
      const DInsn& d = prog_.code[pc];
      if (d.op == kOpLddwHi) continue;
      const isa::InsnSpec& s = spec_of(d.op);
      uint16_t out = 0;
      switch (s.kind) {
        case isa::Kind::Exit: break;
        case isa::Kind::Jump:
          out = live_in_[static_cast<size_t>(d.off)];
          if (s.op != Op::JA && s.op != Op::JA32) out |= live_in_[pc + 1];
          break;
        case isa::Kind::LoadImm64: out = live_in_[pc + 2 <= n ? pc + 2 : n]; break;
        default: out = live_in_[pc + 1]; break;
      }
      const UseDef ud = use_def(d, s);
      const uint16_t in = static_cast<uint16_t>(ud.use | (out & ~ud.def));
      if (in != live_in_[pc]) {
        live_in_[pc] = in;
        changed = true;
      }
    }
  }
}

bool Planner::check(Candidate& c, const std::vector<uint8_t>& claimed) const {
  uint16_t written = 0;  // by the instructions that will emit nothing
  for (size_t pc = c.first; pc <= c.last; ++pc) {
    if (claimed[pc] || (pc > c.first && target_[pc])) return false;
    if (pc != c.last && (c.mask >> (pc - c.first) & 1)) written |= use_def(prog_.code[pc], spec_of(prog_.code[pc].op)).def;
  }
  bool src_ok = true, alt_ok = c.alt != kNone;
  for (size_t pc = c.first; pc <= c.last; ++pc) {
    if (c.mask >> (pc - c.first) & 1) continue;
    const DInsn& d = prog_.code[pc];
    if (d.op == kOpLddwHi) continue;
    const isa::InsnSpec& s = spec_of(d.op);
    if (s.kind != isa::Kind::Alu && s.kind != isa::Kind::Load && s.kind != isa::Kind::Endian &&
        s.kind != isa::Kind::LoadImm64)
      return false;  // memory written, or the block ends
    const UseDef ud = use_def(d, s);
    if ((ud.use | ud.def) & written) return false;
    if (ud.def & bit(c.f.src)) src_ok = false;
    if (alt_ok && (ud.def & bit(c.alt))) alt_ok = false;
  }
  if (!src_ok) {
    if (!alt_ok) return false;
    c.f.src = c.alt;
  }
  return (written & ~bit(c.f.dst) & live_in_[c.last + 1]) == 0;
}

}  // namespace

FusionPlan plan_fusions(const vm::interp::Program& prog, std::span<const uint32_t> proofs,
                        const isa::InsnSpec* const* specs) {
  if (proofs.size() != prog.raw.size()) return {};
  return Planner(prog, proofs, specs).run();
}

}  // namespace userbpf::jit::detail
