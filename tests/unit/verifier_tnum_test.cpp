// Tnum: every operation must contain the concrete result for every pair of
// members (soundness, randomised with a fixed seed), and a few results are pinned
// to what the kernel's tnum.c computes.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "verifier/tnum.h"

namespace userbpf::verifier {
namespace {

constexpr int kTnums = 2000;  // random tnum pairs per operation
constexpr int kMembers = 6;   // members drawn from each

class TnumGen {
 public:
  explicit TnumGen(uint64_t seed) : rng_(seed) {}

  uint64_t bits() { return rng_(); }
  uint64_t below(uint64_t n) { return rng_() % n; }

  // Mostly few unknown bits (where precision matters), some constants, some
  // unknown and some dense masks; values from edges and the whole range.
  Tnum tnum() {
    switch (below(8)) {
      case 0: return Tnum::constant(value());
      case 1: return Tnum::unknown();
      case 2: {
        uint64_t m = bits() & bits();
        return {value() & ~m, m};
      }
      case 3: {  // a contiguous run of unknown low bits
        uint64_t m = (uint64_t{1} << below(64)) - 1;
        return {value() & ~m, m};
      }
      default: {
        uint64_t m = 0;
        for (uint64_t n = below(7); n; --n) m |= uint64_t{1} << below(64);
        if (below(2)) m &= 0xffff;
        return {value() & ~m, m};
      }
    }
  }

  uint64_t value() {
    static const uint64_t edges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000,
                                     0xffffffff, 0x100000000, uint64_t{1} << 63, ~uint64_t{0},
                                     ~uint64_t{0} - 1, (uint64_t{1} << 63) - 1};
    switch (below(4)) {
      case 0: return edges[below(std::size(edges))];
      case 1: return below(1024);
      case 2: return -below(1024);
      default: return bits();
    }
  }

  // A random member: the known bits plus any choice of the unknown ones.
  uint64_t member(const Tnum& t) {
    if (below(8) == 0) return t.value;
    if (below(8) == 0) return t.value | t.mask;
    return t.value | (bits() & t.mask);
  }

 private:
  std::mt19937_64 rng_;
};

using BinOp = std::function<Tnum(const Tnum&, const Tnum&)>;
using Concrete = std::function<uint64_t(uint64_t, uint64_t)>;

void check_binary(const char* name, const BinOp& abstract, const Concrete& concrete,
                  const std::function<Tnum(TnumGen&)>& second = nullptr) {
  TnumGen g(0x7e57 + std::hash<std::string>{}(name));
  for (int i = 0; i < kTnums; ++i) {
    Tnum a = g.tnum();
    Tnum b = second ? second(g) : g.tnum();
    Tnum r = abstract(a, b);
    ASSERT_EQ(r.value & r.mask, 0u) << name << " result not canonical";
    for (int j = 0; j < kMembers; ++j) {
      uint64_t x = g.member(a);
      for (int k = 0; k < kMembers; ++k) {
        uint64_t y = g.member(b);
        uint64_t z = concrete(x, y);
        ASSERT_TRUE(r.contains(z)) << name << " a=" << a.str() << " b=" << b.str() << " x=" << x
                                   << " y=" << y << " z=" << z << " r=" << r.str();
      }
    }
  }
}

Tnum shift_amount(TnumGen& g) { return Tnum::constant(g.below(64)); }

TEST(TnumSoundness, Arithmetic) {
  check_binary("add", [](auto& a, auto& b) { return a.add(b); }, std::plus<uint64_t>());
  check_binary("sub", [](auto& a, auto& b) { return a.sub(b); }, std::minus<uint64_t>());
  check_binary("mul", [](auto& a, auto& b) { return a.mul(b); }, std::multiplies<uint64_t>());
  check_binary("and", [](auto& a, auto& b) { return a.and_(b); }, std::bit_and<uint64_t>());
  check_binary("or", [](auto& a, auto& b) { return a.or_(b); }, std::bit_or<uint64_t>());
  check_binary("xor", [](auto& a, auto& b) { return a.xor_(b); }, std::bit_xor<uint64_t>());
  check_binary("neg", [](auto& a, auto&) { return a.neg(); }, [](uint64_t x, uint64_t) { return -x; });
}

TEST(TnumSoundness, Shifts) {
  check_binary("lsh", [](auto& a, auto& b) { return a.lshift(b.value); },
               [](uint64_t x, uint64_t s) { return x << s; }, shift_amount);
  check_binary("rsh", [](auto& a, auto& b) { return a.rshift(b.value); },
               [](uint64_t x, uint64_t s) { return x >> s; }, shift_amount);
  check_binary("arsh64", [](auto& a, auto& b) { return a.arshift(b.value, 64); },
               [](uint64_t x, uint64_t s) { return static_cast<uint64_t>(static_cast<int64_t>(x) >> s); },
               shift_amount);
  check_binary(
      "arsh32", [](auto& a, auto& b) { return a.arshift(b.value & 31, 32); },
      [](uint64_t x, uint64_t s) {
        return uint64_t{static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(x)) >> (s & 31))};
      },
      shift_amount);
}

