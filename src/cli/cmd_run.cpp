// userbpf run: execute a program on input data, printing what `bpftool prog run` prints.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace userbpf::cli {
namespace {

struct RunArgs {
  std::string path;
  std::string engine = "interp";
  std::string data_in;
  std::string data_out;
  uint64_t repeat = 1;
  bool json = false;
};

int run(const RunArgs& a) {
  auto bytes = read_file(a.path);
  if (!bytes) return report(bytes.error());
  if (is_elf(*bytes))
    return report(make_error(ErrorKind::Unsupported, "running ELF objects needs the loader, which is not built yet"));
  auto insns = isa::from_bytes(*bytes);
  if (!insns) return report(insns.error());
  std::vector<uint8_t> data;
  if (!a.data_in.empty()) {
    auto d = read_file(a.data_in);
    if (!d) return report(d.error());
    data = std::move(*d);
  }
  vm::HelperRegistry helpers;
  vm::EngineOptions opts;
  opts.helpers = &helpers;
  auto engine = vm::make_engine(a.engine, *insns, opts);
  if (!engine) return report(engine.error());
  if (a.repeat == 0) return report(make_error(ErrorKind::InvalidArgument, "--repeat must be at least 1"));

  // Raw bytecode follows the conformance convention: r1 = data, r2 = its length.
  // Every repetition starts from the same input, as BPF_PROG_TEST_RUN does.
  std::vector<uint8_t> work = data;
  vm::ExecContext ctx;
  ctx.helpers = &helpers;
  uint64_t r0 = 0;
  std::chrono::nanoseconds total{0};
  for (uint64_t i = 0; i < a.repeat; ++i) {
    std::copy(data.begin(), data.end(), work.begin());
    ctx.regions.assign(1, vm::Region{reinterpret_cast<uintptr_t>(work.data()), work.size(), true, "data"});
    ctx.args[0] = work.empty() ? 0 : reinterpret_cast<uintptr_t>(work.data());
    ctx.args[1] = work.size();
    const auto t0 = std::chrono::steady_clock::now();
    auto res = (*engine)->run(ctx);
    total += std::chrono::steady_clock::now() - t0;
    if (!res) return report(res.error());
    r0 = *res;
  }
  const uint64_t avg = static_cast<uint64_t>(total.count()) / a.repeat;
  if (!a.data_out.empty())
    if (auto st = write_file(a.data_out, work); !st) return report(st.error());
  std::printf("Return value: %" PRIu64 ", duration%s: %" PRIu64 "ns\n", r0, a.repeat > 1 ? " (average)" : "", avg);
  if (a.json) std::printf("{\"retval\":%" PRIu64 ",\"duration\":%" PRIu64 "}\n", r0, avg);
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  static RunArgs args;
  auto* r = app.add_subcommand("run", "Run a program on input data (like bpftool prog run)");
  r->add_option("FILE", args.path, "raw bytecode file")->required();
  r->add_option("--engine", args.engine, "execution engine: interp or jit")->check(CLI::IsMember({"interp", "jit"}));
  r->add_option("--data,--data-in", args.data_in, "input data file (r1 points to it, r2 holds its length)");
  r->add_option("--data-out", args.data_out, "write the data after the run to this file");
  r->add_option("--repeat", args.repeat, "run N times and report the average duration");
  r->add_flag("--json", args.json, "also print {\"retval\":R,\"duration\":D} as the last line");
  r->callback([&action] { action = [] { return run(args); }; });
}

}  // namespace userbpf::cli
