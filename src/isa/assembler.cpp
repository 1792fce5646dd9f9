// Assembler driver: splits the text into lines, strips comments, objdump
// decorations and labels, hands each instruction to the syntax it is written in,
// then resolves label references.
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "isa/assembler_internal.h"

namespace userbpf::isa {
namespace detail {
namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '$';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Scanner::skip_ws() {
  while (pos_ < s_.size() && is_blank(s_[pos_])) ++pos_;
}

bool Scanner::at_end() {
  skip_ws();
  return pos_ >= s_.size();
}

char Scanner::peek() { return peek_at(0); }

char Scanner::peek_at(size_t ahead) {
  skip_ws();
  return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
}

bool Scanner::accept(std::string_view tok) {
  skip_ws();
  if (s_.substr(pos_, tok.size()) != tok) return false;
  pos_ += tok.size();
  return true;
}

bool Scanner::accept_word(std::string_view w) {
  skip_ws();
  if (s_.substr(pos_, w.size()) != w) return false;
  if (pos_ + w.size() < s_.size() && is_ident_char(s_[pos_ + w.size()])) return false;
  pos_ += w.size();
  return true;
}

bool Scanner::expect(std::string_view tok) {
  if (accept(tok)) return true;
  return fail("expected '" + std::string(tok) + "'" + (at_end() ? " at end of line" : " before '" + std::string(rest()) + "'"));
}

std::string_view Scanner::ident() {
  skip_ws();
  if (pos_ >= s_.size() || !is_ident_start(s_[pos_])) return {};
  const size_t start = pos_;
  while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
  return s_.substr(start, pos_ - start);
}

bool Scanner::looks_like_reg(bool allow_w) {
  skip_ws();
  size_t p = pos_;
  if (p < s_.size() && s_[p] == '%') ++p;
  if (p >= s_.size() || !(s_[p] == 'r' || (allow_w && s_[p] == 'w'))) return false;
  ++p;
  if (p >= s_.size() || !is_digit(s_[p])) return false;
  while (p < s_.size() && is_digit(s_[p])) ++p;
  return p >= s_.size() || !is_ident_char(s_[p]);
}

bool Scanner::reg(Reg& r, bool allow_w) {
  if (!looks_like_reg(allow_w)) {
    if (at_end()) return fail("expected a register at end of line");
    return fail("expected a register before '" + std::string(rest()) + "'");
  }
  const size_t start = pos_;
  if (s_[pos_] == '%') ++pos_;
  r.w = s_[pos_++] == 'w';
  int64_t n = 0;
  while (pos_ < s_.size() && is_digit(s_[pos_])) {
    n = n * 10 + (s_[pos_++] - '0');
    if (n > 1000) n = 1000;  // clamp: only the range check below matters
  }
  if (n >= kNumRegs) return fail("bad register '" + std::string(s_.substr(start, pos_ - start)) + "'");
  r.n = static_cast<int>(n);
  return true;
}

bool Scanner::number(Num& n) {
  skip_ws();
  n = {};
  if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) n.neg = s_[pos_++] == '-';
  const size_t start = pos_;
  uint64_t base = 10;
  if (pos_ + 1 < s_.size() && s_[pos_] == '0' && (s_[pos_ + 1] == 'x' || s_[pos_ + 1] == 'X')) {
    base = 16;
    pos_ += 2;
  }
  const size_t digits = pos_;
  while (pos_ < s_.size()) {
    const int d = hex_value(s_[pos_]);
    if (d < 0 || static_cast<uint64_t>(d) >= base) break;
    if (n.mag > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) / base)
      return fail("number '" + std::string(s_.substr(start)) + "' does not fit in 64 bits");
    n.mag = n.mag * base + static_cast<uint64_t>(d);
    ++pos_;
  }
  if (pos_ == digits || (pos_ < s_.size() && is_ident_char(s_[pos_]))) {
    pos_ = start;
    if (at_end()) return fail("expected a number at end of line");
    return fail("expected a number before '" + std::string(rest()) + "'");
  }
  return true;
}

bool Scanner::target(Target& t) {
  t = {};
  const char c = peek();
  if (c == '+' || c == '-' || is_digit(c)) {
    Num n;
    if (!number(n)) return false;
    if (n.mag > (uint64_t{1} << 32)) return fail("jump offset out of range");
    t.rel = n.neg ? -static_cast<int64_t>(n.mag) : static_cast<int64_t>(n.mag);
    return true;
  }
  const std::string_view name = ident();
  if (name.empty()) return fail(at_end() ? "expected a jump target at end of line"
                                         : "expected a jump target before '" + std::string(rest()) + "'");
  t.label = std::string(name);
  return true;
}

