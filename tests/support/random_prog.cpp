// Random program generator.  The program is built as a list of units (one
// instruction, an lddw, or a short fixed sequence) so branches can target unit
// boundaries only and never land inside an lddw or a sequence.
#include "support/random_prog.h"

#include <algorithm>

namespace userbpf::testing {
namespace {

using namespace isa;

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() { return splitmix(s_); }
  uint32_t below(uint32_t n) { return n ? static_cast<uint32_t>(next() % n) : 0; }
  bool chance(uint32_t percent) { return below(100) < percent; }
  uint64_t interesting() { return interesting_u64(s_); }
  int32_t imm() { return static_cast<int32_t>(static_cast<uint32_t>(interesting())); }
  uint8_t reg() { return static_cast<uint8_t>(below(10)); }  // r0..r9, never r10

 private:
  uint64_t s_;
};

struct Unit {
  std::vector<Insn> insns;
  int jump_slot = -1;  // index in insns of the branch that skips `span` units
  size_t span = 0;
};

Insn make(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  Insn i;
  i.opcode = opcode;
  i.dst = dst & 0xf;
  i.src = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// The encoding of `o` with its distinguishing field (off/imm/src) filled in.
Insn from_spec(Op o) {
  const InsnSpec& s = spec(o);
  Insn i = make(s.opcode);
  switch (s.match) {
    case Match::Off: i.off = static_cast<int16_t>(s.match_value); break;
    case Match::Imm: i.imm = s.match_value; break;
    case Match::Src: i.src = static_cast<uint8_t>(s.match_value); break;
    case Match::None: break;
  }
  return i;
}

Unit lddw(uint8_t dst, uint64_t v) {
  Unit u;
  u.insns.push_back(make(op::LD | op::IMM | op::DW, dst, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v))));
  u.insns.push_back(make(0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v >> 32))));
  return u;
}

class Generator {
 public:
  Generator(uint64_t seed, const RandomProgOptions& o) : rng_(seed), o_(o) {
    slots_ = std::clamp(o_.stack_slots, 1, kStackSize / 8);
    for (const InsnSpec& s : all_specs()) {
      if (s.cpu > o_.max_cpu) continue;
      switch (s.kind) {
        case Kind::Alu: alu_.push_back(s.op); break;
        case Kind::Endian: endian_.push_back(s.op); break;
        case Kind::Jump:
          if (s.op == Op::JA || s.op == Op::JA32) gotos_.push_back(s.op);
          else cond_.push_back(s.op);
          break;
        case Kind::Load: loads_.push_back(s.op); break;
        case Kind::Store: stores_.push_back(s.op); break;
        case Kind::StoreReg: stx_.push_back(s.op); break;
        case Kind::Atomic: atomics_.push_back(s.op); break;
        default: break;  // calls, exit, lddw (emitted directly), legacy packet loads
      }
    }
  }

  std::vector<Insn> build() {
    std::vector<Unit> units;
    prologue(units);
    const int n = o_.min_body + static_cast<int>(rng_.below(static_cast<uint32_t>(std::max(0, o_.max_body - o_.min_body) + 1)));
    for (int i = 0; i < n; ++i) units.push_back(body_unit());
    const size_t tail_unit = units.size();
    tail(units);
    return layout(units, tail_unit);
  }

 private:
  Op pick(const std::vector<Op>& ops) { return ops[rng_.below(static_cast<uint32_t>(ops.size()))]; }

  // A random aligned offset for an access of `bytes` inside the initialised slots.
  int16_t stack_off(uint32_t bytes) {
    const uint32_t area = static_cast<uint32_t>(slots_) * 8;
    return static_cast<int16_t>(-static_cast<int32_t>(area) + static_cast<int32_t>(rng_.below(area / bytes) * bytes));
  }

  void prologue(std::vector<Unit>& units) {
    // Every register gets a value (r1, the context, included) so nothing is a pointer.
    for (uint8_t r = 0; r < 10; ++r) {
      const uint32_t how = rng_.below(4);
      if (how == 0) units.push_back(lddw(r, rng_.interesting()));
      else if (how == 1) units.push_back({{make(op::ALU | op::MOV | op::K, r, 0, 0, rng_.imm())}});
      else if (how == 2) units.push_back({{make(op::ALU64 | op::MOV | op::K, r, 0, 0, rng_.imm())}});
      else units.push_back(lddw(r, rng_.next()));
    }
    for (int s = 1; s <= slots_; ++s) {
      const int16_t off = static_cast<int16_t>(-8 * s);
      const uint32_t how = rng_.below(3);
      if (how == 0) {
        units.push_back({{make(op::STX | op::MEM | op::DW, kFramePointer, rng_.reg(), off)}});
      } else if (how == 1) {
        units.push_back({{make(op::ST | op::MEM | op::DW, kFramePointer, 0, off, rng_.imm())}});
      } else {
        units.push_back({{make(op::ST | op::MEM | op::W, kFramePointer, 0, off, rng_.imm()),
                          make(op::ST | op::MEM | op::W, kFramePointer, 0, static_cast<int16_t>(off + 4), rng_.imm())}});
      }
    }
  }

