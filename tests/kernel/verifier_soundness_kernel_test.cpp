// The soundness generator's programs given to the kernel's verifier as well:
// how often our verdict differs from the kernel's, and a few programs of each
// kind of difference.  Diagnostic only (never fails on a difference): the
// kernel is stricter or looser than us in known ways, and the sweep in
// verifier_soundness_test.cpp is what decides soundness.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "support/verifier_fuzz_gen.h"
#include "support/verifier_oracle.h"
#include "userbpf/verifier.h"

namespace userbpf::testing {
namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

// The kernel's rejection message: the lines of the log that are not statistics
// (often two: "invalid access to packet, off=..." then "R7 offset is outside ...").
std::vector<std::string> kernel_messages(const std::string& log) {
  std::istringstream in(log);
  std::string line;
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("processed ", 0) == 0 || line.rfind("verification time", 0) == 0 ||
        line.rfind("stack depth", 0) == 0 || line.rfind("mark_precise", 0) == 0)
      continue;
    out.push_back(line);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += (s.empty() ? "" : " | ") + l;
  return s;
}

// Numbers and register names out, so that messages group by kind.
std::string shape(const std::string& msg) {
  std::string out;
  for (size_t i = 0; i < msg.size() && out.size() < 60; ++i) {
    if (std::isdigit(static_cast<unsigned char>(msg[i]))) {
      while (i + 1 < msg.size() && std::isalnum(static_cast<unsigned char>(msg[i + 1]))) ++i;
      out += 'N';
    } else {
      out += msg[i];
    }
  }
  return out;
}

struct KernelLoad {
  bool loaded = false;
  std::string message;                // all of the lines, joined
  std::vector<std::string> messages;  // kernel_messages()
};

// Creates the program's maps in the kernel, puts their fds in the lddw
// instructions and loads the program as XDP.
KernelLoad kernel_load(const SoundnessProgram& p, uint32_t log_level = 4, std::string* full_log = nullptr) {
  KernelLoad r;
  std::vector<int> fds;
  for (const auto& m : p.object.maps) {
    const int fd = bpf_map_create(static_cast<bpf_map_type>(m.spec.type), m.spec.name.c_str(), m.spec.key_size,
                                  m.spec.value_size, m.spec.max_entries, nullptr);
    if (fd < 0) {
      r.message = "map create failed: " + std::to_string(-fd);
      for (int f : fds) close(f);
      return r;
    }
    fds.push_back(fd);
  }
  std::vector<isa::Insn> insns = p.object.programs[0].insns;
  for (size_t i = 0; i + 1 < insns.size(); ++i)
    if (isa::is_lddw(insns[i])) {
      if (insns[i].src == isa::pseudo::MAP_FD || insns[i].src == isa::pseudo::MAP_VALUE)
        insns[i].imm = fds.at(static_cast<size_t>(insns[i].imm));
      ++i;
    }
  KernelLoadOptions lo;
  lo.uapi_type = BPF_PROG_TYPE_XDP;
  lo.log_level = log_level;  // 4, BPF_LOG_STATS: the error and the statistics
  lo.log_size = 16u << 20;
  const KernelProgram kp = KernelProgram::load(insns, lo);
  if (full_log) *full_log = kp.verifier_log();
  r.loaded = kp.loaded();
  if (!r.loaded) {
    r.messages = kernel_messages(kp.verifier_log());
    r.message = joined(r.messages);
  }
  if (!r.loaded && r.message.empty()) r.message = "errno " + std::to_string(kp.err());
  for (int f : fds) close(f);
  return r;
}

struct Example {
  std::string ours, kernels, program;
};