bool Scanner::end() {
  if (at_end()) return true;
  return fail("unexpected '" + std::string(rest()) + "'");
}

bool Scanner::fail(std::string msg) {
  if (error_.empty()) error_ = std::move(msg);
  return false;
}

bool Scanner::imm32(const Num& n, int32_t& out) {
  if (n.neg ? n.mag > (uint64_t{1} << 31) : n.mag > 0xffffffffu)
    return fail(std::string("immediate ") + (n.neg ? "-" : "") + std::to_string(n.mag) + " out of 32-bit range");
  out = static_cast<int32_t>(static_cast<uint32_t>(n.neg ? 0 - n.mag : n.mag));
  return true;
}

bool Scanner::imm64(const Num& n, uint64_t& out) {
  if (n.neg && n.mag > (uint64_t{1} << 63))
    return fail("immediate -" + std::to_string(n.mag) + " out of 64-bit range");
  out = n.neg ? 0 - n.mag : n.mag;
  return true;
}

bool Scanner::off16(const Num& n, int16_t& out) {
  if (n.neg ? n.mag > 32768 : n.mag > 32767)
    return fail(std::string("offset ") + (n.neg ? "-" : "") + std::to_string(n.mag) + " out of 16-bit range");
  out = static_cast<int16_t>(n.neg ? -static_cast<int32_t>(n.mag) : static_cast<int32_t>(n.mag));
  return true;
}

bool Builder::emit_branch(Scanner& sc, Insn insn, const Target& t, bool into_imm) {
  if (!t.label.empty()) {
    fixups.push_back(Fixup{insns.size(), t.label, into_imm, line});
  } else if (into_imm) {
    if (t.rel < std::numeric_limits<int32_t>::min() || t.rel > std::numeric_limits<int32_t>::max())
      return sc.fail("jump offset " + std::to_string(t.rel) + " out of 32-bit range");
    insn.imm = static_cast<int32_t>(t.rel);
  } else {
    if (t.rel < std::numeric_limits<int16_t>::min() || t.rel > std::numeric_limits<int16_t>::max())
      return sc.fail("jump offset " + std::to_string(t.rel) + " out of 16-bit range (use gotol / ja32)");
    insn.off = static_cast<int16_t>(t.rel);
  }
  emit(insn);
  return true;
}

const InsnSpec* find_spec(std::string_view name, int reg_operand) {
  // Index of the shared table by mnemonic, built once.
  static const auto index = [] {
    std::unordered_map<std::string, std::vector<const InsnSpec*>> m;
    for (const InsnSpec& s : all_specs()) m[s.asm_name].push_back(&s);
    return m;
  }();
  const auto it = index.find(std::string(name));
  if (it == index.end()) return nullptr;
  for (const InsnSpec* s : it->second)
    if (reg_operand < 0 || s->uses_src_reg == (reg_operand != 0)) return s;
  return nullptr;
}

Insn encode(const InsnSpec& s) {
  Insn insn;
  insn.opcode = s.opcode;
  switch (s.match) {
    case Match::None: break;
    case Match::Off: insn.off = static_cast<int16_t>(s.match_value); break;
    case Match::Imm: insn.imm = s.match_value; break;
    case Match::Src: insn.src = static_cast<uint8_t>(s.match_value) & 0xf; break;
  }
  return insn;
}

const char* size_suffix(int bytes) {
  switch (bytes) {
    case 1: return "b";
    case 2: return "h";
    case 4: return "w";
    case 8: return "dw";
    default: return "?";
  }
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view strip_comment(std::string_view s) {
  size_t cut = s.size();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#' || s[i] == ';' || (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '/')) {
      cut = i;
      break;
    }
  }
  return s.substr(0, cut);
}

bool all_hex(std::string_view s) {
  for (char c : s)
    if (hex_value(c) < 0) return false;
  return !s.empty();
}

// llvm-objdump decorations: "0000000000000000 <prog>:" function headers (returned
// as a label), "12:" slot indexes, raw instruction bytes and "<prog+0x48>"
// target annotations.  `label` is set for a function header.
std::string_view strip_objdump(std::string_view s, std::string_view& label) {
  label = {};
  if (s.size() > 4 && s.back() == ':' && s[s.size() - 2] == '>') {
    const size_t lt = s.find(" <");
    if (lt != std::string_view::npos && all_hex(s.substr(0, lt))) {
      label = s.substr(lt + 2, s.size() - lt - 4);
      return {};
    }
  }
  // Slot index: digits then ':' (label names cannot start with a digit).
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i > 0 && i < s.size() && s[i] == ':') s = trim(s.substr(i + 1));
  // Raw bytes: a run of at least 8 two-digit hex tokens.
  size_t p = 0, count = 0, after = 0;
  while (p + 2 <= s.size() && hex_value(s[p]) >= 0 && hex_value(s[p + 1]) >= 0 &&
         (p + 2 == s.size() || is_blank(s[p + 2]))) {
    p += 2;
    ++count;
    after = p;
    while (p < s.size() && is_blank(s[p])) ++p;
  }
  if (count >= 8) s = trim(s.substr(after));
  // Last, so that objdump's "<unknown>" (with nothing before it) stays an error.
  if (!s.empty() && s.back() == '>') {
    const size_t lt = s.rfind('<');
    if (lt != std::string_view::npos && lt > 0 && is_blank(s[lt - 1])) s = trim(s.substr(0, lt));
  }
  return s;
}

bool is_noise(std::string_view s) {
  return s.find("file format ") != std::string_view::npos || s.starts_with("Disassembly of section") ||
         s.find("R_BPF_") != std::string_view::npos;
}

// LLVM syntax is recognisable by its '=' or its keywords; everything else is uBPF.
bool is_llvm_syntax(std::string_view s) {
  if (s.find('=') != std::string_view::npos) return true;
  Scanner sc(s);
  const std::string_view w = sc.ident();
  if (w == "if" || w == "goto" || w == "gotol" || w == "callx") return true;
  if (w == "call") return !(sc.accept_word("local") || sc.peek() == '%');
  return false;
}

Error line_error(int line, const std::string& msg) {
  return make_error(ErrorKind::Malformed, "line " + std::to_string(line) + ": " + msg);
}

}  // namespace
}  // namespace detail

Result<std::vector<Insn>> assemble(std::string_view text) {
  using namespace detail;
  Builder b;
  std::map<std::string, size_t, std::less<>> labels;
  auto define = [&](std::string_view name) -> bool {
    return labels.emplace(std::string(name), b.insns.size()).second;
  };

  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    ++b.line;
    std::string_view s = trim(strip_comment(text.substr(start, nl - start)));
    start = nl + 1;
    if (s.empty() || is_noise(s)) continue;
    std::string_view header;
    s = strip_objdump(s, header);
    if (!header.empty() && !define(header))
      return line_error(b.line, "duplicate label '" + std::string(header) + "'");

    // Leading labels: "name:" (possibly several, possibly before an instruction).
    Scanner sc(s);
    for (;;) {
      const size_t p = sc.pos();
      const std::string_view name = sc.ident();
      if (!name.empty() && sc.rest().starts_with(':')) {
        sc.expect(":");
        if (!define(name)) return line_error(b.line, "duplicate label '" + std::string(name) + "'");
        continue;
      }
      sc.reset(p);
      break;
    }
    if (sc.at_end()) continue;
    const bool ok = is_llvm_syntax(sc.rest()) ? parse_llvm(sc, b) : parse_ubpf(sc, b);
    if (!ok) return line_error(b.line, sc.error().empty() ? "malformed instruction" : sc.error());
  }

  // The conformance suite jumps to "exit" without defining it: the first exit.
  std::optional<size_t> first_exit;
  for (size_t pc = 0; pc < b.insns.size(); ++pc) {
    if (b.insns[pc].opcode == (op::JMP | op::EXIT)) {
      first_exit = pc;
      break;
    }
    if (is_lddw(b.insns[pc])) ++pc;
  }
  for (const Builder::Fixup& f : b.fixups) {
    size_t target;
    if (const auto it = labels.find(f.label); it != labels.end()) {
      target = it->second;
    } else if (f.label == "exit" && first_exit) {
      target = *first_exit;
    } else {
      return line_error(f.line, "undefined label '" + f.label + "'");
    }
    const int64_t rel = static_cast<int64_t>(target) - static_cast<int64_t>(f.slot) - 1;
    Insn& insn = b.insns[f.slot];
    if (f.into_imm) {
      insn.imm = static_cast<int32_t>(rel);  // programs are far shorter than 2^31 slots
    } else {
      if (rel < std::numeric_limits<int16_t>::min() || rel > std::numeric_limits<int16_t>::max())
        return line_error(f.line, "jump to '" + f.label + "' is out of 16-bit range (offset " + std::to_string(rel) +
                                      ", use gotol / ja32)");
      insn.off = static_cast<int16_t>(rel);
    }
  }
  return std::move(b.insns);
}

}  // namespace userbpf::isa
