// The CLI as a user meets it: commands, output formats, exit codes on bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/subprocess.h"
#include "userbpf/isa.h"

namespace {

using userbpf::test::run_process;

// Commands that run programs are tried with both engines.
constexpr const char* kEngines[] = {"interp", "jit"};
namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("userbpf_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string write_prog(const std::string& name, const std::string& asm_text) {
    auto insns = userbpf::isa::assemble(asm_text);
    EXPECT_TRUE(insns.ok()) << insns.error().str();
    auto bytes = userbpf::isa::to_bytes(*insns);
    return write(name, std::string(bytes.begin(), bytes.end()));
  }
  fs::path dir_;
};

TEST_F(Cli, AsmDisasmRoundTrip) {
  const std::string src = write("p.s", "r0 = 7\nw1 = 3\nif r0 > r1 goto out\nr0 = 0\nout:\nexit\n");
  const std::string bin = (dir_ / "p.bin").string();
  auto a = run_process({USERBPF_CLI, "asm", src, "-o", bin});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto d = run_process({USERBPF_CLI, "disasm", bin});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "0:\tr0 = 7\n1:\tw1 = 3\n2:\tif r0 > r1 goto +1\n3:\tr0 = 0\n4:\texit\n");
}

TEST_F(Cli, RunPrintsBpftoolStyleAndJson) {
  // Sums the bytes of the input: r1 = data, r2 = length.
  const std::string bin = write_prog("sum.bin",
                                     "r0 = 0\nr3 = r1\nr3 += r2\nloop:\nif r1 >= r3 goto done\n"
                                     "r4 = *(u8 *)(r1 + 0)\nr0 += r4\nr1 += 1\ngoto loop\ndone:\nexit\n");
  const std::string data = write("in.bin", std::string("\x01\x02\x03\x04\x05", 5));
  for (const char* engine : kEngines) {
    auto r = run_process({USERBPF_CLI, "run", bin, "--data", data, "--repeat", "10", "--json", "--engine", engine});
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    EXPECT_NE(r.out.find("Return value: 15, duration (average): "), std::string::npos) << r.out;
    const auto last = r.out.substr(r.out.rfind('{'));
    EXPECT_EQ(last.rfind("{\"retval\":15,\"duration\":", 0), 0u) << last;
  }
}

TEST_F(Cli, DataOutReflectsWrites) {
  const std::string bin = write_prog("w.bin", "*(u8 *)(r1 + 1) = 0x7f\nr0 = 0\nexit\n");
  const std::string data = write("in.bin", std::string("\x00\x00\x00", 3));
  const std::string out = (dir_ / "out.bin").string();
  for (const char* engine : kEngines) {
    auto r = run_process({USERBPF_CLI, "run", bin, "--data", data, "--data-out", out, "--engine", engine});
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    std::ifstream f(out, std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got, std::string("\x00\x7f\x00", 3)) << engine;
  }
}

struct BadCase {
  const char* name;
  std::string bytes;
  int exit_code;
  const char* message;
};

std::string raw(std::initializer_list<userbpf::isa::Insn> insns) {
  std::vector<userbpf::isa::Insn> v(insns);
  auto b = userbpf::isa::to_bytes(v);
  return std::string(b.begin(), b.end());
}

