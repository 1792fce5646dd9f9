// The object loader against libbpf + the kernel: for every test object, libbpf
// (bpf_object__open_file + bpf_object__load) must produce, per program, the same
// final instructions as load_object() (map fds where we put map indexes), and the
// same maps.  Besides the build's objects (clang-19, -mcpu v3/v4) the sources are
// also compiled with clang-14 and older -mcpu versions when those compilers exist.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "support/subprocess.h"
#include "userbpf/loader.h"

namespace userbpf::testing {
namespace {

namespace fs = std::filesystem;

struct BpfObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};

void compare_with_libbpf(const std::string& path) {
  SCOPED_TRACE(path);
  auto ours = loader::load_object(path);
  ASSERT_TRUE(ours.ok()) << ours.error().str();
  std::unique_ptr<bpf_object, BpfObjectCloser> obj(bpf_object__open_file(path.c_str(), nullptr));
  if (!obj) {
    // libbpf 1.x refuses legacy "maps" sections (and static functions in program
    // sections); that is the only reason it may refuse a test object.
    const bool legacy = std::any_of(ours->maps.begin(), ours->maps.end(), [](const auto& m) { return m.section == "maps"; });
    EXPECT_TRUE(legacy) << "libbpf cannot open it";
    return;
  }
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, obj.get()) bpf_map__set_pin_path(m, nullptr);  // never touch /sys/fs/bpf
  // libbpf relocates and links every program before the kernel sees any, so
  // even an object the verifier refuses (plugin_sum reads r1 as plain memory)
  // has its final instructions; only the map fds are then gone.
  const bool loaded = bpf_object__load(obj.get()) == 0;

  // Maps: same names, order, types and sizes (inner templates are not maps of their own).
  size_t i = 0;
  bpf_object__for_each_map(m, obj.get()) {
    SCOPED_TRACE(bpf_map__name(m));
    while (i < ours->maps.size() && ours->maps[i].is_inner_template) ++i;
    ASSERT_LT(i, ours->maps.size());
    const maps::MapSpec& s = ours->maps[i++].spec;
    EXPECT_EQ(s.name, bpf_map__name(m));
    EXPECT_EQ(s.type, static_cast<uint32_t>(bpf_map__type(m)));
    EXPECT_EQ(s.key_size, bpf_map__key_size(m));
    EXPECT_EQ(s.value_size, bpf_map__value_size(m));
    EXPECT_EQ(s.max_entries, bpf_map__max_entries(m));
    EXPECT_EQ(s.map_flags, bpf_map__map_flags(m));
  }

  size_t programs = 0;
  bpf_program* p = nullptr;
  bpf_object__for_each_program(p, obj.get()) {
    ++programs;
    const loader::ProgramSpec* ps = ours->find_program(bpf_program__name(p));
    ASSERT_NE(ps, nullptr) << bpf_program__name(p);
    SCOPED_TRACE(ps->name);
    EXPECT_EQ(ps->prog_type, static_cast<uint32_t>(bpf_program__type(p)));
    EXPECT_EQ(ps->expected_attach_type, static_cast<uint32_t>(bpf_program__expected_attach_type(p)));
    ASSERT_EQ(ps->insns.size(), bpf_program__insn_cnt(p));
    const bpf_insn* k = bpf_program__insns(p);
    ASSERT_NE(k, nullptr);
    for (size_t pc = 0; pc < ps->insns.size(); ++pc) {
      const isa::Insn& a = ps->insns[pc];
      EXPECT_EQ(a.opcode, k[pc].code) << pc;
      EXPECT_EQ(a.dst, k[pc].dst_reg) << pc;
      EXPECT_EQ(a.src, k[pc].src_reg) << pc;
      EXPECT_EQ(a.off, k[pc].off) << pc;
      if (isa::is_lddw(a) && (a.src == isa::pseudo::MAP_FD || a.src == isa::pseudo::MAP_VALUE)) {
        // Ours holds the map index, libbpf the fd of that same map.
        ASSERT_LT(static_cast<size_t>(a.imm), ours->maps.size());
        bpf_map* km = bpf_object__find_map_by_name(obj.get(), ours->maps[static_cast<size_t>(a.imm)].spec.name.c_str());
        ASSERT_NE(km, nullptr) << pc;
        if (loaded) {
          EXPECT_EQ(bpf_map__fd(km), k[pc].imm) << pc;
        }
      } else {
        EXPECT_EQ(a.imm, k[pc].imm) << pc;
      }
    }
  }
  EXPECT_EQ(programs, ours->programs.size());
}

class LoaderKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
    libbpf_set_print(nullptr);  // failures are reported through the assertions
  }
};

TEST_F(LoaderKernel, MatchesLibbpfOnBuiltObjects) {
  size_t objects = 0;
  for (const auto& e : fs::directory_iterator(USERBPF_PROGS_DIR)) {
    if (!e.path().string().ends_with(".bpf.o")) continue;
    ++objects;
    compare_with_libbpf(e.path().string());
  }
  EXPECT_GE(objects, 16u);
}

TEST_F(LoaderKernel, MatchesLibbpfAcrossCompilersAndCpus) {
  const std::vector<std::pair<std::string, std::string>> builds = {
      {"clang-14", "v1"}, {"clang-14", "v3"}, {"clang-19", "v1"}, {"clang-19", "v2"}};
  const fs::path src_dir = fs::path(USERBPF_SOURCE_DIR) / "tests" / "progs";
  const fs::path out_dir = fs::temp_directory_path() / ("userbpf_loader_" + std::to_string(getpid()));
  fs::create_directories(out_dir);
  const auto multiarch = test::run_process({"gcc", "-print-multiarch"});
  std::string arch = multiarch.out;
  while (!arch.empty() && (arch.back() == '\n' || arch.back() == '\r')) arch.pop_back();
  size_t compiled = 0;
  for (const auto& [cc, cpu] : builds) {
    if (test::run_process({cc, "--version"}).exit_code != 0) continue;  // compiler not installed
    for (const auto& e : fs::directory_iterator(src_dir)) {
      const std::string src = e.path().string();
      if (!src.ends_with(".bpf.c")) continue;
      const std::string stem = e.path().filename().string();
      const std::string out = (out_dir / (stem.substr(0, stem.find('.')) + "." + cc + "." + cpu + ".bpf.o")).string();
      auto r = test::run_process({cc, "-O2", "-g", "-target", "bpf", "-mcpu=" + cpu, "-I/usr/include/" + arch,
                                  "-I" + src_dir.string(), "-c", src, "-o", out},
                                 {}, 120000);
      // Some programs need newer instructions than -mcpu=v1 offers; those are clang's refusals, not ours.
      if (r.exit_code != 0) continue;
      ++compiled;
      compare_with_libbpf(out);
    }
  }
  fs::remove_all(out_dir);
  if (compiled == 0) GTEST_SKIP() << "no clang-14 / clang-19 to compile with";
}

}  // namespace
}  // namespace userbpf::testing
