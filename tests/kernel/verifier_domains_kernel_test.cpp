// The scalar domain against the running kernel's verifier: random straight-line
// ALU programs and single conditional jumps are loaded with a level-2 log, and
// every register state the kernel prints must be the one Scalar computes for the
// same instructions, printed the same way (Scalar::str()).  This pins the
// domain's precision to the kernel's (6.18 stable); skipped when this process
// cannot load BPF programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "userbpf/isa.h"
#include "verifier/scalar.h"

namespace userbpf::testing {
namespace {

using isa::Insn;
using verifier::Scalar;
namespace op = isa::op;

constexpr int32_t kGetPrandomU32 = 7;
constexpr int kPrograms = 1500;  // per test; the kernel verifies ~4000 a second
const uint8_t kJumps[] = {op::JEQ, op::JNE, op::JSET, op::JGT, op::JGE, op::JLT,
                          op::JLE, op::JSGT, op::JSGE, op::JSLT, op::JSLE};

Insn insn(uint8_t code, int dst, int src, int16_t off, int32_t imm) {
  Insn i;
  i.opcode = code;
  i.dst = static_cast<uint8_t>(dst) & 0xf;
  i.src = static_cast<uint8_t>(src) & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

Scalar k_operand(int32_t imm) { return Scalar::constant(static_cast<uint64_t>(static_cast<int64_t>(imm))); }

// What the log says of each register: "R6=scalar(id=1,smin=...)" -> "smin=..."
// (ids and precision marks dropped), constants and other values as printed.
std::map<int, std::string> parse_regs(const std::string& s) {
  std::map<int, std::string> out;
  size_t i = 0;
  while ((i = s.find('R', i)) != std::string::npos) {
    size_t j = i + 1;
    int reg = -1;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) reg = (reg < 0 ? 0 : reg * 10) + (s[j++] - '0');
    while (j < s.size() && s[j] != '=' && s[j] != ' ') ++j;
    if (reg < 0 || j >= s.size() || s[j] != '=') {
      i = j;
      continue;
    }
    if (s[++j] == 'P') ++j;
    if (s.compare(j, 7, "scalar(") == 0) {
      size_t k = j + 6;
      for (int depth = 0; k < s.size(); ++k) {
        if (s[k] == '(') ++depth;
        if (s[k] == ')' && --depth == 0) break;
      }
      std::string inner = s.substr(j + 7, k - j - 7), fields;
      for (size_t p = 0; p <= inner.size();) {
        size_t c = std::min(inner.find(',', p), inner.size());
        std::string f = inner.substr(p, c - p);
        if (!f.empty() && f.rfind("id=", 0) != 0) fields += (fields.empty() ? "" : ",") + f;
        p = c + 1;
      }
      out[reg] = fields;
      j = k + 1;
    } else {
      size_t k = s.find(' ', j);
      out[reg] = s.substr(j, k == std::string::npos ? std::string::npos : k - j);
      j = k == std::string::npos ? s.size() : k;
    }
    i = j;
  }
  return out;
}

// The states printed after instruction `idx` on the first path through it.
std::map<int, std::string> states_after(const std::string& log, int idx, bool* seen) {
  std::string head = "\n" + std::to_string(idx) + ": (";
  size_t p = log.find(head);
  *seen = p != std::string::npos;
  if (!*seen) return {};
  std::string line = log.substr(p + 1, log.find('\n', p + 1) - p - 1);
  size_t semi = line.find(" ; ");
  if (semi != std::string::npos) return parse_regs(line.substr(semi + 3));
  // After a "verifier bug" message the state follows on an "N: R.." line.
  size_t q = log.find("\n" + std::to_string(idx) + ": R", p + 1);
  if (q == std::string::npos) return {};
  return parse_regs(log.substr(q + 1, log.find('\n', q + 1) - q - 1));
}

struct Expect {
  int idx;
  int reg;
  Scalar val;
};

// A random program over r6..r9 and, in step, what Scalar says of each result.
class ProgramGen {
 public:
  explicit ProgramGen(uint64_t seed) : rng_(seed) {}

  uint64_t below(uint64_t n) { return rng_() % n; }

  int32_t imm() {
    static const int32_t masks[] = {0xff, 0xf0, 0xffff, 0x7fffffff, -1, 0xf, 0x3, 0x7f, 0x80, 0x100, -256, 0xfff0};
    switch (below(8)) {
      case 0: return static_cast<int32_t>(below(41)) - 20;
      case 1: return masks[below(std::size(masks))];
      case 2: return static_cast<int32_t>(1u << below(32));
      case 3: return static_cast<int32_t>(rng_());
      case 4: return static_cast<int32_t>(below(1024));
      case 5: return -static_cast<int32_t>(below(1024));
      case 6: return INT32_MIN;
      default: return static_cast<int32_t>(below(256));
    }
  }

