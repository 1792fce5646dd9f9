// Verification time per program: userbpf's verifier::verify next to the kernel's
// own "verification time N usec" (BPF_LOG_STATS) for the same program, on the
// verifier corpus (tests/verifier: C objects and asm cases) and on the real
// programs in ${build}/progs (tests/progs and examples, -mcpu=v3 and v4).
//
//   Verify/<group>/<program>   counters ours_us, kernel_us (median of kKernelLoads
//                              loads), ratio, ours_insns, kernel_insns (processed),
//                              agree (1 when both verdicts match); label says the
//                              verdict and DISAGREE when they differ.
//   VerifyTotal                sums over every program, their ratio and the
//                              geometric mean of per-program ratios; a table of the
//                              slowest programs goes to stderr.
//
// Run with `userbpf_bench --benchmark_filter=Verify`.  Without a usable bpf()
// (not root, no CAP_BPF) the kernel columns are left out.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "support/kernel_verdict.h"
#include "support/verifier_corpus.h"
#include "userbpf/loader.h"
#include "userbpf/verifier.h"

namespace {

namespace fs = std::filesystem;
using namespace userbpf;
using Clock = std::chrono::steady_clock;

// The kernel's number is wall time of one load at microsecond resolution and
// jumps with whatever else runs; the median of a few loads steadies it.
constexpr int kKernelLoads = 5;
// VerifyTotal times programs no Verify/ benchmark measured (filtered out) itself:
// at least this long and this many verifications each.
constexpr double kTotalMinSeconds = 0.05;
constexpr int kTotalMinIterations = 3;

// One program to verify, listed at start-up.
struct Case {
  std::string group;  // "corpus", "asm", "progs"
  std::string name;   // benchmark name below the group
  std::string path;   // object or .s file
  std::string program;
  bool is_asm = false;
  std::string error;  // the case could not be listed
};

// What one program costs on each side.
struct Measurement {
  bool ours_valid = false;
  double ours_us = 0;      // wall time, as the kernel's number is
  double ours_cpu_us = 0;  // this thread's CPU time: the machine may be busy
  uint64_t ours_insns = 0;
  bool ours_accepted = false;
  bool kernel_valid = false;  // the kernel verified it and its log has the statistics
  double kernel_us = 0;
  uint64_t kernel_insns = 0;
  bool kernel_accepted = false;
};

std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

// Filled by the Verify/ benchmarks (index into cases()), read by VerifyTotal.
std::map<size_t, Measurement>& results() {
  static std::map<size_t, Measurement> all;
  return all;
}

// A program ready for verifier::verify: the spec, its object's maps, the options
// the runtime would use.  Objects are loaded once and kept for the whole run.
struct Subject {
  const loader::ProgramSpec* prog = nullptr;
  std::span<const loader::MapDef> maps;
  verifier::VerifyOptions opts;
};

Result<Subject> subject_for(const Case& c) {
  if (!c.error.empty()) return make_error(ErrorKind::InvalidArgument, c.error);
  Subject s;
  if (c.is_asm) {
    static std::map<std::string, std::unique_ptr<testing::AsmProgram>> asm_cache;
    auto& slot = asm_cache[c.path];
    if (!slot) {
      auto prog = testing::load_asm_case(c.path);
      if (!prog) return prog.error();
      slot = std::make_unique<testing::AsmProgram>(std::move(*prog));
    }
    s.prog = &slot->spec;
    return s;
  }
  static std::map<std::string, std::unique_ptr<Result<loader::ObjectSpec>>> obj_cache;
  auto& slot = obj_cache[c.path];
  if (!slot) slot = std::make_unique<Result<loader::ObjectSpec>>(loader::load_object(c.path));
  if (!*slot) return slot->error();
  const loader::ObjectSpec& obj = **slot;
  s.prog = obj.find_program(c.program);
  if (s.prog == nullptr) return make_error(ErrorKind::InvalidArgument, "no program " + c.program + " in " + c.path);
  s.maps = obj.maps;
  s.opts.gpl_compatible = verifier::license_is_gpl_compatible(obj.license);
  return s;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Programs that ran into the 1M processed-instruction limit dominate any sum;
// totals are also given without them.
bool hit_limit(const Measurement& m) { return m.ours_insns >= 1'000'000 || m.kernel_insns >= 1'000'000; }

// The kernel verifier's verdict.  KernelVerdict::loaded is the whole libbpf
// load: a program the verifier accepted still fails it when libbpf then fills a
// prog_array slot (`.values = {...}`) with another program of the object, which
// is not loaded.  libbpf says "prog 'name': failed to load" only when the
// BPF_PROG_LOAD itself failed.
bool kernel_verifier_accepted(const testing::KernelVerdict& k, const Case& c) {
  if (k.loaded || c.is_asm) return k.loaded;
  return k.log.find("prog '" + c.program + "': failed to load") == std::string::npos;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The kernel's side: verdict and processed insns of the first load, median
// verification time of kKernelLoads loads.  Rejections are not traced again.
void measure_kernel_uncached(const Case& c, Measurement& m) {
  if (!testing::kernel_bpf_available()) return;
  testing::KernelVerdictOptions ko;
  ko.trace_on_reject = false;
  std::optional<testing::AsmProgram> asm_prog;
  if (c.is_asm) {
    auto p = testing::load_asm_case(c.path);
    if (!p) return;
    asm_prog = std::move(*p);
  }
  std::vector<double> times;
  for (int i = 0; i < kKernelLoads; ++i) {
    const testing::KernelVerdict k = c.is_asm ? testing::kernel_verify_insns(asm_prog->insns, asm_prog->prog_type, ko)
                                              : testing::kernel_verify_object(c.path, c.program, ko);
    // No statistics: the load failed before the verifier ran (libbpf, map creation).
    if (!k.available || k.log.find("verification time ") == std::string::npos) return;
    if (i == 0) {
      m.kernel_accepted = kernel_verifier_accepted(k, c);
      m.kernel_insns = k.processed_insns;
    }
    times.push_back(static_cast<double>(k.verification_time_us));
  }
  m.kernel_valid = true;
  m.kernel_us = median(times);
}

// Google Benchmark calls a benchmark several times while it sizes the iteration
// count; the kernel is asked once per program.
void measure_kernel(size_t index, Measurement& m) {
  static std::map<size_t, Measurement> cache;
  auto it = cache.find(index);
  if (it == cache.end()) {
    Measurement k;
    measure_kernel_uncached(cases()[index], k);
    it = cache.emplace(index, k).first;
  }
  m.kernel_valid = it->second.kernel_valid;
  m.kernel_us = it->second.kernel_us;
  m.kernel_insns = it->second.kernel_insns;
  m.kernel_accepted = it->second.kernel_accepted;
}

// Counters for one program (or, in VerifyTotal, nothing: its counters are sums).
void report(benchmark::State& state, const Measurement& m) {
  state.counters["ours_us"] = m.ours_us;
  state.counters["ours_cpu_us"] = m.ours_cpu_us;
  state.counters["ours_insns"] = static_cast<double>(m.ours_insns);
  std::string label = m.ours_accepted ? "accept" : "reject";
  if (m.kernel_valid) {
    state.counters["kernel_us"] = m.kernel_us;
    state.counters["kernel_insns"] = static_cast<double>(m.kernel_insns);
    // A kernel time of 0 means under a microsecond: no finite ratio.
    if (m.kernel_us > 0) state.counters["ratio"] = m.ours_us / m.kernel_us;
    const bool agree = m.ours_accepted == m.kernel_accepted;
    state.counters["agree"] = agree ? 1 : 0;
    if (!agree) label += m.kernel_accepted ? " DISAGREE(kernel accepts)" : " DISAGREE(kernel rejects)";
  } else {
    label += testing::kernel_bpf_available() ? " (no kernel statistics)" : " (no kernel)";
  }
  state.SetLabel(label);
}

void BM_Verify(benchmark::State& state, size_t index) {
  const Case& c = cases()[index];
  auto subject = subject_for(c);
  if (!subject) {
    state.SkipWithError(subject.error().str().c_str());
    return;
  }
  Measurement m;
  uint64_t iterations = 0;
  const auto start = Clock::now();
  const double cpu_start = thread_cpu_us();
  for (auto _ : state) {
    auto r = verifier::verify(*subject->prog, subject->maps, subject->opts);
    if (!r) {
      state.SkipWithError(r.error().str().c_str());
      return;
    }
    m.ours_accepted = r->accepted;
    m.ours_insns = r->stats.processed_insns;
    benchmark::DoNotOptimize(r);
    ++iterations;
  }
  const std::chrono::duration<double, std::micro> spent = Clock::now() - start;
  const double cpu = thread_cpu_us() - cpu_start;
  m.ours_valid = iterations > 0;
  m.ours_us = iterations ? spent.count() / static_cast<double>(iterations) : 0;
  m.ours_cpu_us = iterations ? cpu / static_cast<double>(iterations) : 0;
  measure_kernel(index, m);
  results()[index] = m;
  report(state, m);
}

// Our side for VerifyTotal, for programs no Verify/ benchmark ran.
std::optional<Measurement> measure_alone(size_t index) {
  auto subject = subject_for(cases()[index]);
  if (!subject) return std::nullopt;
  Measurement m;
  int iterations = 0;
  const auto start = Clock::now();
  const double cpu_start = thread_cpu_us();
  std::chrono::duration<double> spent{};
  while (iterations < kTotalMinIterations || spent.count() < kTotalMinSeconds) {
    auto r = verifier::verify(*subject->prog, subject->maps, subject->opts);
    if (!r) return std::nullopt;
    m.ours_accepted = r->accepted;
    m.ours_insns = r->stats.processed_insns;
    ++iterations;
    spent = Clock::now() - start;
  }
  m.ours_valid = true;
  m.ours_us = std::chrono::duration<double, std::micro>(spent).count() / iterations;
  m.ours_cpu_us = (thread_cpu_us() - cpu_start) / iterations;
  measure_kernel(index, m);
  return m;
}

struct Row {
  const Case* c;
  Measurement m;
};

std::string row_name(const Row& r) { return r.c->group + "/" + r.c->name; }

void print_rows(const char* title, const std::vector<Row>& rows, size_t limit) {
  std::fprintf(stderr, "%s\n  %-58s %10s %10s %10s %7s %10s %10s %s\n", title, "program", "ours_us", "ours_cpu",
               "kernel_us", "ratio", "ours_ins", "kern_ins", "verdict");
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    const Row& r = rows[i];
    const Measurement& m = r.m;
    char kernel_us[32] = "-", ratio[32] = "-", kernel_insns[32] = "-";
    if (m.kernel_valid) {
      std::snprintf(kernel_us, sizeof kernel_us, "%.0f", m.kernel_us);
      std::snprintf(kernel_insns, sizeof kernel_insns, "%llu", static_cast<unsigned long long>(m.kernel_insns));
      if (m.kernel_us > 0) std::snprintf(ratio, sizeof ratio, "%.2f", m.ours_us / m.kernel_us);
    }
    std::string verdict = m.ours_accepted ? "accept" : "reject";
    if (m.kernel_valid && m.kernel_accepted != m.ours_accepted) verdict += " DISAGREE";
    std::fprintf(stderr, "  %-58s %10.1f %10.1f %10s %7s %10llu %10s %s\n", row_name(r).c_str(), m.ours_us,
                 m.ours_cpu_us, kernel_us, ratio,
                 static_cast<unsigned long long>(m.ours_insns), kernel_insns, verdict.c_str());
  }
}

// Sums over the programs both sides measured, so the ratio compares like with like.
struct Totals {
  size_t programs = 0, in_geomean = 0, disagree = 0;
  double ours = 0, ours_cpu = 0, kernel = 0, log_ratio_sum = 0;

  void add(const Measurement& m) {
    ++programs;
    ours += m.ours_us;
    ours_cpu += m.ours_cpu_us;
    kernel += m.kernel_us;
    if (m.kernel_accepted != m.ours_accepted) ++disagree;
    // A kernel time of 0 (under a microsecond) has no finite ratio.
    if (m.kernel_us > 0 && m.ours_us > 0) {
      log_ratio_sum += std::log(m.ours_us / m.kernel_us);
      ++in_geomean;
    }
  }
  double ratio() const { return kernel > 0 ? ours / kernel : 0; }
  double geomean() const { return in_geomean ? std::exp(log_ratio_sum / static_cast<double>(in_geomean)) : 0; }

  void print(const char* title) const {
    std::fprintf(stderr, "%s: %zu programs\n", title, programs);
    std::fprintf(stderr, "  ours:   %12.1f us wall  (%.1f us CPU)\n", ours, ours_cpu);
    std::fprintf(stderr, "  kernel: %12.1f us (median of %d loads each)\n", kernel, kKernelLoads);
    std::fprintf(stderr, "  ratio ours/kernel: %.3f total, %.3f geomean of %zu per-program ratios\n", ratio(), geomean(),
                 in_geomean);
  }
};

void BM_VerifyTotal(benchmark::State& state) {
  std::vector<Row> rows;
  size_t unusable = 0;
  for (auto _ : state) {
    rows.clear();
    unusable = 0;
    for (size_t i = 0; i < cases().size(); ++i) {
      auto it = results().find(i);
      if (it != results().end()) {
        rows.push_back({&cases()[i], it->second});
        continue;
      }
      auto m = measure_alone(i);
      if (m)
        rows.push_back({&cases()[i], *m});
      else
        ++unusable;
    }
  }
  double ours_all = 0;
  Totals all, below_limit;
  for (const Row& r : rows) {
    ours_all += r.m.ours_us;
    if (!r.m.kernel_valid) continue;
    all.add(r.m);
    if (!hit_limit(r.m)) below_limit.add(r.m);
  }
  state.counters["programs"] = static_cast<double>(rows.size());
  state.counters["unusable"] = static_cast<double>(unusable);
  state.counters["ours_total_us"] = ours_all;
  if (all.programs > 0) {
    state.counters["compared"] = static_cast<double>(all.programs);
    state.counters["ours_cmp_us"] = all.ours;
    state.counters["ours_cmp_cpu_us"] = all.ours_cpu;
    state.counters["kernel_total_us"] = all.kernel;
    state.counters["ratio"] = all.ratio();
    state.counters["geomean_ratio"] = all.geomean();
    state.counters["ratio_below_limit"] = below_limit.ratio();
    state.counters["disagree"] = static_cast<double>(all.disagree);
  }

  std::fprintf(stderr, "\nverification time: %zu programs (%zu unusable); ours, all of them: %.1f us\n", rows.size(),
               unusable, ours_all);
  if (all.programs > 0) {
    all.print("programs with kernel statistics");
    below_limit.print("of those, below the 1M processed-insn limit");
    std::fprintf(stderr, "verdicts differing from the kernel's: %zu\n", all.disagree);
  } else {
    std::fprintf(stderr, "no kernel statistics: %s\n",
                 testing::kernel_bpf_available() ? "no load reported any" : testing::kernel_bpf_unavailable_reason().c_str());
  }
  auto by_ours = rows;
  std::sort(by_ours.begin(), by_ours.end(), [](const Row& a, const Row& b) { return a.m.ours_us > b.m.ours_us; });
  print_rows("\nslowest for userbpf:", by_ours, 10);
  std::vector<Row> by_ratio;
  for (const Row& r : rows)
    if (r.m.kernel_valid && r.m.kernel_us > 0) by_ratio.push_back(r);
  std::sort(by_ratio.begin(), by_ratio.end(), [](const Row& a, const Row& b) {
    return a.m.ours_us / a.m.kernel_us > b.m.ours_us / b.m.kernel_us;
  });
  print_rows("\nhighest ratio ours/kernel:", by_ratio, 10);
  std::vector<Row> differing;
  for (const Row& r : rows)
    if (r.m.kernel_valid && r.m.kernel_accepted != r.m.ours_accepted) differing.push_back(r);
  if (!differing.empty()) print_rows("\nverdicts differing from the kernel's:", differing, differing.size());
  std::fprintf(stderr, "\n");
}

// Every program of the real objects, named "<object>.<cpu>/<program>".
void add_progs_cases(const std::string& dir) {
  std::vector<fs::path> objects;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().string().ends_with(".bpf.o")) objects.push_back(e.path());
  std::sort(objects.begin(), objects.end());
  for (const auto& path : objects) {
    std::string stem = path.filename().string();
    stem = stem.substr(0, stem.size() - std::string(".bpf.o").size());  // "xdp_parse.v3"
    auto obj = loader::load_object(path.string());
    if (!obj) {
      cases().push_back({"progs", stem, path.string(), "", false, obj.error().str()});
      continue;
    }
    for (const loader::ProgramSpec& p : obj->programs)
      cases().push_back({"progs", stem + "/" + p.name, path.string(), p.name, false, ""});
  }
}

void add_corpus_cases() {
  for (const testing::CorpusCase& c : testing::verifier_corpus_c())
    cases().push_back({"corpus", c.label(), c.path, c.program, false, c.error});
  for (const testing::CorpusCase& c : testing::verifier_corpus_asm())
    cases().push_back({"asm", c.program, c.path, c.program, true, c.error});
}

// Registered at start-up, before benchmark_main parses flags: the list of
// programs is what is on disk in the build directory.
[[maybe_unused]] const bool registered = [] {
  add_corpus_cases();
  add_progs_cases(USERBPF_PROGS_DIR);
  for (size_t i = 0; i < cases().size(); ++i) {
    const Case& c = cases()[i];
    benchmark::RegisterBenchmark(("Verify/" + c.group + "/" + c.name).c_str(), BM_Verify, i)
        ->Unit(benchmark::kMicrosecond);
  }
  // Last, so it sums what the per-program benchmarks measured in this run.
  benchmark::RegisterBenchmark("VerifyTotal", BM_VerifyTotal)->Iterations(1)->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