TEST(TnumSoundness, CastsAndSubregisters) {
  for (uint8_t bytes : {1, 2, 4, 8}) {
    check_binary(("cast" + std::to_string(bytes)).c_str(), [bytes](auto& a, auto&) { return a.cast(bytes); },
                 [bytes](uint64_t x, uint64_t) { return bytes == 8 ? x : x & ((uint64_t{1} << (bytes * 8)) - 1); });
  }
  check_binary("subreg", [](auto& a, auto&) { return a.subreg(); }, [](uint64_t x, uint64_t) { return x & 0xffffffff; });
  check_binary("clear_subreg", [](auto& a, auto&) { return a.clear_subreg(); },
               [](uint64_t x, uint64_t) { return x & ~uint64_t{0xffffffff}; });
  check_binary("with_subreg", [](auto& a, auto& b) { return a.with_subreg(b); },
               [](uint64_t x, uint64_t y) { return (x & ~uint64_t{0xffffffff}) | (y & 0xffffffff); });
  check_binary("const_subreg", [](auto& a, auto& b) { return a.const_subreg(static_cast<uint32_t>(b.value)); },
               [](uint64_t x, uint64_t y) { return (x & ~uint64_t{0xffffffff}) | (y & 0xffffffff); },
               [](TnumGen& g) { return Tnum::constant(g.bits()); });
  check_binary("bswap16", [](auto& a, auto&) { return a.bswap(16); },
               [](uint64_t x, uint64_t) { return uint64_t{__builtin_bswap16(static_cast<uint16_t>(x))}; });
  check_binary("bswap32", [](auto& a, auto&) { return a.bswap(32); },
               [](uint64_t x, uint64_t) { return uint64_t{__builtin_bswap32(static_cast<uint32_t>(x))}; });
  check_binary("bswap64", [](auto& a, auto&) { return a.bswap(64); },
               [](uint64_t x, uint64_t) { return __builtin_bswap64(x); });
}

TEST(TnumSoundness, JoinHoldsBothSides) {
  TnumGen g(11);
  for (int i = 0; i < kTnums * kMembers; ++i) {
    Tnum a = g.tnum(), b = g.tnum();
    Tnum j = a.join(b);
    EXPECT_TRUE(j.subsumes(a) && j.subsumes(b)) << a.str() << " " << b.str() << " -> " << j.str();
    uint64_t x = g.member(a), y = g.member(b);
    ASSERT_TRUE(j.contains(x) && j.contains(y));
  }
}

TEST(TnumSoundness, IntersectOverlapsSubsumes) {
  TnumGen g(12);
  for (int i = 0; i < kTnums * kMembers; ++i) {
    // Two tnums around a common member x.
    uint64_t x = g.value();
    uint64_t m1 = g.tnum().mask, m2 = g.tnum().mask;
    Tnum a{x & ~m1, m1}, b{x & ~m2, m2};
    ASSERT_TRUE(a.overlaps(b));
    Tnum n = a.intersect(b);
    ASSERT_TRUE(n.contains(x)) << a.str() << " " << b.str();
    ASSERT_TRUE(a.subsumes(n) && b.subsumes(n));
    // Any member of the intersection is a member of both.
    uint64_t y = g.member(n);
    ASSERT_TRUE(a.contains(y) && b.contains(y));
    // No overlap means no common member.
    Tnum c = g.tnum(), d = g.tnum();
    if (!c.overlaps(d)) {
      uint64_t z = g.member(c);
      ASSERT_FALSE(d.contains(z)) << c.str() << " " << d.str();
    }
    // subsumes agrees with membership.
    if (c.subsumes(d)) {
      ASSERT_TRUE(c.contains(g.member(d)));
    }
  }
}

TEST(TnumSoundness, RangeHoldsEveryValue) {
  TnumGen g(13);
  for (int i = 0; i < kTnums * kMembers; ++i) {
    uint64_t lo = g.value(), hi = g.value();
    if (lo > hi) std::swap(lo, hi);
    Tnum t = Tnum::range(lo, hi);
    ASSERT_TRUE(t.contains(lo) && t.contains(hi)) << lo << " " << hi << " " << t.str();
    uint64_t mid = lo + (hi - lo == ~uint64_t{0} ? g.bits() : g.below(hi - lo + 1));
    ASSERT_TRUE(t.contains(mid));
  }
}

