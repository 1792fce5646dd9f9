// Scalar domain: randomised soundness of every transfer function against a
// concrete eBPF reference (fixed seed), and precision pinned to what the 6.18
// kernel verifier logs for the same instructions.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "verifier/scalar.h"

namespace userbpf::verifier {
namespace {

namespace op = isa::op;

constexpr int kValues = 1500; // abstract operand pairs per operation
constexpr int kSamples = 8;   // concrete members drawn per operand

// An abstract value with concrete members known to be in it.
struct Sampled {
  Scalar a;
  std::vector<uint64_t> xs;
};

// ---- the concrete eBPF reference ------------------------------------------------

uint64_t zext32(uint64_t v) { return v & 0xffffffff; }

uint64_t concrete_alu(uint8_t alu_op, uint64_t x, uint64_t y, bool alu32, bool sgn) {
  if (alu32) {
    auto a = static_cast<uint32_t>(x), b = static_cast<uint32_t>(y);
    auto sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
    switch (alu_op) {
      case op::ADD: return zext32(a + b);
      case op::SUB: return zext32(a - b);
      case op::MUL: return zext32(a * b);
      case op::DIV:
        if (b == 0) return 0;
        if (!sgn) return a / b;
        return zext32(sb == -1 ? static_cast<uint32_t>(-static_cast<uint32_t>(a))  // INT_MIN / -1 = INT_MIN
                               : static_cast<uint32_t>(sa / sb));
      case op::MOD:
        if (b == 0) return a;
        if (!sgn) return a % b;
        return zext32(sb == -1 ? 0 : static_cast<uint32_t>(sa % sb));
      case op::OR: return a | b;
      case op::AND: return a & b;
      case op::XOR: return a ^ b;
      case op::LSH: return zext32(a << (b & 31));
      case op::RSH: return a >> (b & 31);
      case op::ARSH: return zext32(static_cast<uint32_t>(sa >> (b & 31)));
      case op::NEG: return zext32(-a);
      case op::MOV: return b;
    }
  }
  auto sx = static_cast<int64_t>(x), sy = static_cast<int64_t>(y);
  switch (alu_op) {
    case op::ADD: return x + y;
    case op::SUB: return x - y;
    case op::MUL: return x * y;
    case op::DIV:
      if (y == 0) return 0;
      if (!sgn) return x / y;
      return sy == -1 ? -x : static_cast<uint64_t>(sx / sy);
    case op::MOD:
      if (y == 0) return x;
      if (!sgn) return x % y;
      return sy == -1 ? 0 : static_cast<uint64_t>(sx % sy);
    case op::OR: return x | y;
    case op::AND: return x & y;
    case op::XOR: return x ^ y;
    case op::LSH: return x << (y & 63);
    case op::RSH: return x >> (y & 63);
    case op::ARSH: return static_cast<uint64_t>(sx >> (y & 63));
    case op::NEG: return -x;
    case op::MOV: return y;
  }
  ADD_FAILURE() << "no reference for op " << int(alu_op);
  return 0;
}

int64_t sext(uint64_t v, int bits) {
  switch (bits) {
    case 8: return static_cast<int8_t>(v);
    case 16: return static_cast<int16_t>(v);
    case 32: return static_cast<int32_t>(v);
    default: return static_cast<int64_t>(v);
  }
}

uint64_t low(uint64_t v, int bytes) { return bytes >= 8 ? v : v & ((uint64_t{1} << (bytes * 8)) - 1); }

bool concrete_cond(uint8_t jmp_op, uint64_t x, uint64_t y, bool is32) {
  if (is32) {
    x = static_cast<uint32_t>(x);
    y = static_cast<uint32_t>(y);
  }
  int64_t sx = is32 ? static_cast<int32_t>(x) : static_cast<int64_t>(x);
  int64_t sy = is32 ? static_cast<int32_t>(y) : static_cast<int64_t>(y);
  switch (jmp_op) {
    case op::JEQ: return x == y;
    case op::JNE: return x != y;
    case op::JSET: return (x & y) != 0;
    case op::JGT: return x > y;
    case op::JGE: return x >= y;
    case op::JLT: return x < y;
    case op::JLE: return x <= y;
    case op::JSGT: return sx > sy;
    case op::JSGE: return sx >= sy;
    case op::JSLT: return sx < sy;
    case op::JSLE: return sx <= sy;
  }
  ADD_FAILURE() << "no reference for jump " << int(jmp_op);
  return false;
}

// ---- random abstract values ----------------------------------------------------

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  uint64_t below(uint64_t n) { return rng_() % n; }