TEST_F(Cli, BadInputGivesClearErrorAndExitCode) {
  using userbpf::isa::Insn;
  const Insn exit_insn{0x95, 0, 0, 0, 0};
  const std::vector<BadCase> cases = {
      {"truncated", raw({exit_insn}).substr(0, 5), 2, "not a multiple of 8"},
      {"garbage opcode", raw({Insn{0xff, 0, 0, 0, 0}, exit_insn}), 2, "unknown opcode"},
      {"wild jump", raw({Insn{0x05, 0, 0, 100, 0}, exit_insn}), 2, "jump out of range"},
      {"wild read", raw({Insn{0x79, 0, 1, 4096, 0}, exit_insn}), 1, "out-of-bounds"},
      {"infinite loop", raw({Insn{0x05, 0, 0, -1, 0}, exit_insn}), 1, "budget"},
      {"empty", "", 2, "empty"},
  };
  for (const auto& c : cases)
    for (const char* engine : kEngines) {
      const std::string p = write("bad.bin", c.bytes);
      auto r = run_process({USERBPF_CLI, "run", p, "--engine", engine}, {}, 60000);
      EXPECT_FALSE(r.timed_out) << c.name << " " << engine;
      EXPECT_EQ(r.signal, 0) << c.name << " " << engine;
      EXPECT_EQ(r.exit_code, c.exit_code) << c.name << " " << engine << ": " << r.err;
      EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << " " << engine << ": " << r.err;
    }
  auto missing = run_process({USERBPF_CLI, "disasm", (dir_ / "nope.bin").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
  auto badopt = run_process({USERBPF_CLI, "run"});
  EXPECT_EQ(badopt.exit_code, 2);
}

TEST_F(Cli, PluginRejectsBadInput) {
  auto r = run_process({USERBPF_PLUGIN, "--engine", "interp"}, "zz 11");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("invalid hex"), std::string::npos) << r.err;
  auto e = run_process({USERBPF_PLUGIN, "--engine", "warp"}, "95 00 00 00 00 00 00 00");
  EXPECT_NE(e.exit_code, 0);
  auto ok = run_process({USERBPF_PLUGIN, "--elf"}, "95 00 00 00 00 00 00 00");
  EXPECT_NE(ok.exit_code, 0) << "raw bytes are not an ELF object";
}

TEST_F(Cli, PluginRunsElfObjects) {
  const fs::path obj = fs::path(USERBPF_PROGS_DIR) / "plugin_sum.v3.bpf.o";
  ASSERT_TRUE(fs::exists(obj)) << obj;
  std::ifstream f(obj, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto r = run_process({USERBPF_PLUGIN, "--elf", "05 00 00 00 00 00 00 00 0a 00 00 00 00 00 00 00"}, bytes);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "f\n");
}

}  // namespace

namespace {

TEST(CliObjects, UnknownHelperIsRefusedWithItsName) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("userbpf_unk_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "unk.bpf.c") << "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n"
                                      "SEC(\"xdp\") int x(struct xdp_md *ctx) { return bpf_get_current_task() != 0; }\n"
                                      "char LICENSE[] SEC(\"license\") = \"GPL\";\n";
  auto cc = userbpf::test::run_process({"clang-19", "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
                                        "-c", (dir / "unk.bpf.c").string(), "-o", (dir / "unk.bpf.o").string()});
  if (cc.exit_code != 0) {
    fs::remove_all(dir);
    GTEST_SKIP() << "clang-19 cannot build BPF here: " << cc.err;
  }
  auto r = userbpf::test::run_process({USERBPF_CLI, "run", (dir / "unk.bpf.o").string()});
  fs::remove_all(dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("helper 35 (bpf_get_current_task) is not supported"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unk.bpf.c:3"), std::string::npos) << "source line from BTF line info: " << r.err;
}

TEST(CliObjects, BundledExampleDropsDnsAndCountsIt) {
  const std::string obj = std::string(USERBPF_PROGS_DIR) + "/xdp_firewall.v3.bpf.o";
  const std::string pkt = std::string(USERBPF_SOURCE_DIR) + "/examples/dns_packet.bin";
  for (const char* engine : kEngines) {
    auto r = userbpf::test::run_process(
        {USERBPF_CLI, "run", obj, "--data", pkt, "--repeat", "5", "--dump-maps", "--json", "--engine", engine});
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    EXPECT_NE(r.out.find("Return value: 1, duration (average): "), std::string::npos) << r.out;
    // proto_count[IPPROTO_UDP = 17] counted once per repetition.
    EXPECT_NE(r.out.find("key: 11 00 00 00  value: 05 00 00 00 00 00 00 00"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.substr(r.out.rfind('{')).rfind("{\"retval\":1,", 0), 0u) << r.out;
  }
}

// The JIT's machine code under each instruction, with the source lines.
TEST(CliObjects, ProgDumpJited) {
  const std::string obj = std::string(USERBPF_PROGS_DIR) + "/xdp_firewall.v3.bpf.o";
  auto r = userbpf::test::run_process({USERBPF_CLI, "prog", "dump", obj, "--jited"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("    0:\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; "), std::string::npos) << "source lines: " << r.out;
  EXPECT_NE(r.out.find("\tret"), std::string::npos) << r.out;          // exit
  EXPECT_NE(r.out.find("call r10"), std::string::npos) << r.out;        // helper calls
  EXPECT_EQ(r.out.find("(bad)"), std::string::npos) << r.out;
  auto plain = userbpf::test::run_process({USERBPF_CLI, "prog", "dump", obj});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("call r10"), std::string::npos) << "machine code only with --jited";
}

}  // namespace
