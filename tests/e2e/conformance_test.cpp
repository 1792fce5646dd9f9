// Every bpf_conformance file through the userbpf-plugin binary, exactly as the
// suite's own runner drives a plugin: program bytes as base16 on stdin, memory as
// a base16 argument, r0 in hex on stdout.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "support/conformance.h"
#include "support/subprocess.h"
#include "userbpf/isa.h"

namespace {

using userbpf::test::ConformanceCase;

std::string to_hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  char buf[4];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x ", b);
    s += buf;
  }
  return s;
}

std::vector<std::string> engines() { return {"interp", "jit"}; }

struct Param {
  std::string file;
  std::string engine;
};

std::vector<Param> params() {
  std::vector<Param> out;
  for (const auto& f : userbpf::test::list_conformance_files(USERBPF_CONFORMANCE_DIR))
    for (const auto& e : engines()) out.push_back({f, e});
  return out;
}

class Conformance : public ::testing::TestWithParam<Param> {};

TEST_P(Conformance, Plugin) {
  const Param& p = GetParam();
  auto c = userbpf::test::read_conformance_file(p.file);
  ASSERT_TRUE(c.has_value()) << p.file;
  ASSERT_TRUE(c->sections.count("asm")) << "no -- asm section";
  auto insns = userbpf::isa::assemble(c->sections["asm"]);
  ASSERT_TRUE(insns.ok()) << insns.error().str();
  std::vector<std::string> argv = {USERBPF_PLUGIN, "--engine", p.engine};
  if (c->sections.count("mem")) argv.push_back(c->sections["mem"]);
  auto res = userbpf::test::run_process(argv, to_hex(userbpf::isa::to_bytes(*insns)), 20000);
  ASSERT_FALSE(res.timed_out) << "plugin hung";
  ASSERT_EQ(res.signal, 0) << "plugin crashed with signal " << res.signal << "\n" << res.err;
  if (c->sections.count("error")) {
    EXPECT_NE(res.exit_code, 0) << "program should have been refused: " << c->sections["error"];
    return;
  }
  auto expected = c->result();
  ASSERT_TRUE(expected.has_value()) << "no -- result";
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(std::stoull(res.out, nullptr, 16), *expected)
      << "got 0x" << res.out << "\n" << userbpf::isa::disassemble_program(*insns);
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string n = std::filesystem::path(info.param.file).stem().string() + "_" + info.param.engine;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Suite, Conformance, ::testing::ValuesIn(params()), param_name);

TEST(ConformanceSuite, IsPresent) {
  // The shared suite has 313 files; a missing directory must fail, not pass silently.
  EXPECT_GE(userbpf::test::list_conformance_files(USERBPF_CONFORMANCE_DIR).size(), 300u);
}

}  // namespace
