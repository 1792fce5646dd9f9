// Per-run cost of a packet program: userbpf's test_run (the same loop `userbpf run
// --repeat` uses) next to the kernel's BPF_PROG_TEST_RUN `duration` for the same
// object and packet, measured in the same process.  Reported as counters:
// userbpf_ns, kernel_ns and ratio (userbpf / kernel; < 1 means faster).
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <string>
#include <vector>

#include "userbpf/hooks.h"
#include "userbpf/loader.h"
#include "userbpf/runtime.h"

namespace {

constexpr uint32_t kRepeat = 100000;

// Ethernet + IPv4 + UDP to port 53, the same shape as examples/dns_packet.bin.
std::vector<uint8_t> udp_packet() {
  std::vector<uint8_t> p = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,  // eth
                            0x45, 0, 0, 36, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                            0x9c, 0x40, 0, 53, 0, 16, 0, 0};
  const char* payload = "userbpf!";
  p.insert(p.end(), payload, payload + 8);
  return p;
}

// Kernel duration (ns per run) for `prog` in `path`, or -1 when the kernel refuses.
double kernel_ns(const std::string& path, const std::string& prog, const std::vector<uint8_t>& pkt, uint32_t* retval) {
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj) return -1;
  double ns = -1;
  if (bpf_object__load(obj) == 0) {
    bpf_program* p = bpf_object__find_program_by_name(obj, prog.c_str());
    if (p) {
      std::vector<uint8_t> out(pkt.size() + 512);
      LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(), .data_out = out.data(),
                  .data_size_in = static_cast<uint32_t>(pkt.size()), .data_size_out = static_cast<uint32_t>(out.size()),
                  .repeat = static_cast<int>(kRepeat));
      if (bpf_prog_test_run_opts(bpf_program__fd(p), &opts) == 0) {
        ns = opts.duration;
        *retval = opts.retval;
      }
    }
  }
  bpf_object__close(obj);
  return ns;
}

void BM_PacketProgram(benchmark::State& state, std::string file, std::string prog) {
  const std::string path = std::string(USERBPF_PROGS_DIR) + "/" + file;
  const auto pkt = udp_packet();
  auto spec = userbpf::loader::load_object(path);
  if (!spec) {
    state.SkipWithError(spec.error().str().c_str());
    return;
  }
  auto obj = userbpf::runtime::Object::load(std::move(*spec));
  if (!obj) {
    state.SkipWithError(obj.error().str().c_str());
    return;
  }
  const auto* p = (*obj)->find_program(prog);
  if (!p) {
    state.SkipWithError("program not found");
    return;
  }
  userbpf::hooks::TestRunInput in;
  in.data = pkt;
  in.repeat = kRepeat;
  double ours = 0;
  uint32_t our_ret = 0;
  int runs = 0;
  for (auto _ : state) {
    auto r = userbpf::hooks::test_run(*p, in);
    if (!r) {
      state.SkipWithError(r.error().str().c_str());
      return;
    }
    ours += static_cast<double>(r->duration_ns);
    our_ret = r->retval;
    ++runs;
  }
  ours /= runs;
  uint32_t kret = 0;
  const double kns = kernel_ns(path, prog, pkt, &kret);
  state.counters["userbpf_ns"] = ours;
  if (kns > 0) {
    state.counters["kernel_ns"] = kns;
    state.counters["ratio"] = ours / kns;
    if (kret != our_ret) state.SkipWithError("retval differs from the kernel's");
  }
}

BENCHMARK_CAPTURE(BM_PacketProgram, xdp_firewall, "xdp_firewall.v3.bpf.o", "xdp_firewall")->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PacketProgram, xdp_parse, "xdp_parse.v3.bpf.o", "xdp_parse")->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PacketProgram, xdp_rewrite, "xdp_rewrite.v3.bpf.o", "xdp_rewrite")->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace


