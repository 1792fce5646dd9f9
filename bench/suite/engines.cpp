// How the suite runs a program: userbpf (any engine) through hooks::test_run,
// the kernel through libbpf and BPF_PROG_TEST_RUN, native C directly; and how
// it reads the maps afterwards for the comparison.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "hooks/packet_run.h"
#include "suite.h"
#include "support/kernel_bpf.h"
#include "userbpf/hooks.h"
#include "userbpf/loader.h"
#include "userbpf/maps.h"
#include "userbpf/runtime.h"
#include "userbpf/vm.h"

namespace userbpf::bench {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ns(Clock::time_point t0) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// This thread's CPU time: like the kernel's test-run timer, which leaves out the
// time spent rescheduling, it does not count time other processes had the CPU
// (the machine may be shared).
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

Error kernel_error(const std::string& what, int err) {
  return make_error(ErrorKind::Runtime, what + ": " + std::strerror(err < 0 ? -err : err));
}

bool is_percpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

// Maps the suite compares: those the programs declare.  Global data (.data,
// .rodata, .bss; named differently by libbpf and userbpf) is never written by
// the programs, so it is left out.
bool compared_map(const std::string& name) { return name.find('.') == std::string::npos; }

// A per-CPU value as the syscall side returns it (one 8-byte-aligned slot per
// CPU), summed over the CPUs word by word.
Bytes sum_percpu(const Bytes& all, size_t value_size, size_t ncpu) {
  const size_t slot = (value_size + 7) / 8 * 8;
  std::vector<uint64_t> words(slot / 8, 0);
  for (size_t c = 0; c < ncpu; ++c)
    for (size_t w = 0; w < words.size(); ++w) {
      uint64_t x;
      std::memcpy(&x, all.data() + c * slot + w * 8, 8);
      words[w] += x;
    }
  Bytes out(value_size);
  std::memcpy(out.data(), words.data(), value_size);
  return out;
}

// Walks a map with get_next_key / lookup callbacks (the syscall API of either side).
template <typename NextKey, typename Lookup>
std::map<Bytes, Bytes> walk(size_t key_size, size_t value_size, size_t ncpu, bool percpu, NextKey next_key,
                            Lookup lookup) {
  std::map<Bytes, Bytes> out;
  Bytes key(key_size), next(key_size), value(percpu ? (value_size + 7) / 8 * 8 * ncpu : value_size);
  bool first = true;
  // Bounded: a map never has more elements than this in the suite.
  for (int i = 0; i < 1 << 16; ++i) {
    if (next_key(first ? nullptr : key.data(), next.data()) != 0) break;
    first = false;
    key = next;
    if (lookup(key.data(), value.data()) != 0) continue;  // deleted meanwhile: not in the dump
    out[key] = percpu ? sum_percpu(value, value_size, ncpu) : value;
  }
  return out;
}

}  // namespace

// ---- userbpf -----------------------------------------------------------------

Result<std::unique_ptr<OurRunner>> OurRunner::load(const std::string& path, const std::string& prog,
                                                   const std::string& engine) {
  auto spec = loader::load_object(path);
  if (!spec) return spec.error();
  runtime::ObjectOptions opts;
  opts.engine = engine;
  opts.programs = {prog};
  auto obj = runtime::Object::load(std::move(*spec), opts);
  if (!obj) return obj.error();
  std::unique_ptr<OurRunner> r(new OurRunner());
  r->obj_ = std::move(*obj);
  r->prog_ = r->obj_->find_program(prog);
  if (!r->prog_) return make_error(ErrorKind::InvalidArgument, "no program '" + prog + "' in " + path);
  return r;
}

OurRunner::~OurRunner() = default;

Status OurRunner::fill(const std::vector<MapEntry>& entries) {
  for (const MapEntry& e : entries) {
    maps::Map* m = nullptr;
    for (size_t i = 0; i < obj_->num_maps(); ++i)
      if (obj_->map(i) && obj_->map(i)->spec().name == e.map) m = obj_->map(i);
    if (!m) return make_error(ErrorKind::InvalidArgument, "no map '" + e.map + "'");
    if (long rc = m->sys_update(e.key.data(), e.value.data(), BPF_ANY); rc != 0)
      return make_error(ErrorKind::Runtime, "map '" + e.map + "' update: " + std::strerror(static_cast<int>(-rc)));
  }
  return ok_status();
}

Result<RunOutcome> OurRunner::run_once(const Bytes& packet) {
  // hooks::test_run's path with the engine's instruction count kept.
  RunOutcome out;
  hooks::PacketRunner runner;
  const runtime::Program& prog = *prog_;
  runner.prepare = [&prog](vm::ExecContext& ctx, runtime::RunState& st) { prog.object().prepare(prog, ctx, st); };
  runner.run = [&prog, &out](vm::ExecContext& ctx) {
    auto r = runtime::run_program(prog, ctx);
    out.insns = ctx.insns_executed;
    return r;
  };
  hooks::TestRunInput in;
  in.data = packet;
  auto r = hooks::run_packet_test(prog.prog_type(), in, runner);
  if (!r) return r.error();
  out.retval = r->retval;
  out.data_out = std::move(r->data_out);
  const size_t ncpu = static_cast<size_t>(maps::num_possible_cpus());
  for (size_t i = 0; i < obj_->num_maps(); ++i) {
    maps::Map* m = obj_->map(i);
    if (!m || !compared_map(m->spec().name)) continue;
    out.maps[m->spec().name] = walk(
        m->spec().key_size, m->spec().value_size, ncpu, is_percpu(m->type()),
        [m](const void* k, void* n) { return m->get_next_key(k, n); },
        [m](const void* k, void* v) { return m->sys_lookup(k, v); });
  }
  return out;
}