  uint64_t value() {
    static const uint64_t edges[] = {0,          1,          2,          0x7f,        0x80,
                                     0xff,       0x7fff,     0xffff,     0x7fffffff,  0x80000000,
                                     0xffffffff, 0x100000000, uint64_t{1} << 63, (uint64_t{1} << 63) - 1,
                                     ~uint64_t{0}, ~uint64_t{0} - 1, 0xffffffff80000000, 0xffffffff7fffffff};
    switch (below(5)) {
      case 0: return edges[below(std::size(edges))];
      case 1: return below(300);
      case 2: return -below(300);
      case 3: return edges[below(std::size(edges))] + below(5) - 2;
      default: return rng_() >> below(64);
    }
  }

  // A member of [lo, hi] (unsigned), favouring the ends.
  uint64_t between(uint64_t lo, uint64_t hi) {
    switch (below(4)) {
      case 0: return lo;
      case 1: return hi;
      default: return hi - lo == ~uint64_t{0} ? rng_() : lo + below(hi - lo + 1);
    }
  }

  Sampled make(int depth = 0) {
    Sampled s;
    switch (below(depth < 2 ? 9 : 6)) {
      case 0: {  // constant
        uint64_t v = value();
        s.a = Scalar::constant(v);
        s.xs = {v};
        return s;
      }
      case 1: {  // a few values joined
        uint64_t v = value();
        s.a = Scalar::constant(v);
        s.xs = {v};
        for (uint64_t n = 1 + below(3); n; --n) {
          uint64_t w = below(2) ? value() : v + below(64) - 32;
          s.a = s.a.join(Scalar::constant(w));
          s.xs.push_back(w);
        }
        return s;
      }
      case 2: {  // unsigned range
        uint64_t lo = value(), hi = value();
        if (lo > hi) std::swap(lo, hi);
        s.a = Scalar::urange(lo, hi);
        for (int i = 0; i < kSamples; ++i) s.xs.push_back(between(lo, hi));
        return s;
      }
      case 3: {  // signed range
        auto lo = static_cast<int64_t>(value()), hi = static_cast<int64_t>(value());
        if (lo > hi) std::swap(lo, hi);
        s.a = Scalar::srange(lo, hi);
        for (int i = 0; i < kSamples; ++i)
          s.xs.push_back(between(0, static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo)) +
                         static_cast<uint64_t>(lo));
        return s;
      }
      case 4: {  // a tnum
        uint64_t m = 0;
        for (uint64_t n = below(10); n; --n) m |= uint64_t{1} << below(below(2) ? 16 : 64);
        if (below(4) == 0) m = (uint64_t{1} << below(64)) - 1;
        uint64_t v = value() & ~m;
        s.a.var_off = {v, m};
        s.a.sync();
        for (int i = 0; i < kSamples; ++i) s.xs.push_back(v | (rng_() & m));
        return s;
      }
      case 5: {  // only the subregister bounded
        uint64_t lo = value() & 0xffffffff, hi = value() & 0xffffffff;
        if (lo > hi) std::swap(lo, hi);
        s.a.u32_min = static_cast<uint32_t>(lo);
        s.a.u32_max = static_cast<uint32_t>(hi);
        s.a.sync();
        for (int i = 0; i < kSamples; ++i) s.xs.push_back((rng_() << 32) | between(lo, hi));
        return s;
      }
      case 6: {  // an ALU result
        Sampled x = make(depth + 1), y = make(depth + 1);
        static const uint8_t ops[] = {op::ADD, op::SUB, op::MUL, op::AND, op::OR, op::XOR, op::LSH, op::RSH, op::ARSH};
        uint8_t o = ops[below(std::size(ops))];
        bool alu32 = below(3) == 0;
        if (o == op::LSH || o == op::RSH || o == op::ARSH) {
          uint64_t sh = below(alu32 ? 32 : 64);
          y.a = Scalar::constant(sh);
          y.xs = {sh};
        }
        s.a = Scalar::alu(o, x.a, y.a, alu32);
        for (uint64_t a : x.xs)
          s.xs.push_back(concrete_alu(o, a, y.xs[below(y.xs.size())], alu32, false));
        return s;
      }
      default: {  // narrowed by a branch
        for (int tries = 0; tries < 8; ++tries) {
          Sampled x = make(depth + 1);
          uint64_t k = value();
          static const uint8_t jops[] = {op::JGT, op::JGE, op::JLT, op::JLE, op::JSGT, op::JSGE,
                                         op::JSLT, op::JSLE, op::JNE, op::JSET};
          uint8_t j = jops[below(std::size(jops))];
          bool is32 = below(3) == 0, taken = below(2);
          Scalar b = Scalar::constant(k);
          if (!refine_branch(x.a, b, j, is32, taken)) continue;
          s.a = x.a;
          for (uint64_t v : x.xs)
            if (concrete_cond(j, v, k, is32) == taken) s.xs.push_back(v);
          if (!s.xs.empty()) return s;
        }
        return make(depth + 1);
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

// Every generated member is a member: the generators themselves exercise the
// domain (join, ranges, sync, alu, refine_branch).
void expect_members(const Sampled& s, const char* what) {
  for (uint64_t x : s.xs) ASSERT_TRUE(s.a.contains(x)) << what << ": " << x << " not in " << s.a.str();
}

std::string op_label(uint8_t alu_op, bool alu32, bool sgn) {
  return std::to_string(alu_op >> 4) + (alu32 ? "/32" : "/64") + (sgn ? "s" : "");
}

void check_alu(uint8_t alu_op, bool alu32, bool sgn = false) {
  std::string label = op_label(alu_op, alu32, sgn);
  Gen g(0x5ca1a + alu_op * 4 + alu32 * 2 + sgn);
  for (int i = 0; i < kValues; ++i) {
    Sampled x = g.make(), y = g.make();
    // Shifts: mostly constant in-range amounts (the tracked case).
    if ((alu_op == op::LSH || alu_op == op::RSH || alu_op == op::ARSH) && g.below(4)) {
      uint64_t sh = g.below(alu32 ? 32 : 64);
      y = {Scalar::constant(sh), {sh}};
    }
    expect_members(x, "operand");
    expect_members(y, "operand");
    Scalar r = Scalar::alu(alu_op, x.a, y.a, alu32, sgn);
    if (alu32 && !r.is_unknown()) {
      EXPECT_LE(r.umax, 0xffffffffu) << label;
      EXPECT_EQ(r.var_off.mask >> 32, 0u) << label;
    }
    for (uint64_t a : x.xs)
      for (uint64_t b : y.xs) {
        uint64_t z = concrete_alu(alu_op, a, b, alu32, sgn);
        ASSERT_TRUE(r.contains(z)) << label << " x=" << x.a.str() << " y=" << y.a.str() << " a=" << a
                                   << " b=" << b << " z=" << z << " r=" << r.str();
      }
    // maybe_fork_scalars: both halves must still hold the results.
    Scalar zero, minus_one;
    if (alu_fork(alu_op, x.a, y.a, zero, minus_one)) {
      Scalar r0 = Scalar::alu(alu_op, zero, y.a, alu32), r1 = Scalar::alu(alu_op, minus_one, y.a, alu32);
      for (uint64_t a : x.xs) {
        ASSERT_TRUE(zero.contains(a) || minus_one.contains(a)) << label << " fork lost " << a;
        uint64_t z = concrete_alu(alu_op, a, y.xs[0], alu32, false);
        ASSERT_TRUE(r0.contains(z) || r1.contains(z)) << label << " fork result " << z;
      }
    }
  }
}

TEST(ScalarSoundness, Alu64) {
  for (uint8_t o : {op::ADD, op::SUB, op::MUL, op::DIV, op::OR, op::AND, op::LSH, op::RSH, op::NEG,
                    op::MOD, op::XOR, op::MOV, op::ARSH})
    check_alu(o, false);
  check_alu(op::DIV, false, true);
  check_alu(op::MOD, false, true);
}

TEST(ScalarSoundness, Alu32) {
  for (uint8_t o : {op::ADD, op::SUB, op::MUL, op::DIV, op::OR, op::AND, op::LSH, op::RSH, op::NEG,
                    op::MOD, op::XOR, op::MOV, op::ARSH})
    check_alu(o, true);
  check_alu(op::DIV, true, true);
  check_alu(op::MOD, true, true);
}

TEST(ScalarSoundness, SignExtendEndianTruncateLoad) {
  Gen g(0x5e);
  for (int i = 0; i < kValues * 4; ++i) {
    Sampled x = g.make();
    for (int from : {8, 16, 32}) {
      for (bool to32 : {false, true}) {
        if (to32 && from == 32) continue;
        Scalar r = Scalar::sign_extend(x.a, from, to32);
        for (uint64_t v : x.xs) {
          auto s = static_cast<uint64_t>(sext(v, from));
          uint64_t z = to32 ? zext32(s) : s;
          ASSERT_TRUE(r.contains(z)) << "movsx" << from << (to32 ? "/32 " : "/64 ") << x.a.str() << " v=" << v
                                     << " r=" << r.str();
        }
      }
    }
    for (int bits : {16, 32, 64}) {
      for (bool swap : {false, true}) {
        Scalar r = Scalar::endian(x.a, bits, swap);
        for (uint64_t v : x.xs) {
          uint64_t z = bits == 16   ? (swap ? __builtin_bswap16(static_cast<uint16_t>(v)) : low(v, 2))
                       : bits == 32 ? (swap ? __builtin_bswap32(static_cast<uint32_t>(v)) : low(v, 4))
                                    : (swap ? __builtin_bswap64(v) : v);
          ASSERT_TRUE(r.contains(z)) << "end" << bits << (swap ? " swap " : " ") << x.a.str() << " v=" << v
                                     << " r=" << r.str();
        }
      }
    }
    for (int bytes : {1, 2, 4, 8}) {
      for (bool sign : {false, true}) {
        Scalar r = x.a.truncate(bytes, sign);
        Scalar load = Scalar::from_load(bytes, sign);
        for (uint64_t v : x.xs) {
          uint64_t z = sign ? static_cast<uint64_t>(sext(v, bytes * 8)) : low(v, bytes);
          ASSERT_TRUE(r.contains(z)) << "truncate" << bytes << sign << " " << x.a.str() << " v=" << v
                                     << " r=" << r.str();
          ASSERT_TRUE(load.contains(z)) << "load" << bytes << sign << " " << load.str();
        }
      }
    }
  }
}

TEST(ScalarSoundness, JoinAndSubsumes) {
  Gen g(0x10);
  for (int i = 0; i < kValues * 4; ++i) {
    Sampled x = g.make(), y = g.make();
    Scalar j = x.a.join(y.a);
    for (uint64_t v : x.xs) ASSERT_TRUE(j.contains(v)) << j.str();
    for (uint64_t v : y.xs) ASSERT_TRUE(j.contains(v)) << j.str();
    // subsumes implies membership carries over.
    if (x.a.subsumes(y.a)) {
      for (uint64_t v : y.xs) ASSERT_TRUE(x.a.contains(v));
    }
    EXPECT_TRUE(j.subsumes(j));
    EXPECT_TRUE(Scalar::unknown().subsumes(x.a));
  }
}

const uint8_t kJumps[] = {op::JEQ, op::JNE,  op::JSET, op::JGT,  op::JGE, op::JLT,
                          op::JLE, op::JSGT, op::JSGE, op::JSLT, op::JSLE};

// A second operand: often a constant (the K form), often near the first's
// members so that both outcomes are common.
Sampled second_operand(Gen& g, const Sampled& x) {
  switch (g.below(4)) {
    case 0: {
      uint64_t k = x.xs[g.below(x.xs.size())] + g.below(5) - 2;
      return {Scalar::constant(k), {k}};
    }
    case 1: {
      uint64_t k = g.value();
      return {Scalar::constant(k), {k}};
    }
    default:
      return g.make();
  }
}

void check_branch(uint8_t jmp_op, bool is32) {
  Gen g(0xb4a + jmp_op + is32);
  for (int i = 0; i < kValues * 2; ++i) {
    Sampled x = g.make();
    Sampled y = second_operand(g, x);
    int pred = branch_taken(x.a, y.a, jmp_op, is32);
    for (bool taken : {true, false}) {
      Scalar a = x.a, b = y.a;
      bool live = refine_branch(a, b, jmp_op, is32, taken);
      for (uint64_t u : x.xs)
        for (uint64_t v : y.xs) {
          bool c = concrete_cond(jmp_op, u, v, is32);
          if (pred >= 0) {
            ASSERT_EQ(c, pred == 1) << "branch_taken " << int(jmp_op >> 4) << (is32 ? "/32 " : " ")
                                    << x.a.str() << " vs " << y.a.str() << " u=" << u << " v=" << v;
          }
          if (c != taken) continue;
          ASSERT_TRUE(live) << "live side reported dead: op " << int(jmp_op >> 4) << (is32 ? "/32 " : " ")
                            << taken << " " << x.a.str() << " vs " << y.a.str() << " u=" << u << " v=" << v;
          ASSERT_TRUE(a.contains(u) && b.contains(v))
              << "refine op " << int(jmp_op >> 4) << (is32 ? "/32 " : " ") << "taken=" << taken << " "
              << x.a.str() << " vs " << y.a.str() << " u=" << u << " v=" << v << " -> " << a.str() << " / "
              << b.str();
        }
    }
    // One register compared with itself (the same object on both sides).
    Scalar& self = x.a;
    int same = branch_taken(self, self, jmp_op, is32);
    for (uint64_t u : x.xs) {
      if (same >= 0) {
        ASSERT_EQ(concrete_cond(jmp_op, u, u, is32), same == 1) << "self " << int(jmp_op >> 4);
      }
    }
  }
}

TEST(ScalarSoundness, Branches64) {
  for (uint8_t j : kJumps) check_branch(j, false);
}

TEST(ScalarSoundness, Branches32) {
  for (uint8_t j : kJumps) check_branch(j, true);
}

// ---- precision pinned to the kernel -------------------------------------------------

Scalar masked(uint64_t mask) { return Scalar::alu(op::AND, Scalar::unknown(), Scalar::constant(mask), false); }

TEST(ScalarPrecision, ConstantsFold) {
  Gen g(0xc0);
  for (int i = 0; i < 3000; ++i) {
    uint64_t x = g.value(), y = g.value();
    bool alu32 = g.below(2);
    for (uint8_t o : {op::ADD, op::SUB, op::MUL, op::OR, op::AND, op::XOR, op::MOV, op::NEG}) {
      Scalar r = Scalar::alu(o, Scalar::constant(x), Scalar::constant(y), alu32);
      ASSERT_TRUE(r.is_const()) << int(o >> 4);
      ASSERT_EQ(r, Scalar::constant(concrete_alu(o, x, y, alu32, false))) << int(o >> 4);
    }
    for (uint8_t o : {op::LSH, op::RSH, op::ARSH}) {
      uint64_t sh = y % (alu32 ? 32 : 64);
      Scalar r = Scalar::alu(o, Scalar::constant(x), Scalar::constant(sh), alu32);
      ASSERT_EQ(r, Scalar::constant(concrete_alu(o, x, sh, alu32, false))) << int(o >> 4);
    }
    EXPECT_EQ(Scalar::sign_extend(Scalar::constant(x), 8, false), Scalar::constant(sext(x, 8)));
    EXPECT_EQ(Scalar::endian(Scalar::constant(x), 16, true),
              Scalar::constant(__builtin_bswap16(static_cast<uint16_t>(x))));
    EXPECT_EQ(Scalar::constant(x).truncate(2, false), Scalar::constant(low(x, 2)));
  }
}

TEST(ScalarPrecision, TextbookBounds) {
  Scalar r = Scalar::alu(op::AND, Scalar::urange(0, 255), Scalar::constant(0xf), false);
  EXPECT_EQ(r.umax, 15u);
  r = Scalar::alu(op::LSH, masked(0xff), Scalar::constant(2), false);
  EXPECT_EQ(r.umax, 1020u);
  EXPECT_EQ(r.var_off, (Tnum{0, 0x3fc}));
  r = Scalar::alu(op::ADD, Scalar::urange(0, 10), Scalar::constant(5), false);
  EXPECT_EQ(r.umin, 5u);
  EXPECT_EQ(r.umax, 15u);
  EXPECT_EQ(r.smin, 5);
  EXPECT_EQ(r.smax, 15);

  Scalar x = Scalar::unknown(), k = Scalar::constant(10);
  ASSERT_TRUE(refine_branch(x, k, op::JLT, false, true));
  EXPECT_EQ(x.umax, 9u);
  EXPECT_EQ(x.smin, 0);
  x = Scalar::unknown();
  ASSERT_TRUE(refine_branch(x, k, op::JLT, false, false));
  EXPECT_EQ(x.umin, 10u);

  x = Scalar::unknown();
  k = Scalar::constant(5);
  ASSERT_TRUE(refine_branch(x, k, op::JSGT, false, true));
  EXPECT_EQ(x.smin, 6);
  EXPECT_EQ(x.umin, 6u);
  EXPECT_EQ(x.smax, INT64_MAX);
  x = Scalar::unknown();
  ASSERT_TRUE(refine_branch(x, k, op::JSGT, false, false));
  EXPECT_EQ(x.smax, 5);

  // 32-bit compare: only the subregister learns directly.
  x = Scalar::unknown();
  k = Scalar::constant(100);
  ASSERT_TRUE(refine_branch(x, k, op::JLE, true, true));
  EXPECT_EQ(x.u32_max, 100u);
  EXPECT_EQ(x.umax, 0xffffffff00000064u);  // __reg_deduce_mixed_bounds

  // A 32-bit result has a zero upper half.
  r = Scalar::alu(op::ADD, Scalar::unknown(), Scalar::unknown(), true);
  EXPECT_EQ(r.umax, 0xffffffffu);
  EXPECT_EQ(r.var_off, (Tnum{0, 0xffffffff}));
  EXPECT_GE(r.smin, 0);
  r = Scalar::alu(op::MOV, Scalar::unknown(), Scalar::constant(-1), true);
  EXPECT_EQ(r, Scalar::constant(0xffffffff));

  // A constant tnum fixes every bound.
  Scalar c;
  c.var_off = Tnum::constant(0xfffffffffffffff0);
  c.sync();
  EXPECT_EQ(c, Scalar::constant(0xfffffffffffffff0));
  EXPECT_EQ(c.smin, -16);
  EXPECT_EQ(c.s32_max, -16);
}

TEST(ScalarPrecision, BranchTakenDecisions) {
  EXPECT_EQ(branch_taken(Scalar::urange(0, 9), Scalar::constant(10), op::JLT, false), 1);
  EXPECT_EQ(branch_taken(Scalar::urange(0, 10), Scalar::constant(10), op::JLT, false), -1);
  EXPECT_EQ(branch_taken(Scalar::urange(11, 20), Scalar::constant(10), op::JLE, false), 0);
  EXPECT_EQ(branch_taken(Scalar::srange(-5, -1), Scalar::constant(0), op::JSLT, false), 1);
  // Unsigned view of the same: huge values.
  EXPECT_EQ(branch_taken(Scalar::srange(-5, -1), Scalar::constant(0), op::JGT, false), 1);
  // JEQ ruled out by the tnum alone: x & 0xf0 | 1 is never 2.
  Scalar odd = Scalar::alu(op::OR, masked(0xf0), Scalar::constant(1), false);
  EXPECT_EQ(branch_taken(odd, Scalar::constant(2), op::JEQ, false), 0);
  EXPECT_EQ(branch_taken(odd, Scalar::constant(2), op::JNE, false), 1);
  EXPECT_EQ(branch_taken(masked(0xf0), Scalar::constant(0x10), op::JEQ, false), -1);
  // JSET on known bits.
  EXPECT_EQ(branch_taken(odd, Scalar::constant(1), op::JSET, false), 1);
  EXPECT_EQ(branch_taken(odd, Scalar::constant(0x100), op::JSET, false), 0);
  // 32-bit compares look at the subregister only.
  EXPECT_EQ(branch_taken(Scalar::constant(0x100000005), Scalar::constant(5), op::JEQ, true), 1);
  EXPECT_EQ(branch_taken(Scalar::constant(0x100000005), Scalar::constant(5), op::JEQ, false), 0);
  // A register compared with itself.
  Scalar u = Scalar::unknown();
  EXPECT_EQ(branch_taken(u, u, op::JEQ, false), 1);
  EXPECT_EQ(branch_taken(u, u, op::JSGT, false), 0);
  EXPECT_EQ(branch_taken(u, u, op::JSET, false), -1);
  EXPECT_EQ(branch_taken(u, Scalar::unknown(), op::JEQ, false), -1);
  Scalar a = Scalar::urange(0, 5), b = Scalar::constant(10);
  EXPECT_FALSE(refine_branch(a, b, op::JLT, false, false));  // dead
  EXPECT_TRUE(refine_branch(a, b, op::JLT, false, true));
  EXPECT_EQ(a, Scalar::urange(0, 5));  // a decided branch is followed unrefined
}

// Register states the 6.18 kernel logs for the same instructions (socket
// filter, r = bpf_get_prandom_u32() then the operations shown).
TEST(ScalarPrecision, KernelLogStates) {
  Scalar r = masked(0xff);
  EXPECT_EQ(r.str(), "smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)");
  EXPECT_EQ(Scalar::alu(op::NEG, r, r, false).str(), "smin=smin32=-255,smax=smax32=0");
  EXPECT_EQ(Scalar::alu(op::DIV, Scalar::constant(100), Scalar::constant(7), false).str(), "");
  EXPECT_EQ(Scalar::alu(op::MOD, r, Scalar::constant(10), false).str(), "");
  EXPECT_TRUE(Scalar::alu(op::DIV, Scalar::unknown(), Scalar::constant(3), true).is_unknown());
  // Shifts by an unknown amount are not tracked at all.
  EXPECT_TRUE(Scalar::alu(op::LSH, r, masked(3), false).is_unknown());

  EXPECT_EQ(Scalar::endian(masked(0xfff), 16, true).str(),
            "smin=smin32=0,smax=umax=smax32=umax32=0xff0f,var_off=(0x0; 0xff0f)");
  EXPECT_EQ(Scalar::endian(Scalar::unknown(), 16, false).str(),
            "smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff)");
  EXPECT_EQ(Scalar::endian(masked(0xfff0f), 64, true).str(),
            "smin=smin32=0,smax=umax=0xfff0f0000000000,smax32=umax32=0,var_off=(0x0; 0xfff0f0000000000)");
  EXPECT_EQ(Scalar::endian(masked(0xfff0f), 16, true).str(),
            "smin=smin32=0,smax=umax=smax32=umax32=4095,var_off=(0x0; 0xfff)");

  Scalar r3 = Scalar::alu(op::OR, masked(0xf), Scalar::constant(128), false);
  EXPECT_EQ(r3.str(), "smin=umin=smin32=umin32=128,smax=umax=smax32=umax32=143,var_off=(0x80; 0xf)");
  EXPECT_EQ(Scalar::sign_extend(r3, 8, false).str(),
            "smin=smin32=-128,smax=smax32=-113,umin=0xffffffffffffff80,umax=0xffffffffffffff8f,"
            "umin32=0xffffff80,umax32=0xffffff8f,var_off=(0xffffffffffffff80; 0xf)");
  EXPECT_EQ(Scalar::sign_extend(r3, 8, true).str(),
            "smin=umin=umin32=0xffffff80,smax=umax=umax32=0xffffff8f,smin32=-128,smax32=-113,"
            "var_off=(0xffffff80; 0xf)");
  // 6.18 sign-extends a non-constant range only when its upper bits agree.
  Scalar r6 = Scalar::alu(op::OR, masked(0x300), Scalar::constant(5), false);
  EXPECT_EQ(Scalar::sign_extend(r6, 8, false).str(), "smin=smin32=-128,smax=smax32=127");
  EXPECT_EQ(Scalar::sign_extend(r6, 8, true).str(),
            "smin=0,smax=umax=0xffffffff,smin32=-128,smax32=127,var_off=(0x0; 0xffffffff)");
  Scalar r9 = Scalar::alu(op::OR, masked(0x3ff), Scalar::constant(0x80), false);
  EXPECT_EQ(Scalar::sign_extend(r9, 32, false).str(),
            "smin=umin=smin32=umin32=128,smax=umax=smax32=umax32=1023,var_off=(0x0; 0x3ff)");

  // s32 >= 0 on a sign-extended 32-bit value pins the whole register.
  Scalar sx = Scalar::sign_extend(Scalar::unknown(), 32, false);
  EXPECT_EQ(sx.str(), "smin=0xffffffff80000000,smax=0x7fffffff");
  Scalar zero = Scalar::constant(0);
  ASSERT_TRUE(refine_branch(sx, zero, op::JSLT, true, false));
  EXPECT_EQ(sx.str(), "smin=smin32=0,smax=umax=umax32=0x7fffffff,var_off=(0x0; 0x7fffffff)");

  // A u64 range meeting one end of a sign-crossing s64 range.
  Scalar x = Scalar::srange(-10, 100);
  Scalar k = Scalar::constant(5);
  ASSERT_TRUE(refine_branch(x, k, op::JLT, false, false));
  Scalar big = Scalar::constant(0x8000000000000005);
  ASSERT_TRUE(refine_branch(x, big, op::JGT, false, false));
  EXPECT_EQ(x.str(), "smin=umin=smin32=umin32=5,smax=umax=smax32=umax32=100,var_off=(0x0; 0x7f)");

  // The false side of JSET forgets the ranges before masking the tnum.
  Scalar y = Scalar::unknown(), c200 = Scalar::constant(200), one = Scalar::constant(1);
  ASSERT_TRUE(refine_branch(y, c200, op::JGT, false, false));
  Scalar yt = y;
  ASSERT_TRUE(refine_branch(y, one, op::JSET, false, false));
  EXPECT_EQ(y.str(), "smin=smin32=0,smax=umax=smax32=umax32=254,var_off=(0x0; 0xfe)");
  ASSERT_TRUE(refine_branch(yt, one, op::JSET, false, true));
  EXPECT_EQ(yt.str(), "smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=200,var_off=(0x1; 0xfe)");

  // The u64 range and the tnum sharing one value make a constant.
  Scalar w = masked(0x8000000);
  Scalar lo = Scalar::constant(1);
  ASSERT_TRUE(refine_branch(w, lo, op::JGE, false, true));
  EXPECT_EQ(w.str(), "0x8000000");

  // A contradiction branch_taken misses: explored with the bounds forgotten.
  Scalar d = masked(0x30), c10 = Scalar::constant(0x10), c20 = Scalar::constant(0x20);
  ASSERT_TRUE(refine_branch(d, c10, op::JLE, false, false));
  EXPECT_EQ(d.str(), "smin=umin=smin32=umin32=17,smax=umax=smax32=umax32=48,var_off=(0x0; 0x30)");
  EXPECT_TRUE(refine_branch(d, c20, op::JGE, false, false));
  EXPECT_EQ(d.str(), "16");  // what the kernel's sync makes of the empty range

  // (x & 2 | 1) * 3 with 6.18's tnum_mul.
  Scalar m = Scalar::alu(op::OR, masked(2), Scalar::constant(1), false);
  EXPECT_EQ(Scalar::alu(op::MUL, m, Scalar::constant(3), false).str(),
            "smin=umin=smin32=umin32=3,smax=umax=smax32=umax32=9,var_off=(0x1; 0xa)");
  // Signed add overflowing on one side loses the signed range only.
  Scalar s = Scalar::alu(op::SUB, masked(0xff), Scalar::constant(0x80), false);
  EXPECT_EQ(s.str(), "smin=smin32=-128,smax=smax32=127");
  EXPECT_EQ(Scalar::alu(op::ADD, s, Scalar::constant(127), false).str(), "smin=smin32=-1,smax=smax32=254");
}

TEST(ScalarPrecision, ForkOnMinusOneOrZero) {
  Scalar x = Scalar::alu(op::ARSH, Scalar::unknown(), Scalar::constant(63), false);
  EXPECT_EQ(x.str(), "smin=smin32=-1,smax=smax32=0");
  Scalar zero, minus_one;
  ASSERT_TRUE(alu_fork(op::AND, x, Scalar::constant(5), zero, minus_one));
  EXPECT_EQ(Scalar::alu(op::AND, zero, Scalar::constant(5), false), Scalar::constant(0));
  EXPECT_EQ(Scalar::alu(op::AND, minus_one, Scalar::constant(5), false), Scalar::constant(5));
  EXPECT_FALSE(alu_fork(op::XOR, x, Scalar::constant(5), zero, minus_one));
  EXPECT_FALSE(alu_fork(op::AND, x, Scalar::unknown(), zero, minus_one));
}

TEST(ScalarPrecision, PrintsLikeTheKernelLog) {
  EXPECT_EQ(Scalar::unknown().str(), "");
  EXPECT_EQ(Scalar::constant(5).str(), "5");
  EXPECT_EQ(Scalar::constant(-955).str(), "-955");
  EXPECT_EQ(Scalar::constant(0x8000000000000005).str(), "0x8000000000000005");
  EXPECT_EQ(Scalar::urange(0, 0xffffffff).str(), "smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)");
  EXPECT_TRUE(Scalar::unknown().is_unknown());
  EXPECT_FALSE(Scalar::urange(0, 1).is_unknown());
}

}  // namespace
}  // namespace userbpf::verifier
