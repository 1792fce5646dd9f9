// The ELF reader on clang-built objects, and on corrupted copies of them: every
// corruption must come back as a Malformed error, never a crash.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/elf_edit.h"
#include "userbpf/loader.h"

using namespace userbpf;
using Bytes = std::vector<uint8_t>;

namespace {

std::string prog(const std::string& name) { return std::string(USERBPF_PROGS_DIR) + "/" + name; }

Bytes load(const std::string& path) {
  auto bytes = loader::read_file_bytes(path);
  EXPECT_TRUE(bytes.ok()) << bytes.error().str();
  return bytes.ok() ? *bytes : Bytes{};
}

using test::elf_at;
using test::elf_section;
using test::elf_symbol;

void expect_malformed(const Bytes& b, const std::string& needle) {
  auto obj = loader::read_elf(std::span<const uint8_t>(b));
  ASSERT_FALSE(obj.ok()) << "accepted; expected an error mentioning " << needle;
  EXPECT_EQ(obj.error().kind, ErrorKind::Malformed);
  EXPECT_NE(obj.error().message.find(needle), std::string::npos) << obj.error().message;
}

std::vector<std::string> names(const loader::ElfObject& obj) {
  std::vector<std::string> out;
  for (const auto& s : obj.sections) out.push_back(s.name);
  return out;
}

}  // namespace

TEST(ElfReader, ReadsEveryBuiltObject) {
  size_t objects = 0;
  for (const auto& entry : std::filesystem::directory_iterator(USERBPF_PROGS_DIR)) {
    if (!entry.path().string().ends_with(".bpf.o")) continue;
    SCOPED_TRACE(entry.path().string());
    ++objects;
    auto obj = loader::read_elf(entry.path().string());
    ASSERT_TRUE(obj.ok()) << obj.error().str();
    EXPECT_EQ(obj->license, "GPL");
    ASSERT_FALSE(obj->sections.empty());
    for (const auto& sec : obj->sections) {
      EXPECT_FALSE(sec.insns.empty()) << sec.name;
      ASSERT_FALSE(sec.functions.empty()) << sec.name;
      EXPECT_TRUE(std::is_sorted(sec.functions.begin(), sec.functions.end(),
                                 [](const auto& a, const auto& b) { return a.offset < b.offset; }));
      for (const auto& fn : sec.functions) EXPECT_LE(fn.first_insn() + fn.num_insns(), sec.insns.size()) << fn.name;
    }
    // The same bytes from memory give the same object.
    const Bytes bytes = load(entry.path().string());
    auto again = loader::read_elf(std::span<const uint8_t>(bytes));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(names(*again), names(*obj));
    for (size_t i = 0; i < obj->sections.size(); ++i)
      EXPECT_EQ(isa::to_bytes(again->sections[i].insns), isa::to_bytes(obj->sections[i].insns));
  }
  EXPECT_GE(objects, 8u);
}

TEST(ElfReader, SubprogramsLiveInText) {
  auto obj = loader::read_elf(prog("loop_subprog.v4.bpf.o"));
  ASSERT_TRUE(obj.ok()) << obj.error().str();
  EXPECT_EQ(names(*obj), (std::vector<std::string>{".text", "xdp"}));
  const auto* text = obj->find_section(".text");
  const auto* xdp = obj->find_section("xdp");
  ASSERT_TRUE(text && xdp);
  ASSERT_EQ(text->functions.size(), 2u);
  EXPECT_EQ(text->functions[0].name, "payload_sum");
  EXPECT_EQ(text->functions[0].offset, 0u);
  EXPECT_FALSE(text->functions[0].global);
  EXPECT_EQ(text->functions[1].name, "popcount32");
  EXPECT_EQ(text->functions[0].num_insns(), text->functions[1].first_insn());
  ASSERT_EQ(xdp->functions.size(), 1u);
  EXPECT_EQ(xdp->functions[0].name, "xdp_loop");
  EXPECT_TRUE(xdp->functions[0].global);
  EXPECT_EQ(xdp->functions[0].num_insns(), xdp->insns.size());
  EXPECT_GT(xdp->index, 0u);
  EXPECT_EQ(obj->find_section("tc"), nullptr);

  auto tc = loader::read_elf(prog("tc_classify.v3.bpf.o"));
  ASSERT_TRUE(tc.ok()) << tc.error().str();
  EXPECT_EQ(names(*tc), (std::vector<std::string>{"tc"}));
}