Result<double> OurRunner::time(const Bytes& packet, uint32_t repeat) {
  hooks::TestRunInput in;
  in.data = packet;
  in.repeat = repeat;
  const double t0 = thread_cpu_ns();
  auto r = hooks::test_run(*prog_, in);
  const double ns = thread_cpu_ns() - t0;
  if (!r) return r.error();
  return ns / repeat;
}

size_t OurRunner::num_insns() const { return prog_->insns().size(); }

Result<double> jit_compile_ns(const runtime::Program& prog) {
  // The options Object::load built the program's engine with (verified: proofs given).
  const vm::EngineOptions eo = prog.engine_options();
  double best = 0;
  const auto start = Clock::now();
  for (int i = 0; i < 200 && (i < 3 || elapsed_ns(start) < 50e6); ++i) {
    const auto t0 = Clock::now();
    auto e = vm::make_engine("jit", prog.insns(), eo);
    const double ns = elapsed_ns(t0);
    if (!e) return e.error();
    if (i == 0 || ns < best) best = ns;
  }
  return best;
}

// ---- kernel ------------------------------------------------------------------

bool kernel_available(std::string* why) {
  if (userbpf::testing::kernel_bpf_available()) return true;
  *why = userbpf::testing::kernel_bpf_unavailable_reason();
  return false;
}

Result<std::unique_ptr<KernelRunner>> KernelRunner::load(const std::string& path, const std::string& prog) {
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
  std::unique_ptr<KernelRunner> r(new KernelRunner());
  r->obj_ = bpf_object__open_file(path.c_str(), nullptr);
  if (!r->obj_) {
    const int err = errno;
    return kernel_error("libbpf cannot open " + path, err);
  }
  if (int rc = bpf_object__load(r->obj_); rc != 0) return kernel_error("the kernel refuses " + path, rc);
  r->prog_ = bpf_object__find_program_by_name(r->obj_, prog.c_str());
  if (!r->prog_) return make_error(ErrorKind::InvalidArgument, "no program '" + prog + "' in " + path);
  return r;
}

KernelRunner::~KernelRunner() { bpf_object__close(obj_); }

Status KernelRunner::fill(const std::vector<MapEntry>& entries) {
  for (const MapEntry& e : entries) {
    bpf_map* m = bpf_object__find_map_by_name(obj_, e.map.c_str());
    if (!m) return make_error(ErrorKind::InvalidArgument, "no map '" + e.map + "' in the kernel's object");
    if (int rc = bpf_map_update_elem(bpf_map__fd(m), e.key.data(), e.value.data(), BPF_ANY); rc != 0)
      return kernel_error("kernel map '" + e.map + "' update", rc);
  }
  return ok_status();
}

Result<RunOutcome> KernelRunner::run_once(const Bytes& packet) {
  RunOutcome out;
  out.data_out.resize(packet.size() + 512);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = out.data_out.data(),
              .data_size_in = static_cast<uint32_t>(packet.size()),
              .data_size_out = static_cast<uint32_t>(out.data_out.size()), .repeat = 1);
  if (int rc = bpf_prog_test_run_opts(bpf_program__fd(prog_), &opts); rc != 0)
    return kernel_error("BPF_PROG_TEST_RUN", rc);
  out.retval = opts.retval;
  out.data_out.resize(opts.data_size_out);
  const int ncpu = libbpf_num_possible_cpus();
  bpf_map* m;
  bpf_object__for_each_map(m, obj_) {
    const std::string name = bpf_map__name(m);
    if (!compared_map(name)) continue;
    const int fd = bpf_map__fd(m);
    out.maps[name] = walk(
        bpf_map__key_size(m), bpf_map__value_size(m), static_cast<size_t>(ncpu), is_percpu(bpf_map__type(m)),
        [fd](const void* k, void* n) { return bpf_map_get_next_key(fd, k, n); },
        [fd](const void* k, void* v) { return bpf_map_lookup_elem(fd, k, v); });
  }
  return out;
}

Result<double> KernelRunner::time(const Bytes& packet, uint32_t repeat) {
  Bytes out(packet.size() + 512);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(packet.size()), .data_size_out = static_cast<uint32_t>(out.size()),
              .repeat = static_cast<int>(repeat));
  if (int rc = bpf_prog_test_run_opts(bpf_program__fd(prog_), &opts); rc != 0)
    return kernel_error("BPF_PROG_TEST_RUN", rc);
  return static_cast<double>(opts.duration);
}

// ---- native ------------------------------------------------------------------

RunOutcome native_run_once(bench_native_fn fn, const Bytes& packet) {
  RunOutcome out;
  out.data_out = packet;
  out.retval = fn(out.data_out.data(), out.data_out.data() + out.data_out.size());
  return out;
}

double native_time(bench_native_fn fn, const Bytes& packet, uint32_t repeat) {
  Bytes buf = packet;
  // Through a volatile pointer: the call cannot be inlined or hoisted.
  bench_native_fn volatile call = fn;
  uint32_t sink = 0;
  const double t0 = thread_cpu_ns();
  for (uint32_t i = 0; i < repeat; ++i) sink += call(buf.data(), buf.data() + buf.size());
  const double ns = thread_cpu_ns() - t0;
  volatile uint32_t keep = sink;
  (void)keep;
  return ns / repeat;
}

}  // namespace userbpf::bench
