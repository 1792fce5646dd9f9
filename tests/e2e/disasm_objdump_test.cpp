// Our disassembler against llvm-objdump-19 on every clang-built object: the spec
// for instruction text is what llvm-objdump -d prints for BPF.  Numbers are
// compared in decimal (LLVM 19 prints hex), jump labels and addresses are dropped.
//
// Default llvm-objdump (no alu32 feature) misdecodes 32-bit atomics: it prints
// every BPF_ATOMIC|BPF_W with imm != BPF_ADD as <unknown> and shows a fetch-add as a
// plain `lock ... +=`.  For those instructions the reference is the listing made
// with --mattr=+alu32, whose only other difference is w registers in loads/stores.
// Local calls are the one deliberate divergence: see as_local_call().
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"

namespace fs = std::filesystem;
using namespace userbpf;

namespace {

constexpr const char* kObjdump = "llvm-objdump-19";

struct Listing {
  std::map<std::string, std::map<size_t, std::string>> insns;            // section -> index -> text
  std::map<std::string, std::map<uint64_t, std::string>> symbols;        // section -> byte offset -> name
};

// "-0x1f" -> "-31"; 64-bit values (lddw) are unsigned in objdump's output.
std::string hex_to_decimal(const std::string& text) {
  static const std::regex hex(R"((-?)0x([0-9a-fA-F]+))");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), hex);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out += text.substr(last, static_cast<size_t>(m.position()) - last);
    out += m[1].str() + std::to_string(std::strtoull(m[2].str().c_str(), nullptr, 16));
    last = static_cast<size_t>(m.position() + m.length());
  }
  return out + text.substr(last);
}

std::string normalize(std::string text) {
  static const std::regex label(R"(\s*<[^<>]*>\s*$)");
  if (text != "<unknown>") text = std::regex_replace(text, label, "");
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return hex_to_decimal(text);
}

Listing parse_objdump(const std::string& out) {
  static const std::regex section(R"(^Disassembly of section (.*):$)");
  static const std::regex symbol(R"(^([0-9a-f]{16}) <(.*)>:$)");
  static const std::regex insn(R"(^\s*(\d+):\t(.*)$)");
  Listing listing;
  std::string current;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(pos, end - pos);
    pos = end + 1;
    std::smatch m;
    if (std::regex_match(line, m, section)) {
      current = m[1];
      listing.insns[current];
    } else if (std::regex_match(line, m, symbol)) {
      listing.symbols[current][std::stoull(m[1], nullptr, 16)] = m[2];
    } else if (std::regex_match(line, m, insn)) {
      listing.insns[current][std::stoull(m[1])] = normalize(m[2]);
    }
  }
  return listing;
}

bool objdump_available() {
  return test::run_process({kObjdump, "--version"}).exit_code == 0;
}

Listing objdump(const std::string& path, bool alu32) {
  std::vector<std::string> argv = {kObjdump, "-d", "--no-show-raw-insn"};
  if (alu32) argv.push_back("--mattr=+alu32");
  argv.push_back(path);
  const auto res = test::run_process(argv);
  EXPECT_EQ(res.exit_code, 0) << path << ": " << res.err;
  return parse_objdump(res.out);
}

std::vector<std::string> bpf_objects() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(USERBPF_PROGS_DIR, ec))
    if (entry.path().string().ends_with(".bpf.o")) out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Chosen from the raw encoding, not from our table, so a decoding bug cannot pick
// its own reference.
bool is_atomic32(const isa::Insn& insn) { return insn.opcode == (isa::op::STX | isa::op::ATOMIC | isa::op::W); }
bool is_local_call(const isa::Insn& insn) {
  return insn.opcode == (isa::op::JMP | isa::op::CALL) && insn.src == isa::pseudo::CALL_LOCAL;
}

// objdump prints a bpf-to-bpf call as "call IMM", the same as a helper call; ours
// says "call pc+IMM" so that the assembler can tell them apart.
std::string as_local_call(const std::string& objdump_text) {
  static const std::regex call(R"(^call (-?)(\d+)$)");
  std::smatch m;
  if (!std::regex_match(objdump_text, m, call)) return objdump_text;
  return "call pc" + std::string(m[1].length() ? "-" : "+") + m[2].str();
}

}  // namespace

TEST(DisasmObjdump, ObjectsWereBuilt) {
  EXPECT_GE(bpf_objects().size(), 8u) << "expected v3 and v4 objects in " << USERBPF_PROGS_DIR;
}

TEST(DisasmObjdump, NormalizeNumbers) {
  EXPECT_EQ(normalize("r1 = 0xffffffffffffffff ll"), "r1 = 18446744073709551615 ll");
  EXPECT_EQ(normalize("if w1 < 0x3 goto +0x1 <xdp_prog+0x58>"), "if w1 < 3 goto +1");
  EXPECT_EQ(normalize("*(u32 *)(r10 - 0x4) = r1"), "*(u32 *)(r10 - 4) = r1");
  EXPECT_EQ(normalize("w2 += -0x1"), "w2 += -1");
}

TEST(DisasmObjdump, MatchesLlvmObjdump) {
  if (!objdump_available()) GTEST_SKIP() << kObjdump << " not found";
  size_t compared = 0;
  for (const std::string& path : bpf_objects()) {
    SCOPED_TRACE(path);
    auto obj = loader::read_elf(path);
    ASSERT_TRUE(obj.ok()) << obj.error().str();
    const Listing plain = objdump(path, false);
    const Listing alu32 = objdump(path, true);

    std::vector<std::string> ours_names, their_names;
    for (const auto& s : obj->sections) ours_names.push_back(s.name);
    for (const auto& [name, _] : plain.insns) their_names.push_back(name);
    std::sort(ours_names.begin(), ours_names.end());
    EXPECT_EQ(ours_names, their_names);

    for (const loader::CodeSection& sec : obj->sections) {
      auto it = plain.insns.find(sec.name);
      if (it == plain.insns.end()) continue;
      const auto& theirs = it->second;
      const auto& theirs32 = alu32.insns.at(sec.name);
      size_t lines = 0;
      for (size_t pc = 0; pc < sec.insns.size(); ++pc, ++lines) {
        const isa::Insn* next = pc + 1 < sec.insns.size() ? &sec.insns[pc + 1] : nullptr;
        const std::string ours = isa::disassemble(sec.insns[pc], next);
        const auto& ref = is_atomic32(sec.insns[pc]) ? theirs32 : theirs;
        auto line = ref.find(pc);
        if (line == ref.end()) {
          ADD_FAILURE() << sec.name << " insn " << pc << ": objdump has no line; ours: " << ours;
        } else {
          const std::string expected = is_local_call(sec.insns[pc]) ? as_local_call(line->second) : line->second;
          EXPECT_EQ(ours, expected) << sec.name << " insn " << pc;
          ++compared;
        }
        if (isa::is_lddw(sec.insns[pc])) ++pc;
      }
      EXPECT_EQ(lines, theirs.size()) << sec.name << ": number of instruction lines";

      // Function symbols: objdump starts a block at each one.
      std::map<uint64_t, std::string> ours_funcs, their_funcs;
      for (const auto& f : sec.functions) ours_funcs[f.offset] = f.name;
      if (auto syms = plain.symbols.find(sec.name); syms != plain.symbols.end()) their_funcs = syms->second;
      EXPECT_EQ(ours_funcs, their_funcs) << sec.name;
    }
  }
  EXPECT_GT(compared, 100u);
}