  // rX: a constant, or bpf_get_prandom_u32() shaped by a few ALU ops and
  // bounding jumps to the shared exit.
  void init_reg(int rx) {
    if (below(4) == 0) {
      if (below(2)) {
        int32_t v = imm();
        emit(insn(op::ALU64 | op::MOV | op::K, rx, 0, 0, v));
        regs_[rx] = k_operand(v);
      } else {
        uint64_t v = rng_() >> below(64);
        emit(insn(op::LD | op::DW | op::IMM, rx, 0, 0, static_cast<int32_t>(v)));
        emit(insn(0, 0, 0, 0, static_cast<int32_t>(v >> 32)));
        regs_[rx] = Scalar::constant(v);
      }
      return;
    }
    emit(insn(op::JMP | op::CALL, 0, 0, 0, kGetPrandomU32));
    emit(insn(op::ALU64 | op::MOV | op::X, rx, 0, 0, 0));
    regs_[rx] = Scalar::unknown();
    static const uint8_t shape[] = {op::AND, op::OR, op::ADD, op::SUB, op::LSH, op::ARSH, op::RSH, op::AND};
    for (uint64_t n = below(3); n; --n) {
      uint8_t o = shape[below(std::size(shape))];
      bool alu32 = below(4) == 0;
      bool shift = o == op::LSH || o == op::RSH || o == op::ARSH;
      alu_k(o, rx, shift ? static_cast<int32_t>(below(alu32 ? 32 : 64)) : imm(), alu32, false);
    }
    for (uint64_t n = below(3) == 0 ? 1 + below(2) : 0; n; --n) bound_jump(rx);
  }

  // "if rX op K goto exit": the fall-through keeps the refined value.
  void bound_jump(int rx) {
    uint8_t j = kJumps[below(std::size(kJumps))];
    bool is32 = below(3) == 0;
    int32_t k = imm();
    exit_jumps_.push_back(static_cast<int>(prog_.size()));
    emit(insn((is32 ? op::JMP32 : op::JMP) | j | op::K, rx, 0, 0, k));
    Scalar b = k_operand(k);
    int pred = verifier::branch_taken(regs_[rx], b, j, is32);
    if (pred == 1) dead_ = true;  // the rest is never reached
    if (pred == -1) {
      verifier::refine_branch(regs_[rx], b, j, is32, false);
      record(rx);
    }
  }

  void alu_k(uint8_t o, int dst, int32_t v, bool alu32, bool sgn) {
    emit(insn((alu32 ? op::ALU : op::ALU64) | o | op::K, dst, 0, sgn ? 1 : 0, v));
    apply(o, dst, k_operand(v), alu32, sgn);
  }

  // The kernel splits [-1, 0] & K into two states and continues with -1.
  void apply(uint8_t o, int dst, const Scalar& src, bool alu32, bool sgn) {
    Scalar in = regs_[dst], zero, minus_one;
    if (verifier::alu_fork(o, in, src, zero, minus_one)) in = minus_one;
    regs_[dst] = Scalar::alu(o, in, src, alu32, sgn);
    record(dst);
  }

  void random_op(bool allow_mov, bool mid_jumps) {
    int dst = 6 + static_cast<int>(below(4)), src = 6 + static_cast<int>(below(4));
    if (mid_jumps && below(6) == 0) return bound_jump(dst);
    bool alu32 = below(3) == 0;
    uint8_t cls = alu32 ? op::ALU : op::ALU64;
    static const uint8_t ops[] = {op::ADD, op::SUB, op::MUL, op::DIV, op::OR,   op::AND, op::LSH, op::RSH,
                                  op::NEG, op::MOD, op::XOR, op::MOV, op::ARSH, op::END, 0xff};
    uint8_t o = ops[below(std::size(ops))];
    if (!allow_mov && (o == op::MOV || o == 0xff)) o = op::ADD;  // MOVs link registers
    if (o == op::NEG) {
      emit(insn(cls | op::NEG, dst, 0, 0, 0));
      regs_[dst] = Scalar::alu(o, regs_[dst], regs_[dst], alu32);
      return record(dst);
    }
    if (o == op::END) {
      int bits = 16 << below(3), kind = static_cast<int>(below(3));  // le, be, bswap
      emit(insn(kind == 2 ? (op::ALU64 | op::END) : (op::ALU | op::END | (kind ? op::X : op::K)), dst, 0, 0, bits));
      regs_[dst] = Scalar::endian(regs_[dst], static_cast<uint8_t>(bits), kind != 0);
      return record(dst);
    }
    if (o == 0xff) {  // movsx
      int from = alu32 ? 8 << below(2) : 8 << below(3);
      emit(insn(cls | op::MOV | op::X, dst, src, static_cast<int16_t>(from), 0));
      regs_[dst] = Scalar::sign_extend(regs_[src], static_cast<uint8_t>(from), alu32);
      return record(dst);
    }
    bool sgn = (o == op::DIV || o == op::MOD) && below(2);
    if (below(2)) {
      int32_t v = imm();
      if (o == op::LSH || o == op::RSH || o == op::ARSH) v = static_cast<int32_t>(below(alu32 ? 32 : 64));
      if ((o == op::DIV || o == op::MOD) && v == 0) v = 3;
      return alu_k(o, dst, v, alu32, sgn);
    }
    emit(insn(cls | o | op::X, dst, src, sgn ? 1 : 0, 0));
    apply(o, dst, Scalar(regs_[src]), alu32, sgn);
  }