TEST(ElfReader, RejectsWrongHeaders) {
  const Bytes good = load(prog("xdp_parse.v3.bpf.o"));
  ASSERT_FALSE(good.empty());
  expect_malformed(Bytes{}, "not an ELF");
  expect_malformed(Bytes{'h', 'e', 'l', 'l', 'o'}, "not an ELF");
  expect_malformed(Bytes{0x7f, 'E', 'L', 'F'}, "truncated");

  Bytes b = good;
  b[EI_CLASS] = ELFCLASS32;
  expect_malformed(b, "64-bit");
  b = good;
  b[EI_DATA] = ELFDATA2MSB;
  expect_malformed(b, "little-endian");
  b = good;
  elf_at<Elf64_Ehdr>(b, 0)->e_machine = EM_X86_64;
  expect_malformed(b, "EM_BPF");
  b = good;
  elf_at<Elf64_Ehdr>(b, 0)->e_type = ET_EXEC;
  expect_malformed(b, "ET_REL");
}

TEST(ElfReader, RejectsBadSections) {
  const Bytes good = load(prog("loop_subprog.v3.bpf.o"));
  ASSERT_FALSE(good.empty());

  Bytes b = good;
  elf_section(b, "xdp")->sh_size -= 4;
  expect_malformed(b, "'xdp'");

  b = good;
  elf_section(b, ".text")->sh_offset = b.size() - 8;
  expect_malformed(b, "'.text'");

  b = good;
  elf_symbol(b, "popcount32")->st_value += 4096;
  expect_malformed(b, "'popcount32'");

  b = good;
  elf_symbol(b, "xdp_loop")->st_size += 8;
  expect_malformed(b, "'xdp_loop'");

  b = good;
  elf_symbol(b, "payload_sum")->st_value = 4;
  expect_malformed(b, "'payload_sum'");

  // Every truncation is an error, not a crash (clang puts the section headers last).
  for (size_t len = 0; len < good.size(); len += 7) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    auto obj = loader::read_elf(std::span<const uint8_t>(cut));
    ASSERT_FALSE(obj.ok()) << "accepted a file cut to " << len << " bytes";
    EXPECT_EQ(obj.error().kind, ErrorKind::Malformed) << len;
  }
}

TEST(ElfReader, SurvivesRandomCorruption) {
  const Bytes good = load(prog("maps_globals.v4.bpf.o"));
  ASSERT_FALSE(good.empty());
  std::mt19937 rng(12345);
  size_t rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes b = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      // Aim half of the flips at the headers, where they do the most damage.
      const size_t limit = rng() % 2 ? std::min<size_t>(b.size(), 64) : b.size();
      b[4 + rng() % (limit - 4)] = static_cast<uint8_t>(rng());
    }
    auto obj = loader::read_elf(std::span<const uint8_t>(b));
    if (!obj.ok()) {
      EXPECT_EQ(obj.error().kind, ErrorKind::Malformed);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0u);
}

TEST(ElfReader, ReadsFilesAsElfOrRawBytecode) {
  auto missing = loader::read_elf("/nonexistent/x.bpf.o");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);

  const std::string elf_path = prog("xdp_rewrite.v4.bpf.o");
  auto as_elf = loader::read_code_file(elf_path);
  ASSERT_TRUE(as_elf.ok()) << as_elf.error().str();
  EXPECT_TRUE(as_elf->is_elf);
  ASSERT_EQ(as_elf->elf.sections.size(), 1u);

  // Raw bytecode: the xdp section's bytes written out on their own.
  const Bytes raw = isa::to_bytes(as_elf->elf.sections[0].insns);
  EXPECT_FALSE(loader::is_elf(raw));
  const auto raw_path = std::filesystem::temp_directory_path() / ("userbpf_raw_" + std::to_string(getpid()) + ".bin");
  std::ofstream(raw_path, std::ios::binary).write(reinterpret_cast<const char*>(raw.data()),
                                                  static_cast<std::streamsize>(raw.size()));
  auto as_raw = loader::read_code_file(raw_path.string());
  std::filesystem::remove(raw_path);
  ASSERT_TRUE(as_raw.ok()) << as_raw.error().str();
  EXPECT_FALSE(as_raw->is_elf);
  EXPECT_EQ(isa::to_bytes(as_raw->insns), raw);
}
