// userbpf_suite: runs every program of bench/progs on one packet with userbpf's
// JIT and interpreter, the kernel's JIT (BPF_PROG_TEST_RUN) and native C, checks
// that all of them agree (return value, output packet, maps), and prints ns per
// run with the ratios ours / kernel and their geometric means.
//
// Exit status: 0 everything agreed, 1 a disagreement or a failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

#include "suite.h"

namespace userbpf::bench {
namespace {

struct Options {
  bool smoke = false;
  std::vector<std::string> only;
  uint32_t repeat = 0;  // 0: calibrated per engine
  int trials = 5;
  double target_ms = 100;
  bool no_kernel = false;
  std::string dir = USERBPF_BENCH_PROGS_DIR;
};

struct Row {
  const ProgramInfo* info = nullptr;
  size_t size = 0;            // instructions of the loaded program
  uint64_t executed = 0;      // instructions the interpreter executed in one run
  std::optional<double> jit, interp, kernel, native, jit_compile;  // ns per run; compile: ns per insn
  std::vector<std::string> problems;  // disagreements and failures
};

std::string hex(uint32_t v) { return fmt::format("{:#x}", v); }

// What differs between two outcomes, "" when nothing does.
std::string compare(const RunOutcome& ref, const RunOutcome& got, bool with_maps) {
  if (ref.retval != got.retval) return fmt::format("retval {} != {}", hex(got.retval), hex(ref.retval));
  if (ref.data_out != got.data_out) {
    if (ref.data_out.size() != got.data_out.size())
      return fmt::format("output packet of {} bytes != {}", got.data_out.size(), ref.data_out.size());
    size_t i = 0;
    while (ref.data_out[i] == got.data_out[i]) ++i;
    return fmt::format("output packet differs at byte {}", i);
  }
  if (!with_maps) return "";
  for (const auto& [name, elems] : ref.maps) {
    auto it = got.maps.find(name);
    if (it == got.maps.end()) return "map '" + name + "' missing";
    if (it->second.size() != elems.size())
      return fmt::format("map '{}' has {} elements != {}", name, it->second.size(), elems.size());
    if (it->second != elems) return "map '" + name + "' contents differ";
  }
  if (got.maps.size() != ref.maps.size()) return "different maps";
  return "";
}

using Timer = std::function<Result<double>(uint32_t repeat)>;

// Repeat count so that one measurement takes about target_ms.
Result<uint32_t> calibrate(const Timer& t, double target_ms) {
  uint32_t n = 10;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = t(n);
    if (!r) return r.error();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (ms >= 2 || n >= 10'000'000) {
      const double per_run_ms = std::max(ms / n, 1e-7);
      return static_cast<uint32_t>(std::clamp(target_ms / per_run_ms, 10.0, 50e6));
    }
    n *= 10;
  }
}

struct Column {
  std::string name;
  Timer timer;
  std::optional<double>* out;
  uint32_t repeat = 0;
};

// Each measurement is the best of `trials`, the engines taking turns so that
// load from elsewhere hits them alike.
void measure(std::vector<Column>& cols, const Options& o, Row& row) {
  for (Column& c : cols) {
    if (o.repeat || o.smoke) {
      c.repeat = o.repeat ? o.repeat : 10;
      continue;
    }
    auto n = calibrate(c.timer, o.target_ms);
    if (!n) {
      row.problems.push_back(c.name + " timing: " + n.error().str());
      c.timer = nullptr;
      continue;
    }
    c.repeat = *n;
  }
  const int trials = o.smoke ? 1 : std::max(1, o.trials);
  for (int t = 0; t < trials; ++t)
    for (Column& c : cols) {
      if (!c.timer) continue;
      auto ns = c.timer(c.repeat);
      if (!ns) {
        row.problems.push_back(c.name + " timing: " + ns.error().str());
        c.timer = nullptr;
        continue;
      }
      if (!*c.out || *ns < **c.out) *c.out = *ns;
    }
}

Row run_program(const ProgramInfo& p, const Options& o, bool use_kernel, const Bytes& pkt,
                std::set<std::string>& notes) {
  Row row;
  row.info = &p;
  const std::string path = o.dir + "/" + p.name + ".bpf.o";
  const std::vector<MapEntry> entries = p.fill ? p.fill(pkt) : std::vector<MapEntry>{};

  auto interp = OurRunner::load(path, p.name, "interp");
  if (!interp) {
    row.problems.push_back("interp load: " + interp.error().str());
    return row;
  }
  auto jit = OurRunner::load(path, p.name, "jit");
  if (!jit) {
    if (jit.error().kind == ErrorKind::Unsupported) {
      // One note per reason, not per program.
      std::string why = jit.error().message;
      const std::string prefix = "program '" + p.name + "': ";
      if (why.starts_with(prefix)) why.erase(0, prefix.size());
      notes.insert("jit n/a: " + why);
    }
    else row.problems.push_back("jit load: " + jit.error().str());
  }
  std::optional<std::unique_ptr<KernelRunner>> kernel;
  if (use_kernel) {
    auto k = KernelRunner::load(path, p.name);
    if (!k) {
      row.problems.push_back("kernel load: " + k.error().str());
      return row;
    }
    kernel = std::move(*k);
  }
  if (auto st = (*interp)->fill(entries); !st) row.problems.push_back("interp maps: " + st.error().str());
  if (jit)
    if (auto st = (*jit)->fill(entries); !st) row.problems.push_back("jit maps: " + st.error().str());
  if (kernel)
    if (auto st = (*kernel)->fill(entries); !st) row.problems.push_back("kernel maps: " + st.error().str());
  if (!row.problems.empty()) return row;
  row.size = (*interp)->num_insns();

  // One run each from the same fresh state: results must agree, the kernel's
  // being the reference when there is one.
  auto ours = (*interp)->run_once(pkt);
  if (!ours) {
    row.problems.push_back("interp run: " + ours.error().str());
    return row;
  }
  row.executed = ours->insns;
  RunOutcome ref = *ours;
  std::string ref_name = "interp";
  if (kernel) {
    auto k = (**kernel).run_once(pkt);
    if (!k) {
      row.problems.push_back("kernel run: " + k.error().str());
      return row;
    }
    ref = *k;
    ref_name = "kernel";
    if (auto d = compare(ref, *ours, true); !d.empty()) row.problems.push_back("interp vs kernel: " + d);
  }
  if (jit) {
    auto j = (*jit)->run_once(pkt);
    if (!j) row.problems.push_back("jit run: " + j.error().str());
    else if (auto d = compare(ref, *j, true); !d.empty()) row.problems.push_back("jit vs " + ref_name + ": " + d);
  }
  if (p.native)
    if (auto d = compare(ref, native_run_once(p.native, pkt), false); !d.empty())
      row.problems.push_back("native vs " + ref_name + ": " + d);
  if (!row.problems.empty()) return row;

  if (jit) {
    auto c = jit_compile_ns((*jit)->program());
    if (c) row.jit_compile = *c / static_cast<double>((*jit)->num_insns());
    else row.problems.push_back("jit compile: " + c.error().str());
  }
  std::vector<Column> cols;
  if (jit) cols.push_back({"jit", [&](uint32_t n) { return (*jit)->time(pkt, n); }, &row.jit});
  cols.push_back({"interp", [&](uint32_t n) { return (*interp)->time(pkt, n); }, &row.interp});
  if (kernel) cols.push_back({"kernel", [&](uint32_t n) { return (**kernel).time(pkt, n); }, &row.kernel});
  if (p.native)
    cols.push_back({"native", [&](uint32_t n) -> Result<double> { return native_time(p.native, pkt, n); },
                    &row.native});
  measure(cols, o, row);
  return row;
}

std::string num(const std::optional<double>& v, const char* missing = "n/a") {
  if (!v) return missing;
  return *v >= 100 ? fmt::format("{:.0f}", *v) : fmt::format("{:.1f}", *v);
}

std::optional<double> ratio(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::string ratio_str(const std::optional<double>& r) { return r ? fmt::format("{:.2f}", *r) : "n/a"; }

// Geometric mean of the ratios that exist, with their count.
std::pair<std::optional<double>, int> geomean(const std::vector<std::optional<double>>& rs) {
  double log_sum = 0;
  int n = 0;
  for (const auto& r : rs)
    if (r && *r > 0) {
      log_sum += std::log(*r);
      ++n;
    }
  if (!n) return {std::nullopt, 0};
  return {std::exp(log_sum / n), n};
}

void print_table(const std::vector<Row>& rows) {
  fmt::print("{:<14} {:<8} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}  {}\n", "program", "category",
             "insns", "exec", "jit", "interp", "kernel", "native", "jit/k", "interp/k", "jit c/i", "result");
  std::vector<std::optional<double>> jit_r, interp_r, native_r;
  double compile_ns = 0, compile_insns = 0;
  for (const Row& r : rows) {
    const auto jr = ratio(r.jit, r.kernel), ir = ratio(r.interp, r.kernel), nr = ratio(r.native, r.kernel);
    jit_r.push_back(jr);
    interp_r.push_back(ir);
    native_r.push_back(nr);
    if (r.jit_compile) {
      compile_ns += *r.jit_compile * static_cast<double>(r.size);
      compile_insns += static_cast<double>(r.size);
    }
    fmt::print("{:<14} {:<8} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}  {}\n", r.info->name,
               r.info->category, r.size, r.executed, num(r.jit), num(r.interp), num(r.kernel),
               num(r.native, r.info->native ? "n/a" : "-"), ratio_str(jr), ratio_str(ir),
               num(r.jit_compile), r.problems.empty() ? "ok" : "FAIL");
    for (const std::string& p : r.problems) fmt::print("    {}\n", p);
  }
  auto line = [](const char* what, std::pair<std::optional<double>, int> g) {
    fmt::print("geomean {:<16} {}  (over {} programs)\n", what, ratio_str(g.first), g.second);
  };
  fmt::print("\n");
  line("jit/kernel", geomean(jit_r));
  line("interp/kernel", geomean(interp_r));
  line("native/kernel", geomean(native_r));
  if (compile_insns > 0)
    fmt::print("jit compile: {:.1f} ns per instruction over {:.0f} instructions\n", compile_ns / compile_insns,
               compile_insns);
}

int run(const Options& o) {
  std::vector<const ProgramInfo*> progs;
  for (const ProgramInfo& p : suite_programs())
    if (o.only.empty() || std::find(o.only.begin(), o.only.end(), p.name) != o.only.end()) progs.push_back(&p);
  for (const std::string& n : o.only)
    if (std::none_of(progs.begin(), progs.end(), [&](const ProgramInfo* p) { return p->name == n; })) {
      fmt::print(stderr, "userbpf_suite: no program '{}' in the suite\n", n);
      return 2;
    }
  std::string why;
  const bool use_kernel = !o.no_kernel && kernel_available(&why);
  if (o.no_kernel) why = "--no-kernel";
  const Bytes pkt = suite_packet();
  fmt::print("userbpf benchmark suite: {} programs, {}-byte Ethernet/IPv4/TCP packet, {}\n", progs.size(),
             pkt.size(),
             o.smoke ? "smoke mode (10 runs, timings not meaningful)"
                     : (o.repeat ? fmt::format("{} runs per measurement, best of {}", o.repeat, o.trials)
                                 : fmt::format("~{} ms per measurement, best of {}", o.target_ms, o.trials)));
  if (!use_kernel) fmt::print("kernel: n/a ({})\n", why);
  fmt::print("columns: ns per run; insns = program size, exec = instructions executed (interpreter); "
             "jit c/i = JIT compile ns per instruction\n\n");
  std::vector<Row> rows;
  std::set<std::string> notes;
  for (const ProgramInfo* p : progs) {
    rows.push_back(run_program(*p, o, use_kernel, pkt, notes));
    fmt::print(stderr, "  {} done\n", p->name);
  }
  print_table(rows);
  for (const std::string& n : notes) fmt::print("note: {}\n", n);
  const bool failed = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return !r.problems.empty(); });
  if (failed) fmt::print("FAILED: results disagree or a run failed (see above)\n");
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace userbpf::bench

int main(int argc, char** argv) {
  userbpf::bench::Options o;
  CLI::App app{"userbpf benchmark suite: userbpf JIT / interpreter vs the kernel's JIT vs native C"};
  bool list = false;
  app.add_flag("--smoke", o.smoke, "check agreement, time only 10 runs (for tests)");
  app.add_option("--prog", o.only, "only these programs (repeatable)");
  app.add_option("--repeat", o.repeat, "runs per measurement (default: calibrated to --target-ms)");
  app.add_option("--trials", o.trials, "measurements per engine, the best one kept (default 5)");
  app.add_option("--target-ms", o.target_ms, "time per measurement when calibrating (default 100)");
  app.add_flag("--no-kernel", o.no_kernel, "leave the kernel out");
  app.add_option("--progs-dir", o.dir, "where the .bpf.o files are");
  app.add_flag("--list", list, "list the programs and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (list) {
    for (const auto& p : userbpf::bench::suite_programs())
      fmt::print("{} {}{}\n", p.name, p.category, p.native ? " native" : "");
    return 0;
  }
  return userbpf::bench::run(o);
}