  // Appends the exits; false when the program has unreachable parts.
  bool finish() {
    if (!exit_jumps_.empty()) {
      int exit_at = static_cast<int>(prog_.size());
      emit(insn(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0));
      emit(insn(op::JMP | op::EXIT, 0, 0, 0, 0));
      for (int j : exit_jumps_) prog_[j].off = static_cast<int16_t>(exit_at - j - 1);
    }
    return !dead_;
  }

  void emit(Insn i) { prog_.push_back(i); }
  void exit_here() {
    emit(insn(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0));
    emit(insn(op::JMP | op::EXIT, 0, 0, 0, 0));
  }
  void record(int reg) { expects_.push_back({static_cast<int>(prog_.size()) - 1, reg, regs_[reg]}); }

  std::vector<Insn> prog_;
  std::vector<Expect> expects_;
  Scalar regs_[11];

 private:
  std::mt19937_64 rng_;
  std::vector<int> exit_jumps_;
  bool dead_ = false;
};

std::string verify(const std::vector<Insn>& prog) {
  KernelLoadOptions opts;
  opts.log_level = 2;
  KernelProgram p = KernelProgram::load(prog, opts);
  EXPECT_TRUE(p.loaded()) << p.verifier_log();
  return p.verifier_log();
}

TEST(VerifierDomainsKernel, AluStatesMatchTheLog) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  int checked = 0;
  for (int n = 0; n < kPrograms; ++n) {
    ProgramGen g(0xa1u + n);
    bool mid_jumps = g.below(2);
    for (int rx = 6; rx <= 9; ++rx) g.init_reg(rx);
    for (uint64_t k = 4 + g.below(12); k; --k) g.random_op(!mid_jumps, mid_jumps);
    g.exit_here();
    if (!g.finish()) continue;
    std::string log = verify(g.prog_);
    for (const Expect& e : g.expects_) {
      bool seen;
      auto st = states_after(log, e.idx, &seen);
      if (!seen) continue;  // not on the first path
      ++checked;
      ASSERT_EQ(st.count(e.reg) ? st[e.reg] : "<not printed>", e.val.str())
          << "program " << n << ", R" << e.reg << " after insn " << e.idx << "\n" << log;
    }
  }
  EXPECT_GT(checked, kPrograms);
}

TEST(VerifierDomainsKernel, BranchesMatchTheLog) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  int both = 0;
  for (int n = 0; n < kPrograms; ++n) {
    ProgramGen g(0xb7u + n);
    for (int rx = 6; rx <= 9; ++rx) g.init_reg(rx);
    for (uint64_t k = g.below(4); k; --k) g.random_op(false, false);
    uint8_t j = kJumps[g.below(std::size(kJumps))];
    bool is32 = g.below(2), x = g.below(2);
    int ra = 6 + static_cast<int>(g.below(4)), rb = 6 + (ra - 6 + 1 + static_cast<int>(g.below(3))) % 4;
    int32_t k = g.imm();
    Scalar a = g.regs_[ra], b = x ? g.regs_[rb] : k_operand(k);
    int at = static_cast<int>(g.prog_.size());
    // if rA op B goto taken; exit; taken: exit
    g.emit(insn((is32 ? op::JMP32 : op::JMP) | j | (x ? op::X : op::K), ra, x ? rb : 0, 2, x ? 0 : k));
    g.exit_here();
    g.exit_here();
    if (!g.finish()) continue;
    std::string log = verify(g.prog_);
    std::string label = "program " + std::to_string(n) + ": " + a.str() + " vs " + b.str() + "\n" + log;

    std::string from = "from " + std::to_string(at) + " to " + std::to_string(at + 3) + ": ";
    size_t fp = log.find(from);
    bool fell, jumped;
    states_after(log, at + 1, &fell);
    states_after(log, at + 3, &jumped);
    int kernel_pred = fp != std::string::npos ? -1 : fell ? 0 : 1;
    ASSERT_EQ(verifier::branch_taken(a, b, j, is32), kernel_pred) << label;
    if (kernel_pred != -1) continue;

    ++both;
    Scalar at1 = a, bt1 = b, af = a, bf = b;
    ASSERT_TRUE(verifier::refine_branch(at1, bt1, j, is32, true)) << label;
    ASSERT_TRUE(verifier::refine_branch(af, bf, j, is32, false)) << label;
    bool seen;
    auto fall = states_after(log, at, &seen);
    auto taken = parse_regs(log.substr(fp + from.size(), log.find('\n', fp) - fp - from.size()));
    EXPECT_EQ(taken[ra], at1.str()) << "taken side\n" << label;
    EXPECT_EQ(fall[ra], af.str()) << "fall-through side\n" << label;
    if (x) {
      EXPECT_EQ(taken[rb], bt1.str()) << "taken side\n" << label;
      EXPECT_EQ(fall[rb], bf.str()) << "fall-through side\n" << label;
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(both, kPrograms / 4);
}

}  // namespace
}  // namespace userbpf::testing