TEST(VerifierSoundnessKernel, VerdictsAgainstTheKernel) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  const uint64_t first = env_or("USERBPF_SOUNDNESS_FIRST", 0);
  const uint64_t n = env_or("USERBPF_SOUNDNESS_SEEDS", 1500);
  uint64_t both_accept = 0, both_reject = 0, same_reason = 0;
  // Per disagreement ("we accept, kernel rejects" / "we reject, kernel accepts"):
  // counts by the pair of messages, and a few whole examples.
  std::map<std::string, std::map<std::string, uint64_t>> kinds;
  std::map<std::string, std::vector<Example>> examples;
  uint64_t total[2] = {0, 0};
  for (uint64_t i = first; i < first + n; ++i) {
    ChoiceSource gen(i * 0x9e3779b97f4a7c15ull + 0x51);  // the seeds of verifier_soundness_test.cpp
    const SoundnessProgram p = generate_soundness_program(gen);
    auto ours = verifier::verify(p.object.programs[0], p.object.maps);
    ASSERT_TRUE(ours.ok()) << ours.error().str();
    const KernelLoad k = kernel_load(p);
    if (ours->accepted == k.loaded) {
      ++(k.loaded ? both_accept : both_reject);
      if (k.loaded) continue;
      // Both refuse: for the same reason?  (Our messages are the kernel's words.)
      const std::string a = shape(ours->error.message);
      if (std::any_of(k.messages.begin(), k.messages.end(), [&](const std::string& m) { return shape(m) == a; })) {
        ++same_reason;
        continue;
      }
      const std::string b = shape(k.message);
      const std::string kind = "both reject, for other reasons";
      ++kinds[kind][a + "  <->  " + b];
      auto& ex = examples[kind + a + "  <->  " + b];
      if (ex.empty()) ex.push_back({ours->error.str(), k.message, disassemble_with_maps(p.object.programs[0].insns)});
      continue;
    }
    const std::string kind = ours->accepted ? "we accept, the kernel rejects" : "we reject, the kernel accepts";
    ++total[ours->accepted ? 0 : 1];
    const std::string key = ours->accepted ? shape(k.message) : shape(ours->error.message);
    if (env_or("USERBPF_SOUNDNESS_VERBOSE", 0))
      std::cout << "seed index " << i << ": " << (ours->accepted ? "accepted only by us: " + k.message
                                                                  : "accepted only by the kernel: " + ours->error.str())
                << "\n";
    ++kinds[kind][key];
    auto& ex = examples[kind + key];
    if (ex.size() < 1)
      ex.push_back({ours->accepted ? "" : ours->error.str(), k.message,
                    disassemble_with_maps(p.object.programs[0].insns)});
  }
  std::cout << "[ kernel ] " << n << " programs: " << both_accept << " accepted by both, " << both_reject
            << " rejected by both (" << same_reason << " with the same message), " << total[0] << " accepted only by us, " << total[1]
            << " accepted only by the kernel\n";
  for (const auto& [kind, by] : kinds) {
    std::vector<std::pair<uint64_t, std::string>> v;
    for (const auto& [k, c] : by) v.emplace_back(c, k);
    std::sort(v.rbegin(), v.rend());
    std::cout << "  " << kind << ":\n";
    for (size_t j = 0; j < v.size() && j < 10; ++j) std::cout << "    " << v[j].first << "  " << v[j].second << "\n";
    const size_t shown = std::min<size_t>(v.size(), static_cast<size_t>(env_or("USERBPF_SOUNDNESS_EXAMPLES", 3)));
    for (size_t j = 0; j < shown; ++j)
      for (const Example& e : examples[kind + v[j].second])
        std::cout << "  ---- example (" << kind << ")\n  ours: " << (e.ours.empty() ? "accepted" : e.ours)
                  << "\n  kernel: " << (e.kernels.empty() ? "accepted" : e.kernels) << "\n"
                  << e.program;
  }
}

// USERBPF_SOUNDNESS_ASM=file.s (a listing from a report or from
// USERBPF_SOUNDNESS_SHOW): our verdict and the kernel's, with the end of the
// kernel's log (level 1: the path it refused; level 2 when it accepted).
TEST(VerifierSoundnessKernel, Reproducer) {
  const char* path = std::getenv("USERBPF_SOUNDNESS_ASM");
  if (!path || !*path) GTEST_SKIP() << "set USERBPF_SOUNDNESS_ASM to a program file";
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  std::ifstream f(path);
  ASSERT_TRUE(f) << path;
  std::stringstream text;
  text << f.rdbuf();
  auto p = soundness_program_from_asm(text.str());
  ASSERT_TRUE(p.ok()) << p.error().str();
  verifier::VerifyOptions vo;
  vo.log = true;
  auto ours = verifier::verify(p->object.programs[0], p->object.maps, vo);
  ASSERT_TRUE(ours.ok()) << ours.error().str();
  std::string log;
  KernelLoad k = kernel_load(*p, 1 | 4, &log);
  if (k.loaded) k = kernel_load(*p, 2 | 4, &log);  // level 1 keeps nothing of an accepted program
  std::cout << "ours: " << (ours->accepted ? "accepted" : ours->error.str()) << "\n"
            << "kernel: " << (k.loaded ? "accepted" : k.message) << "\n";
  std::istringstream in(log);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const size_t tail = static_cast<size_t>(env_or("USERBPF_SOUNDNESS_LOG_LINES", 60));
  std::cout << "kernel log (last " << tail << " lines):\n";
  for (size_t i = lines.size() > tail ? lines.size() - tail : 0; i < lines.size(); ++i) std::cout << lines[i] << "\n";
  if (!ours->accepted) std::cout << "our log:\n" << ours->log;
}

}  // namespace
}  // namespace userbpf::testing