  Unit alu_unit() {
    const Op o = pick(alu_);
    const InsnSpec& s = spec(o);
    Insn i = from_spec(o);
    i.dst = rng_.reg();
    const uint8_t code = op::alu_op(s.opcode);
    const bool reg_form = s.uses_src_reg;
    if (reg_form) {
      i.src = rng_.reg();
    } else if (code == op::LSH || code == op::RSH || code == op::ARSH) {
      // The verifier refuses constant shifts >= the width; register shifts are masked.
      const uint32_t w = s.width;
      i.imm = static_cast<int32_t>(rng_.chance(30) ? w - 1 - rng_.below(2) : rng_.below(w));
    } else if (code == op::NEG) {
      i.imm = 0;
    } else {
      i.imm = rng_.imm();
      // The verifier refuses a constant zero divisor ("div by zero").
      if ((code == op::DIV || code == op::MOD) && i.imm == 0) i.imm = rng_.chance(50) ? -1 : 1;
    }
    Unit u;
    // Register divisors are often zero, also just in the low half for 32-bit ops.
    if (reg_form && (code == op::DIV || code == op::MOD) && rng_.chance(25)) {
      if (s.width == 32 && rng_.chance(50)) {
        const Unit l = lddw(i.src, (rng_.next() | 1) << 32);
        u.insns = l.insns;
      } else {
        u.insns.push_back(make(op::ALU64 | op::MOV | op::K, i.src, 0, 0, 0));
      }
    }
    u.insns.push_back(i);
    return u;
  }

  Insn cond_branch() {
    const Op o = pick(cond_);
    Insn i = from_spec(o);
    i.dst = rng_.reg();
    if (spec(o).uses_src_reg) i.src = rng_.reg();
    else i.imm = rng_.imm();
    return i;
  }

  Unit body_unit() {
    const uint32_t roll = rng_.below(100);
    if (roll < 45) return alu_unit();
    if (roll < 50) {
      Insn i = from_spec(pick(endian_));
      i.dst = rng_.reg();
      return {{i}};
    }
    if (roll < 53) return lddw(rng_.reg(), rng_.interesting());
    if (roll < 66) {
      // Conditional branch forward; sometimes over an unconditional goto so the goto
      // kinds are covered while every instruction stays reachable (the verifier
      // refuses unreachable code).  The span is drawn here, not at layout, so the
      // tail options do not change the body.
      Insn br = cond_branch();
      Unit u;
      if (!gotos_.empty() && rng_.chance(20)) {
        br.off = 1;
        Insn g = from_spec(pick(gotos_));
        u.insns = {br, g};
        u.jump_slot = 1;
      } else {
        u.insns = {br};
        u.jump_slot = 0;
      }
      u.span = 1 + rng_.below(static_cast<uint32_t>(std::max(1, o_.max_jump_span)));
      return u;
    }
    if (roll < 76) {
      const Op o = pick(loads_);
      Insn i = from_spec(o);
      i.dst = rng_.reg();
      i.src = kFramePointer;
      i.off = stack_off(spec(o).width);
      return {{i}};
    }
    if (roll < 80) {
      const Op o = pick(stores_);
      Insn i = from_spec(o);
      i.dst = kFramePointer;
      i.off = stack_off(spec(o).width);
      i.imm = rng_.imm();
      return {{i}};
    }
    if (roll < 88) {
      const Op o = pick(stx_);
      Insn i = from_spec(o);
      i.dst = kFramePointer;
      i.src = rng_.reg();
      i.off = stack_off(spec(o).width);
      return {{i}};
    }
    if (atomics_.empty()) return alu_unit();
    const Op o = pick(atomics_);
    Insn i = from_spec(o);
    i.dst = kFramePointer;
    i.src = rng_.reg();
    i.off = stack_off(spec(o).width);
    Unit u;
    // Kernel workaround (seen on 6.18): the verifier does not carry precision from a
    // fetching atomic's result back to the stack slot it read, so when the slot holds
    // a spilled scalar, state pruning can be unsound and the kernel deletes reachable
    // code as dead.  A non-fetching atomic first turns the slot into plain data for
    // the verifier; the fetch then yields an unknown scalar with no such link.
    if (i.imm & op::FETCH) {
      static constexpr int32_t kPlain[] = {op::ADD, op::OR, op::AND, op::XOR};
      Insn plain = i;
      plain.imm = kPlain[rng_.below(o_.max_cpu >= 3 ? 4 : 1)];
      plain.src = rng_.reg();
      u.insns.push_back(plain);
    }
    // Make cmpxchg hit now and then: load the expected value into r0 first.
    if (i.imm == op::CMPXCHG && rng_.chance(40))
      u.insns.push_back(make(op::LDX | op::MEM | (spec(o).width == 8 ? op::DW : op::W), 0, kFramePointer, i.off));
    u.insns.push_back(i);
    // Kernel workaround (seen on 6.18, x86-64): the zero-extension of r0 after a
    // successful cmpxchg32 is only emitted when the verifier sees a 64-bit read of r0
    // on some path; a pruned path never shows it and r0 keeps its upper half.  A
    // 64-bit read right away makes the kernel zero-extend on every path.
    if (i.imm == op::CMPXCHG && spec(o).width == 4) u.insns.push_back(make(op::ALU64 | op::ADD | op::K, 0));
    return u;
  }