// tnum_step against brute force on tnums with few unknown bits.
TEST(TnumSoundness, StepIsTheNextMember) {
  TnumGen g(14);
  for (int i = 0; i < 3000; ++i) {
    uint64_t m = 0;
    for (uint64_t n = 1 + g.below(5); n; --n) m |= uint64_t{1} << g.below(g.below(2) ? 12 : 64);
    Tnum t{g.value() & ~m, m};
    uint64_t z = g.below(2) ? g.member(t) + g.below(3) - 1 : t.value + g.below(t.mask + 1);
    uint64_t want = t.umax();
    if (z < t.value) {
      want = t.value;
    } else if (z < t.umax()) {
      for (uint64_t s = m;; s = (s - 1) & m) {  // every submask, largest first
        if ((t.value | s) > z) want = std::min(want, t.value | s);
        if (s == 0) break;
      }
    }
    ASSERT_EQ(t.step(z), want) << t.str() << " z=" << z;
  }
}

TEST(TnumSoundness, ConstantsFoldExactly) {
  TnumGen g(15);
  for (int i = 0; i < 2000; ++i) {
    uint64_t x = g.value(), y = g.value();
    Tnum a = Tnum::constant(x), b = Tnum::constant(y);
    EXPECT_EQ(a.add(b), Tnum::constant(x + y));
    EXPECT_EQ(a.sub(b), Tnum::constant(x - y));
    EXPECT_EQ(a.mul(b), Tnum::constant(x * y));
    EXPECT_EQ(a.and_(b), Tnum::constant(x & y));
    EXPECT_EQ(a.or_(b), Tnum::constant(x | y));
    EXPECT_EQ(a.xor_(b), Tnum::constant(x ^ y));
    EXPECT_EQ(a.neg(), Tnum::constant(-x));
    EXPECT_EQ(a.lshift(y & 63), Tnum::constant(x << (y & 63)));
    EXPECT_EQ(a.rshift(y & 63), Tnum::constant(x >> (y & 63)));
    EXPECT_EQ(a.join(a), a);
  }
}

// Results the kernel's tnum.c gives (checked against the 6.18 verifier log).
TEST(TnumPrecision, KernelResults) {
  EXPECT_EQ(Tnum::range(0, 255), (Tnum{0, 0xff}));
  EXPECT_EQ(Tnum::range(5, 5), Tnum::constant(5));
  EXPECT_EQ(Tnum::range(0, ~uint64_t{0}), Tnum::unknown());
  EXPECT_EQ(Tnum::range(17, 31), (Tnum{0x10, 0xf}));
  // 6.18's tnum_mul: {1,3} * 3 = (0x1; 0xa); the older hma algorithm said (0x1; 0xe).
  EXPECT_EQ((Tnum{1, 2}).mul(Tnum::constant(3)), (Tnum{1, 0xa}));
  EXPECT_EQ((Tnum{0, 5}).mul(Tnum{4, 3}), (Tnum{0, 0x3f}));
  EXPECT_EQ((Tnum{0, 0xff}).lshift(2), (Tnum{0, 0x3fc}));
  EXPECT_EQ((Tnum{0, 0xff}).neg(), Tnum::unknown());
  EXPECT_EQ((Tnum{0, 0xfff}).bswap(16), (Tnum{0, 0xff0f}));
  EXPECT_EQ((Tnum{0, 0xfff0f}).bswap(32), (Tnum{0, 0xfff0f00}));
  EXPECT_EQ((Tnum{0, 0xfff0f}).bswap(64), (Tnum{0, 0x0fff0f0000000000}));
  EXPECT_EQ((Tnum{0x80000000, 0x7f}).arshift(4, 32), (Tnum{0xf8000000, 0x7}));
  EXPECT_EQ(Tnum::unknown().arshift(63, 64), Tnum::unknown());
  EXPECT_EQ((Tnum{0, 0x8000000}).step(1), 0x8000000u);
  EXPECT_EQ((Tnum{0, 0x30}).step(0x10), 0x20u);
  EXPECT_TRUE((Tnum{0, 0xf0}).overlaps(Tnum::constant(0x10)));
  EXPECT_FALSE((Tnum{1, 0xf0}).overlaps(Tnum::constant(2)));
  EXPECT_EQ((Tnum{0, 0xff}).str(), "(0x0; 0xff)");
  EXPECT_EQ(Tnum::constant(0xffffffff80000000).str(), "(0xffffffff80000000; 0x0)");
}

}  // namespace
}  // namespace userbpf::verifier
