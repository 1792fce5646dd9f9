// Shared pieces of the assembler: a one-line scanner, the program builder with
// label fixups, and table lookups by mnemonic.  The two syntaxes (LLVM and
// uBPF) live in assembler_llvm.cpp and assembler_ubpf.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/isa.h"

namespace userbpf::isa::detail {

// A literal as written: sign and magnitude, so each field can apply its own range.
struct Num {
  bool neg = false;
  uint64_t mag = 0;
};

struct Reg {
  int n = 0;
  bool w = false;  // written as wN (32-bit subregister)
};

// Where a jump or call goes: a label, or an offset relative to the next slot.
struct Target {
  std::string label;  // empty when relative
  int64_t rel = 0;
};

// Cursor over one line.  Parsing functions return false on error; the first
// error message is kept in `error` (the driver adds the line number).
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  void skip_ws();
  bool at_end();
  char peek();                           // next non-blank char, '\0' at end
  char peek_at(size_t ahead);            // raw char `ahead` past the blanks
  bool accept(std::string_view tok);     // punctuation
  bool accept_word(std::string_view w);  // whole identifier only
  bool expect(std::string_view tok);
  std::string_view ident();  // [A-Za-z_.$][A-Za-z0-9_.$]*, empty when none
  bool looks_like_reg(bool allow_w);
  bool reg(Reg& r, bool allow_w);
  bool number(Num& n);  // [+-]? (0x hex | decimal)
  bool target(Target& t);
  bool end();  // nothing left but blanks
  bool fail(std::string msg);

  // Field conversions, failing with a message when out of range.
  bool imm32(const Num& n, int32_t& out);
  bool imm64(const Num& n, uint64_t& out);
  bool off16(const Num& n, int16_t& out);

  size_t pos() const { return pos_; }
  void reset(size_t p) { pos_ = p; }
  std::string_view rest() const { return s_.substr(pos_); }
  const std::string& error() const { return error_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

// Instructions and pending label references of the whole program.
struct Builder {
  struct Fixup {
    size_t slot;
    std::string label;
    bool into_imm;  // ja32 / local call keep the offset in imm, others in off
    int line;
  };
  std::vector<Insn> insns;
  std::vector<Fixup> fixups;
  int line = 0;

  void emit(const Insn& insn) { insns.push_back(insn); }
  // Emits a jump/call whose offset field is given by `t`.
  bool emit_branch(Scanner& sc, Insn insn, const Target& t, bool into_imm);
};

// Table access by uBPF mnemonic ("add32", "ldxb", "lock fetch add").  When the
// name has an immediate and a register form, `reg_operand` picks one
// (-1: whichever comes first).
const InsnSpec* find_spec(std::string_view name, int reg_operand = -1);
// A slot with the spec's opcode and its distinguishing field set.
Insn encode(const InsnSpec& s);
// Size suffix of load/store mnemonics: 1 -> "b", 2 -> "h", 4 -> "w", 8 -> "dw".
const char* size_suffix(int bytes);

bool parse_llvm(Scanner& sc, Builder& b);
bool parse_ubpf(Scanner& sc, Builder& b);

}  // namespace userbpf::isa::detail