  void tail(std::vector<Unit>& units) {
    Unit u;
    if (!o_.mix_state) {
      u.insns.push_back(make(op::ALU64 | op::MOV | op::X, 0, rng_.reg()));
    } else {
      // r0 = r0 * K ^ rN for every register, then for every stack slot.  Each step is a
      // bijection in the value folded in, so a single wrong input always shows.
      const int32_t k = static_cast<int32_t>(0x9e3779b1u);
      for (uint8_t r = 1; r < 10; ++r) {
        u.insns.push_back(make(op::ALU64 | op::MUL | op::K, 0, 0, 0, k));
        u.insns.push_back(make(op::ALU64 | op::XOR | op::X, 0, r));
      }
      for (int s = 1; s <= slots_; ++s) {
        u.insns.push_back(make(op::LDX | op::MEM | op::DW, 1, kFramePointer, static_cast<int16_t>(-8 * s)));
        u.insns.push_back(make(op::ALU64 | op::MUL | op::K, 0, 0, 0, k));
        u.insns.push_back(make(op::ALU64 | op::XOR | op::X, 0, 1));
      }
    }
    u.insns.push_back(make(op::JMP | op::EXIT));
    units.push_back(u);
  }

  // Resolves branch targets (forward, at most the tail) to slot offsets.
  std::vector<Insn> layout(std::vector<Unit>& units, size_t tail_unit) {
    std::vector<size_t> start(units.size() + 1, 0);
    for (size_t i = 0; i < units.size(); ++i) start[i + 1] = start[i] + units[i].insns.size();
    std::vector<Insn> out;
    out.reserve(start.back());
    for (size_t i = 0; i < units.size(); ++i) {
      Unit& u = units[i];
      if (u.jump_slot >= 0) {
        const size_t target = std::min(i + u.span, tail_unit);
        const int64_t off = static_cast<int64_t>(start[target]) -
                            static_cast<int64_t>(start[i] + static_cast<size_t>(u.jump_slot)) - 1;
        Insn& br = u.insns[static_cast<size_t>(u.jump_slot)];
        if (br.opcode == (op::JMP32 | op::JA)) br.imm = static_cast<int32_t>(off);
        else br.off = static_cast<int16_t>(off);
      }
      out.insert(out.end(), u.insns.begin(), u.insns.end());
    }
    return out;
  }

  Rng rng_;
  RandomProgOptions o_;
  int slots_ = 8;
  std::vector<Op> alu_, endian_, cond_, gotos_, loads_, stores_, stx_, atomics_;
};

}  // namespace

uint64_t interesting_u64(uint64_t& state) {
  static const uint64_t kEdges[] = {
      0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 65, 127, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
      0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x180000000ull, 0x7fffffffffffffffull,
      0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffffeull, 0xffffffff80000000ull,
      0xffffffff7fffffffull, 0xffffffffffffff80ull, 0xffffffffffff8000ull, 0x00000000ffffff80ull,
      0x8000000080000000ull, 0x123456789abcdef0ull, 0x0000000100000001ull};
  const uint64_t r = splitmix(state);
  const uint64_t v = splitmix(state);
  switch (r % 8) {
    case 0:
    case 1:
    case 2: return kEdges[v % (sizeof kEdges / sizeof kEdges[0])];
    case 3: return static_cast<uint64_t>(static_cast<int64_t>(v % 17) - 8);  // small, both signs
    case 4: return v & 0xff;
    case 5: return static_cast<uint32_t>(v);
    case 6: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
    default: return v;
  }
}

std::vector<Insn> random_program(uint64_t seed, const RandomProgOptions& opts) {
  return Generator(seed, opts).build();
}

}  // namespace userbpf::testing
