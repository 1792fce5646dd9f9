// Packet hooks against the kernel: every XDP / tc / socket filter program of
// tests/progs, loaded by libbpf into the kernel and by userbpf's runtime, run on
// the same packets (and ctx_in images) with BPF_PROG_TEST_RUN and hooks::test_run
// must give the same retval, output packet and ctx_out.  Hand-written programs
// cover every context field at every access size.  Skipped when this process
// cannot load BPF programs.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hooks/ctx_layout.h"
#include "hooks/ctx_rewrite.h"
#include "support/kernel_bpf.h"
#include "support/packets.h"
#include "userbpf/helpers.h"
#include "userbpf/hooks.h"
#include "userbpf/loader.h"
#include "userbpf/runtime.h"
#include "userbpf/vm.h"

namespace userbpf::testing {
namespace {

using packets::Bytes;

struct Outcome {
  bool ok = false;
  int err = 0;  // kernel errno
  uint32_t retval = 0;
  Bytes data_out;
  Bytes ctx_out;
};

Outcome kernel_run(int fd, const hooks::TestRunInput& in) {
  Outcome o;
  std::vector<uint8_t> out(in.data.size() + 4096);
  std::vector<uint8_t> ctx_out(256);
  const bool with_ctx = !in.ctx_in.empty() || in.want_ctx_out;
  LIBBPF_OPTS(bpf_test_run_opts, t);
  t.data_in = in.data.data();
  t.data_size_in = static_cast<uint32_t>(in.data.size());
  t.data_out = out.data();
  t.data_size_out = static_cast<uint32_t>(out.size());
  t.repeat = in.repeat;
  if (!in.ctx_in.empty()) {
    t.ctx_in = in.ctx_in.data();
    t.ctx_size_in = static_cast<uint32_t>(in.ctx_in.size());
  }
  if (with_ctx) {
    t.ctx_out = ctx_out.data();
    t.ctx_size_out = static_cast<uint32_t>(ctx_out.size());
  }
  if (bpf_prog_test_run_opts(fd, &t) != 0) {
    o.err = errno;
    return o;
  }
  o.ok = true;
  o.retval = t.retval;
  o.data_out.assign(out.begin(), out.begin() + t.data_size_out);
  if (with_ctx) o.ctx_out.assign(ctx_out.begin(), ctx_out.begin() + t.ctx_size_out);
  return o;
}

Outcome ours(Result<hooks::TestRunResult> r) {
  Outcome o;
  if (!r) return o;
  o.ok = true;
  o.retval = r->retval;
  o.data_out = std::move(r->data_out);
  o.ctx_out = std::move(r->ctx_out);
  return o;
}

std::string hex(const Bytes& b) {
  std::ostringstream s;
  for (size_t i = 0; i < b.size(); ++i) {
    static const char* d = "0123456789abcdef";
    s << d[b[i] >> 4] << d[b[i] & 15] << ((i % 16 == 15) ? "\n" : " ");
  }
  return s.str();
}

// Empty when both agree.
std::string compare(const Outcome& k, const Outcome& u, const std::string& err_text) {
  if (k.ok != u.ok)
    return std::string("kernel ") + (k.ok ? "ran" : "failed (errno " + std::to_string(k.err) + ")") + ", userbpf " +
           (u.ok ? "ran" : "failed: " + err_text);
  if (!k.ok) return {};
  std::string diff;
  if (k.retval != u.retval)
    diff += "retval kernel " + std::to_string(k.retval) + " userbpf " + std::to_string(u.retval) + "\n";
  if (k.data_out != u.data_out) diff += "data_out differs\nkernel:\n" + hex(k.data_out) + "\nuserbpf:\n" + hex(u.data_out) + "\n";
  if (k.ctx_out != u.ctx_out) diff += "ctx_out differs\nkernel:\n" + hex(k.ctx_out) + "\nuserbpf:\n" + hex(u.ctx_out) + "\n";
  return diff;
}

// ---- whole objects --------------------------------------------------------------

struct KernelObject {
  bpf_object* obj = nullptr;
  ~KernelObject() { bpf_object__close(obj); }
};

struct Case {
  std::string name;
  hooks::TestRunInput in;
};

template <typename T>
Bytes image(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

std::vector<Case> cases_for(uint32_t prog_type) {
  std::vector<Case> v;
  for (auto& p : packets::standard_packets()) {
    Case c;
    c.name = p.name;
    c.in.data = p.data;
    v.push_back(c);
  }
  const Bytes udp = packets::standard_packets()[0].data;
  if (prog_type == BPF_PROG_TYPE_XDP) {
    // Metadata supplied by the caller (data = metadata length).
    for (uint32_t meta : {4u, 32u, 216u}) {
      Case c;
      c.name = "xdp_md_meta" + std::to_string(meta);
      c.in.data = packets::pattern(meta, 0x55);
      c.in.data.insert(c.in.data.end(), udp.begin(), udp.end());
      xdp_md md{};
      md.data = meta;
      md.data_end = static_cast<uint32_t>(c.in.data.size());
      md.ingress_ifindex = 1;
      c.in.ctx_in = image(md);
      v.push_back(c);
    }
    Case bad;
    bad.name = "xdp_md_bad_data_end";
    bad.in.data = udp;
    xdp_md md{};
    md.data_end = 7;
    bad.in.ctx_in = image(md);
    v.push_back(bad);
  } else {
    __sk_buff sk{};
    sk.mark = 0x1234;
    sk.priority = 7;
    sk.ingress_ifindex = 1;
    sk.cb[0] = 0xaabbccdd;
    sk.cb[4] = 0x11;
    sk.tstamp = 123456789;
    sk.gso_segs = 3;
    sk.gso_size = 0x10005;
    sk.hwtstamp = 42;
    Case c;
    c.name = "sk_buff_ctx";
    c.in.data = udp;
    c.in.ctx_in = image(sk);
    v.push_back(c);
    sk.wire_len = 1500;
    c.name = "sk_buff_ctx_wire_len";
    c.in.ctx_in = image(sk);
    v.push_back(c);
    sk.len = 1;
    c.name = "sk_buff_ctx_bad_len";
    c.in.ctx_in = image(sk);
    v.push_back(c);
    Case zero;
    zero.name = "sk_buff_ctx_out_only";
    zero.in.data = udp;
    zero.in.want_ctx_out = true;
    v.push_back(zero);
  }
  // Past the XDP linear limit: fragments (multi-buffer); too big for an skb.
  Case jumbo;
  jumbo.name = "jumbo_frags";
  jumbo.in.data = packets::ethernet(packets::kMacB, packets::kMacA, 0x0800,
                                    packets::ipv4(packets::kIpA, packets::kIpB, 17,
                                                  packets::udp4(packets::kIpA, packets::kIpB, 1, 53,
                                                                packets::pattern(5000))));
  v.push_back(jumbo);
  Case rep;
  rep.name = "repeat3";
  rep.in.data = udp;
  rep.in.repeat = 3;
  v.push_back(rep);
  return v;
}

class PacketObjects : public ::testing::TestWithParam<std::string> {};

TEST_P(PacketObjects, SameAsKernel) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  const std::string path = std::string(USERBPF_PROGS_DIR) + "/" + GetParam();
  KernelObject k;
  k.obj = bpf_object__open_file(path.c_str(), nullptr);
  ASSERT_TRUE(k.obj) << path;
  ASSERT_EQ(bpf_object__load(k.obj), 0) << path << ": the kernel refused it";

  // One object per engine, each with its own maps, which see the same runs as
  // the kernel's maps do.
  std::vector<std::unique_ptr<runtime::Object>> objs;
  for (const char* engine : {"interp", "jit"}) {
    auto spec = loader::load_object(path);
    ASSERT_TRUE(spec.ok()) << spec.error().str();
    runtime::ObjectOptions oo;
    oo.engine = engine;
    auto obj = runtime::Object::load(std::move(*spec), oo);
    ASSERT_TRUE(obj.ok()) << engine << ": " << obj.error().str();
    objs.push_back(std::move(*obj));
  }

  size_t compared = 0;
  bpf_program* kp = nullptr;
  bpf_object__for_each_program(kp, k.obj) {
    const std::string name = bpf_program__name(kp);
    const runtime::Program* first = objs[0]->find_program(name);
    ASSERT_TRUE(first) << name;
    for (const Case& c : cases_for(first->prog_type())) {
      const Outcome ko = kernel_run(bpf_program__fd(kp), c.in);
      for (const auto& obj : objs) {
        const runtime::Program* up = obj->find_program(name);
        ASSERT_TRUE(up) << name;
        ASSERT_TRUE(hooks::supports_test_run(up->prog_type())) << name;
        auto ur = hooks::test_run(*up, c.in);
        const std::string err = ur.ok() ? "" : ur.error().str();
        const Outcome uo = ours(std::move(ur));
        const std::string diff = compare(ko, uo, err);
        EXPECT_TRUE(diff.empty()) << name << " (" << up->engine().name() << ") on " << c.name << ":\n" << diff;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 0u);
}

INSTANTIATE_TEST_SUITE_P(Progs, PacketObjects,
                         ::testing::Values("xdp_parse.v3.bpf.o", "xdp_rewrite.v3.bpf.o", "tc_classify.v3.bpf.o",
                                           "xdp_adjust.v3.bpf.o", "xdp_adjust.v4.bpf.o", "tc_skb.v3.bpf.o",
                                           "tc_skb.v4.bpf.o", "socket_ldabs.v3.bpf.o", "socket_ldabs.v4.bpf.o",
                                           "xdp_firewall.v3.bpf.o", "maps_globals.v3.bpf.o", "loop_subprog.v3.bpf.o",
                                           "loop_subprog.v4.bpf.o", "callbacks.v3.bpf.o", "v4_ops.v4.bpf.o",
                                           "xdp_map_types.v3.bpf.o", "xdp_map_types.v4.bpf.o",
                                           "xdp_tail_calls.v3.bpf.o", "xdp_tail_calls.v4.bpf.o"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// ---- every context field, every access size ---------------------------------------

KernelProgType kernel_type(uint32_t t) {
  if (t == BPF_PROG_TYPE_XDP) return KernelProgType::Xdp;
  if (t == BPF_PROG_TYPE_SCHED_CLS) return KernelProgType::SchedCls;
  return KernelProgType::SocketFilter;
}

// The kernel's verdict (loaded or not) and results against ours for one program.
std::string compare_raw(uint32_t type, const std::vector<isa::Insn>& prog,
                        const std::vector<hooks::TestRunInput>& inputs) {
  KernelLoadOptions lo;
  lo.type = kernel_type(type);
  KernelProgram kp = KernelProgram::load(prog, lo);
  auto rw = hooks::rewrite_ctx_accesses(type, prog);
  if (kp.loaded() != rw.ok())
    return std::string("kernel ") + (kp.loaded() ? "loaded" : "refused") + ", userbpf " +
           (rw.ok() ? "accepted" : "refused: " + rw.error().str());
  if (!kp.loaded()) return {};
  vm::HelperRegistry helpers;
  helpers::register_packet_helpers(helpers);
  vm::EngineOptions eo;
  eo.helpers = &helpers;
  std::string diffs;
  for (const char* name : {"interp", "jit"}) {
    auto engine = vm::make_engine(name, *rw, eo);
    if (!engine) return std::string("userbpf engine ") + name + ": " + engine.error().str();
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto ur = hooks::test_run(**engine, type, helpers, inputs[i]);
      const std::string err = ur.ok() ? "" : ur.error().str();
      const std::string d = compare(kernel_run(kp.fd(), inputs[i]), ours(std::move(ur)), err);
      if (!d.empty()) diffs += std::string(name) + " input " + std::to_string(i) + ": " + d;
    }
  }
  return diffs;
}

TEST(PacketCtxFields, EveryFieldAndSizeReadsAsInTheKernel) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  // Packets that differ in pkt_type, protocol and length.
  std::vector<hooks::TestRunInput> plain;
  for (const auto& p : packets::standard_packets()) {
    if (p.name != "ipv4_udp" && p.name != "arp_broadcast" && p.name != "host_dst_ipv4" &&
        p.name != "multicast_ipv4" && p.name != "llc_8023" && p.name != "ipx_raw_8023" && p.name != "ipv6_tcp")
      continue;
    hooks::TestRunInput in;
    in.data = p.data;
    plain.push_back(in);
  }
  __sk_buff sk{};
  sk.mark = 0x89abcdef;
  sk.priority = 0x01020304;
  sk.cb[1] = 0xf0e0d0c0;
  sk.tstamp = 0x1122334455667788;
  sk.gso_segs = 0x1234;
  sk.gso_size = 0x5678;
  sk.hwtstamp = 0x0102030405060708;
  std::vector<hooks::TestRunInput> with_ctx = plain;
  for (auto& in : with_ctx) in.ctx_in = image(sk);
  with_ctx.insert(with_ctx.end(), plain.begin(), plain.end());

  const uint8_t sizes[] = {isa::op::B, isa::op::H, isa::op::W, isa::op::DW};
  size_t n = 0;
  for (uint32_t type : {BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER}) {
    const uint32_t end = hooks::ctx_uapi_size(type);
    for (uint32_t off = 0; off < end + 8; ++off) {
      for (uint8_t sz : sizes) {
        const uint32_t bytes = sz == isa::op::B ? 1 : sz == isa::op::H ? 2 : sz == isa::op::W ? 4 : 8;
        if (off % bytes) continue;
        // Loads fold the value to 32 bits so the kernel's u32 retval shows all of it;
        // packet pointers are compared by data_end - data instead.
        const std::vector<isa::Insn> prog = {
            {static_cast<uint8_t>(isa::op::LDX | isa::op::MEM | sz), 0, 1, static_cast<int16_t>(off), 0},
            {static_cast<uint8_t>(isa::op::ALU64 | isa::op::MOV | isa::op::X), 2, 0, 0, 0},
            {static_cast<uint8_t>(isa::op::ALU64 | isa::op::RSH | isa::op::K), 2, 0, 0, 32},
            {static_cast<uint8_t>(isa::op::ALU | isa::op::XOR | isa::op::X), 0, 2, 0, 0},
            {static_cast<uint8_t>(isa::op::JMP | isa::op::EXIT), 0, 0, 0, 0},
        };
        const hooks::CtxField* f = hooks::find_ctx_field(hooks::ctx_kind(type), off);
        if (f && f->cls == hooks::CtxClass::PacketPtr) continue;  // host addresses differ
        if (f && f->cls == hooks::CtxClass::Unsupported) continue;
        const std::string diff = compare_raw(type, prog, type == BPF_PROG_TYPE_XDP ? plain : with_ctx);
        EXPECT_TRUE(diff.empty()) << "type " << type << " load off " << off << " size " << bytes << ": " << diff;
        ++n;
      }
    }
  }
  EXPECT_GT(n, 100u);
}

TEST(PacketCtxFields, StoresAsInTheKernel) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  hooks::TestRunInput in;
  in.data = packets::standard_packets()[0].data;
  in.want_ctx_out = true;
  const uint8_t sizes[] = {isa::op::B, isa::op::H, isa::op::W, isa::op::DW};
  const int64_t values[] = {0x12345, -1, 0xfffe};
  for (uint32_t type : {BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER}) {
    for (uint32_t off = 0; off < hooks::ctx_uapi_size(type); off += 2) {
      for (uint8_t sz : sizes) {
        const uint32_t bytes = sz == isa::op::B ? 1 : sz == isa::op::H ? 2 : sz == isa::op::W ? 4 : 8;
        if (off % bytes) continue;
        for (int64_t v : values) {
          // A register store, then an immediate store, then read the field back.
          const std::vector<isa::Insn> prog = {
              {static_cast<uint8_t>(isa::op::ALU64 | isa::op::MOV | isa::op::K), 2, 0, 0, static_cast<int32_t>(v)},
              {static_cast<uint8_t>(isa::op::STX | isa::op::MEM | sz), 1, 2, static_cast<int16_t>(off), 0},
              {static_cast<uint8_t>(isa::op::LDX | isa::op::MEM | sz), 0, 1, static_cast<int16_t>(off), 0},
              {static_cast<uint8_t>(isa::op::ST | isa::op::MEM | sz), 1, 0, static_cast<int16_t>(off),
               static_cast<int32_t>(v ^ 0x101)},
              {static_cast<uint8_t>(isa::op::LDX | isa::op::MEM | sz), 3, 1, static_cast<int16_t>(off), 0},
              {static_cast<uint8_t>(isa::op::ALU | isa::op::ADD | isa::op::X), 0, 3, 0, 0},
              {static_cast<uint8_t>(isa::op::JMP | isa::op::EXIT), 0, 0, 0, 0},
          };
          const std::string diff = compare_raw(type, prog, {in});
          EXPECT_TRUE(diff.empty()) << "type " << type << " store off " << off << " size " << bytes << " value " << v
                                    << ": " << diff;
        }
      }
    }
  }
}

}  // namespace
}  // namespace userbpf::testing
