// userbpf run: execute a program on input data, printing what `bpftool prog run` prints.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/map_dump.h"
#include "userbpf/hooks.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/runtime.h"
#include "userbpf/vm.h"

namespace userbpf::cli {
namespace {

struct RunArgs {
  std::string path;
  std::string engine = "auto";
  std::string data_in;
  std::string data_out;
  std::string ctx_in;
  std::string ctx_out;
  std::string prog;
  uint64_t repeat = 1;
  bool json = false;
  bool dump_maps = false;
  bool no_verify = false;
};

void print_result(const RunArgs& a, uint64_t retval, uint64_t avg_ns) {
  std::printf("Return value: %" PRIu64 ", duration%s: %" PRIu64 "ns\n", retval, a.repeat > 1 ? " (average)" : "",
              avg_ns);
  if (a.json) std::printf("{\"retval\":%" PRIu64 ",\"duration\":%" PRIu64 "}\n", retval, avg_ns);
}

Result<std::vector<uint8_t>> optional_file(const std::string& path) {
  if (path.empty()) return std::vector<uint8_t>{};
  return read_file(path);
}

// `name` plus every program a prog_array slot of the object names (tail-call targets).
std::vector<std::string> programs_for(const loader::ObjectSpec& spec, const std::string& name) {
  std::vector<std::string> out{name};
  for (const auto& m : spec.maps)
    for (const auto& s : m.initial_slots)
      if (s.program_index >= 0 && static_cast<size_t>(s.program_index) < spec.programs.size())
        out.push_back(spec.programs[static_cast<size_t>(s.program_index)].name);
  return out;
}

// An ELF object: a fresh load (fresh maps) per invocation, as a kernel load is.
int run_object(const RunArgs& a, const std::vector<uint8_t>& bytes) {
  auto spec = loader::load_object(std::span<const uint8_t>(bytes), std::filesystem::path(a.path).stem().string());
  if (!spec) return report(spec.error());
  runtime::ObjectOptions oo;
  oo.engine = a.engine;
  oo.verify = !a.no_verify;
  // Load (and verify) the program asked for and those its prog_array maps name.
  if (!a.prog.empty()) oo.programs = programs_for(*spec, a.prog);
  else if (!spec->programs.empty()) oo.programs = programs_for(*spec, spec->programs.front().name);
  auto obj = runtime::Object::load(std::move(*spec), oo);
  if (!obj) return report(obj.error());
  const runtime::Program* prog = nullptr;
  if (a.prog.empty()) {
    if ((*obj)->programs().empty()) return report(make_error(ErrorKind::InvalidArgument, a.path + " has no program"));
    prog = (*obj)->programs().front().get();
  } else {
    prog = (*obj)->find_program(a.prog);
    if (!prog) return report(make_error(ErrorKind::InvalidArgument, "no program named '" + a.prog + "' in " + a.path));
  }
  if (!hooks::supports_test_run(prog->prog_type()))
    return report(make_error(ErrorKind::Unsupported, "program '" + prog->name() + "': test runs of its type (" +
                                                         std::to_string(prog->prog_type()) + ") are not supported"));
  hooks::TestRunInput in;
  auto data = optional_file(a.data_in);
  if (!data) return report(data.error());
  auto ctx = optional_file(a.ctx_in);
  if (!ctx) return report(ctx.error());
  in.data = std::move(*data);
  in.ctx_in = std::move(*ctx);
  in.repeat = static_cast<uint32_t>(a.repeat);
  // trace_printk output goes to stderr, one line per call.
  (*obj)->set_trace_sink([](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
    if (line.empty() || line.back() != '\n') std::fputc('\n', stderr);
  });
  auto res = hooks::test_run(*prog, in);
  if (!res) return report(res.error());
  if (!a.data_out.empty())
    if (auto st = write_file(a.data_out, res->data_out); !st) return report(st.error());
  if (!a.ctx_out.empty())
    if (auto st = write_file(a.ctx_out, res->ctx_out); !st) return report(st.error());
  if (a.dump_maps)
    for (size_t i = 0; i < (*obj)->num_maps(); ++i)
      if (maps::Map* m = (*obj)->map(i)) dump_map(stdout, *m);
  print_result(a, res->retval, res->duration_ns);
  return kExitOk;
}

int run(const RunArgs& a) {
  auto bytes = read_file(a.path);
  if (!bytes) return report(bytes.error());
  if (a.repeat == 0 || a.repeat > UINT32_MAX)
    return report(make_error(ErrorKind::InvalidArgument, "--repeat must be between 1 and 4294967295"));
  if (is_elf(*bytes)) return run_object(a, *bytes);
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
  print_result(a, r0, avg);
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  static RunArgs args;
  auto* r = app.add_subcommand("run", "Run a program on input data (like bpftool prog run)");
  r->add_option("FILE", args.path, "BPF ELF object, or raw bytecode (r1 = data, r2 = its length)")->required();
  r->add_option("--prog", args.prog, "program to run (default: the first one)");
  r->add_option("--ctx,--ctx-in", args.ctx_in, "context in (struct xdp_md / __sk_buff bytes)");
  r->add_option("--ctx-out", args.ctx_out, "write the context after the run to this file");
  r->add_flag("--dump-maps", args.dump_maps, "print every map after the run, like bpftool map dump");
  r->add_option("--engine", args.engine,
                "execution engine: auto (the JIT for verified programs, else the interpreter), jit or interp")
      ->check(CLI::IsMember({"auto", "interp", "jit"}));
  r->add_option("--data,--data-in", args.data_in, "input data file (r1 points to it, r2 holds its length)");
  r->add_option("--data-out", args.data_out, "write the data after the run to this file");
  r->add_option("--repeat", args.repeat, "run N times and report the average duration");
  r->add_flag("--no-verify", args.no_verify, "skip the verifier (the checked interpreter still stops bad accesses)");
  r->add_flag("--json", args.json, "also print {\"retval\":R,\"duration\":D} as the last line");
  r->callback([&action] { action = [] { return run(args); }; });
}

}  // namespace userbpf::cli
