// The verifier's helper tables (src/verifier/helper_protos.cpp) against the
// running kernel's verifier, which is the reference:
//  - availability: for every helper with a prototype and every program type
//    below, `call helper; r0 = 0; exit` is refused with "program of this type
//    cannot use helper" ("unknown func" before 6.x), or a well-formed call with
//    "not supported for program type", exactly when helper_allowed() says no;
//  - gpl_only and might_sleep: the same call under a non-GPL license is refused
//    as GPL-restricted exactly for gpl_only helpers, and "might sleep" appears
//    exactly for might_sleep ones;
//  - argument kinds: a call whose arguments are built from the prototype (maps,
//    initialised or uninitialised stack, ctx, callbacks, read-only strings) is
//    accepted; swapping one memory argument for read-only map memory, NULL, or a
//    zero size is accepted exactly when the kind allows it;
//  - return kinds: r0 is unreadable after Void helpers, and dereferencing it
//    (after a NULL check) is accepted only for the pointer-returning ones;
//  - changes_pkt_data: a packet pointer checked before the call stays usable
//    after it exactly when the helper does not change packet data (tc and XDP).
// Not told apart here: MemWrite from MemReadWrite (a privileged loader may pass
// uninitialised stack to either), and SpinLock arguments (need a map with BTF).
// bpf_probe_write_user is left out on a locked-down kernel, and TRACING when
// fentry programs cannot be loaded.  Skipped when this process cannot load BPF
// programs.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "userbpf/helpers.h"
#include "userbpf/isa.h"
#include "verifier/helper_protos.h"

namespace userbpf::testing {
namespace {

using isa::Insn;
using verifier::ArgKind;
using verifier::HelperProto;
using verifier::RetKind;
namespace op = isa::op;

struct ProgType {
  uint32_t type;
  const char* name;
};

constexpr ProgType kTypes[] = {
    {BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter"}, {BPF_PROG_TYPE_KPROBE, "kprobe"},
    {BPF_PROG_TYPE_SCHED_CLS, "sched_cls"},         {BPF_PROG_TYPE_SCHED_ACT, "sched_act"},
    {BPF_PROG_TYPE_TRACEPOINT, "tracepoint"},       {BPF_PROG_TYPE_XDP, "xdp"},
    {BPF_PROG_TYPE_PERF_EVENT, "perf_event"},       {BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint"},
    {BPF_PROG_TYPE_TRACING, "tracing"},
};

// ---- instruction builders -----------------------------------------------------------

Insn mov_imm(uint8_t dst, int32_t imm) { return {.opcode = op::ALU64 | op::MOV | op::K, .dst = dst, .imm = imm}; }
Insn mov_reg(uint8_t dst, uint8_t src) { return {.opcode = op::ALU64 | op::MOV | op::X, .dst = dst, .src = src}; }
Insn add_imm(uint8_t dst, int32_t imm) { return {.opcode = op::ALU64 | op::ADD | op::K, .dst = dst, .imm = imm}; }
Insn st_dw(uint8_t base, int16_t off, int32_t imm) {
  return {.opcode = op::ST | op::MEM | op::DW, .dst = base, .off = off, .imm = imm};
}
Insn ldx(uint8_t size, uint8_t dst, uint8_t base, int16_t off) {
  return {.opcode = static_cast<uint8_t>(op::LDX | op::MEM | size), .dst = dst, .src = base, .off = off};
}
Insn call(int32_t id) { return {.opcode = op::JMP | op::CALL, .imm = id}; }
Insn exit_insn() { return {.opcode = op::JMP | op::EXIT}; }
Insn jmp_imm(uint8_t jop, uint8_t dst, int32_t imm, int16_t off) {
  return {.opcode = static_cast<uint8_t>(op::JMP | jop | op::K), .dst = dst, .off = off, .imm = imm};
}
Insn jmp_reg(uint8_t jop, uint8_t dst, uint8_t src, int16_t off) {
  return {.opcode = static_cast<uint8_t>(op::JMP | jop | op::X), .dst = dst, .src = src, .off = off};
}
void lddw(std::vector<Insn>& p, uint8_t dst, uint8_t src, int32_t lo, int32_t hi = 0) {
  p.push_back({.opcode = op::LD | op::IMM | op::DW, .dst = dst, .src = src, .imm = lo});
  p.push_back({.imm = hi});
}

// ---- kernel side -------------------------------------------------------------------------

struct LoadResult {
  bool loaded = false;
  std::string log;
};

struct Kernel {
  // Maps the synthesised calls need, by the map type the helper insists on.
  int array = -1, percpu_array = -1, queue = -1, ringbuf = -1, perf_array = -1, stack_trace = -1,
      devmap = -1, cgroup_array = -1, rodata = -1;
  int fentry_btf_id = -1;  // bpf_fentry_test1, target of the TRACING programs
  // BTF for programs with a callback: the kernel wants func_info that marks the
  // callback static.  Types: 1 int, 2 int(void), 3 main (global), 4 cb (static).
  int btf_fd = -1;
  // A tail-call map belongs to the first program type that uses it: one per type.
  mutable std::map<uint32_t, int> prog_arrays;
  std::string setup_error;

  Kernel() {
    auto make = [&](int& fd, bpf_map_type t, uint32_t key, uint32_t value, uint32_t max, uint32_t flags = 0) {
      LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
      fd = bpf_map_create(t, nullptr, key, value, max, &o);
      if (fd < 0 && setup_error.empty())
        setup_error = "map type " + std::to_string(t) + ": " + std::strerror(errno);
    };
    make(array, BPF_MAP_TYPE_ARRAY, 4, 8, 4);
    make(percpu_array, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4);
    make(queue, BPF_MAP_TYPE_QUEUE, 0, 8, 4);
    make(ringbuf, BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    make(perf_array, BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4);
    make(stack_trace, BPF_MAP_TYPE_STACK_TRACE, 4, 64, 4);
    make(devmap, BPF_MAP_TYPE_DEVMAP, 4, 4, 4);
    make(cgroup_array, BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 4);
    // A frozen, program-read-only value: what ARG_PTR_TO_CONST_STR wants, and
    // read-only memory for the MemRead / MemWrite probes.
    make(rodata, BPF_MAP_TYPE_ARRAY, 4, 32, 1, BPF_F_RDONLY_PROG);
    if (rodata >= 0) {
      char value[32] = "ab";
      const uint32_t key = 0;
      if (bpf_map_update_elem(rodata, &key, value, BPF_ANY) != 0 || bpf_map_freeze(rodata) != 0)
        setup_error = std::string("rodata map: ") + std::strerror(errno);
    }
    if (btf* b = btf__new_empty()) {
      const int int_id = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
      const int proto = btf__add_func_proto(b, int_id);
      btf__add_func(b, "main", BTF_FUNC_GLOBAL, proto);
      btf__add_func(b, "cb", BTF_FUNC_STATIC, proto);
      if (btf__load_into_kernel(b) == 0) btf_fd = dup(btf__fd(b));
      btf__free(b);
    }
    if (btf_fd < 0 && setup_error.empty()) setup_error = "cannot load the callback BTF";
    if (btf* vmlinux = btf__load_vmlinux_btf()) {
      fentry_btf_id = btf__find_by_name_kind(vmlinux, "bpf_fentry_test1", BTF_KIND_FUNC);
      btf__free(vmlinux);
    }
  }
  ~Kernel() {
    for (int fd : {array, percpu_array, queue, ringbuf, perf_array, stack_trace, devmap, cgroup_array,
                   rodata, btf_fd})
      if (fd >= 0) close(fd);
    for (const auto& [type, fd] : prog_arrays)
      if (fd >= 0) close(fd);
  }

  // `callback` is the first instruction of the callback subprogram, 0 for none.
  LoadResult load(uint32_t type, const std::vector<Insn>& prog, const char* license = "GPL",
                  size_t callback = 0) const {
    static_assert(sizeof(Insn) == sizeof(bpf_insn));
    std::vector<char> log(1 << 16);
    LIBBPF_OPTS(bpf_prog_load_opts, o, .log_level = 1, .log_size = static_cast<uint32_t>(log.size()),
                .log_buf = log.data());
    const bpf_func_info funcs[2] = {{.insn_off = 0, .type_id = 3},
                                    {.insn_off = static_cast<uint32_t>(callback), .type_id = 4}};
    if (callback) {
      o.prog_btf_fd = static_cast<uint32_t>(btf_fd);
      o.func_info = funcs;
      o.func_info_cnt = 2;
      o.func_info_rec_size = sizeof(bpf_func_info);
    }
    if (type == BPF_PROG_TYPE_TRACING) {
      o.expected_attach_type = BPF_TRACE_FENTRY;
      o.attach_btf_id = static_cast<uint32_t>(fentry_btf_id);
    }
    const int fd = bpf_prog_load(static_cast<bpf_prog_type>(type), "protos", license,
                                 reinterpret_cast<const bpf_insn*>(prog.data()), prog.size(), &o);
    const int err = errno;
    LoadResult r;
    r.loaded = fd >= 0;
    if (fd >= 0) close(fd);
    r.log.assign(log.data(), strnlen(log.data(), log.size()));
    if (!r.loaded && r.log.empty()) r.log = std::string("BPF_PROG_LOAD: ") + std::strerror(err);
    return r;
  }

  int map_for(int32_t id, uint32_t type) const {
    if (id == BPF_FUNC_tail_call) {
      auto [it, fresh] = prog_arrays.try_emplace(type, -1);
      if (fresh) it->second = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, nullptr, 4, 4, 4, nullptr);
      return it->second;
    }
    switch (id) {
      case BPF_FUNC_map_push_elem: case BPF_FUNC_map_pop_elem: case BPF_FUNC_map_peek_elem:
        return queue;
      case BPF_FUNC_ringbuf_output: case BPF_FUNC_ringbuf_reserve: case BPF_FUNC_ringbuf_submit:
      case BPF_FUNC_ringbuf_discard: case BPF_FUNC_ringbuf_query:
        return ringbuf;
      case BPF_FUNC_perf_event_output: case BPF_FUNC_perf_event_read: case BPF_FUNC_perf_event_read_value:
        return perf_array;
      case BPF_FUNC_get_stackid: return stack_trace;
      case BPF_FUNC_redirect_map: return devmap;
      case BPF_FUNC_skb_under_cgroup: case BPF_FUNC_current_task_under_cgroup: return cgroup_array;
      case BPF_FUNC_map_lookup_percpu_elem: return percpu_array;
      default: return array;
    }
  }
};

const Kernel& kernel() {
  static const Kernel k;
  return k;
}

bool refused_as_unavailable(const std::string& log) {
  return log.find("cannot use helper") != std::string::npos || log.find("unknown func") != std::string::npos;
}

std::string tail(const std::string& log, size_t n = 400) {
  return log.size() <= n ? log : "..." + log.substr(log.size() - n);
}

std::span<const HelperProto> table() {
  size_t n = 0;
  const HelperProto* p = verifier::all_helper_protos(&n);
  return {p, n};
}

std::vector<Insn> bare_call(int32_t id) { return {call(id), mov_imm(0, 0), exit_insn()}; }

// ---- calls synthesised from a prototype ---------------------------------------------------

// Stack layout of the synthesised programs.
constexpr int16_t kInitStack = -32;     // 32 zeroed bytes
constexpr int16_t kUninitStack = -128;  // never written
constexpr int16_t kLongSlot = -200;     // 8-aligned, never written
constexpr int32_t kMemSize = 16;

enum class Perturb { None, ReadOnlyMem, NullMem, ZeroSize, DropLastArg };
enum class RetUse { Proper, Misuse };

struct Shape {
  int arg = -1;  // which argument Perturb applies to
  Perturb perturb = Perturb::None;
  RetUse ret = RetUse::Proper;
  bool keep_packet_pointer = false;  // tc / XDP: touch a packet pointer after the call
};

struct Synth {
  std::vector<Insn> prog;
  size_t callback = 0;  // first instruction of the callback, 0 when there is none
};

// A program calling p's helper with arguments that satisfy p, changed as `s`
// says; nullopt when an argument kind cannot be synthesised here.
std::optional<Synth> synthesise(const HelperProto& p, uint32_t type, const Shape& s) {
  const Kernel& k = kernel();
  std::vector<Insn> v;
  std::vector<size_t> exit_jumps;  // jumps whose target is the final `r0 = 0; exit`
  std::vector<size_t> func_refs;   // lddw slots that must point at the callback
  v.push_back(mov_reg(6, 1));
  // A call first leaves r1-r5 uninitialised, so an argument the kernel expects
  // but the prototype lacks shows up as "!read_ok" (r1 would otherwise still
  // hold the context).
  v.push_back(call(BPF_FUNC_ktime_get_ns));
  for (int16_t off = kInitStack; off < 0; off += 8) v.push_back(st_dw(10, off, 0));
  if (s.keep_packet_pointer) {
    const bool xdp = type == BPF_PROG_TYPE_XDP;
    v.push_back(ldx(op::W, 7, 6, xdp ? offsetof(xdp_md, data) : offsetof(__sk_buff, data)));
    v.push_back(ldx(op::W, 8, 6, xdp ? offsetof(xdp_md, data_end) : offsetof(__sk_buff, data_end)));
    v.push_back(mov_reg(1, 7));
    v.push_back(add_imm(1, 8));
    exit_jumps.push_back(v.size());
    v.push_back(jmp_reg(op::JGT, 1, 8, 0));
  }
  bool has_record = false;
  for (ArgKind a : p.args) has_record |= a == ArgKind::RingbufMem;
  if (has_record) {  // a record to submit or discard
    lddw(v, 1, isa::pseudo::MAP_FD, k.ringbuf);
    v.push_back(mov_imm(2, 8));
    v.push_back(mov_imm(3, 0));
    v.push_back(call(BPF_FUNC_ringbuf_reserve));
    exit_jumps.push_back(v.size());
    v.push_back(jmp_imm(op::JEQ, 0, 0, 0));
    v.push_back(mov_reg(9, 0));
  }
  int nargs = 0;
  while (nargs < 5 && p.args[nargs] != ArgKind::None) ++nargs;
  if (s.perturb == Perturb::DropLastArg) --nargs;
  for (int i = 0; i < nargs; ++i) {
    const auto r = static_cast<uint8_t>(i + 1);
    const bool here = s.arg == i;
    const bool size_of_perturbed = s.arg == i - 1;
    auto stack_ptr = [&](int16_t off) {
      v.push_back(mov_reg(r, 10));
      v.push_back(add_imm(r, off));
    };
    switch (p.args[i]) {
      case ArgKind::None: break;
      case ArgKind::Anything: case ArgKind::StackOrNull: v.push_back(mov_imm(r, 0)); break;
      case ArgKind::ConstMapPtr: lddw(v, r, isa::pseudo::MAP_FD, k.map_for(p.id, type)); break;
      case ArgKind::MapKey: case ArgKind::MapValue: stack_ptr(kInitStack); break;
      case ArgKind::MapValueWrite: stack_ptr(kUninitStack); break;
      case ArgKind::MemRead: case ArgKind::MemReadOrNull: case ArgKind::MemWrite: case ArgKind::MemReadWrite:
      case ArgKind::MemReadWriteOrNull:
        if (here && s.perturb == Perturb::ReadOnlyMem) {
          lddw(v, r, isa::pseudo::MAP_VALUE, k.rodata, 0);
        } else if (here && s.perturb == Perturb::NullMem) {
          v.push_back(mov_imm(r, 0));
        } else {
          stack_ptr(p.args[i] == ArgKind::MemWrite ? kUninitStack : kInitStack);
        }
        break;
      case ArgKind::ConstSize: case ArgKind::ConstSizeOrZero: {
        const bool zero = (here && s.perturb == Perturb::ZeroSize) ||
                          (size_of_perturbed && s.perturb == Perturb::NullMem &&
                           p.args[i] == ArgKind::ConstSizeOrZero);
        v.push_back(mov_imm(r, zero ? 0 : kMemSize));
        break;
      }
      case ArgKind::Ctx: v.push_back(mov_reg(r, 6)); break;
      case ArgKind::RingbufMem: v.push_back(mov_reg(r, 9)); break;
      case ArgKind::ConstAllocSize: v.push_back(mov_imm(r, 8)); break;
      case ArgKind::Func:
        func_refs.push_back(v.size());
        lddw(v, r, isa::pseudo::FUNC, 0);
        break;
      case ArgKind::ConstStr: lddw(v, r, isa::pseudo::MAP_VALUE, k.rodata, 0); break;
      case ArgKind::PtrToLong: stack_ptr(kLongSlot); break;
      case ArgKind::SpinLock: return std::nullopt;  // needs a map with BTF
    }
  }
  v.push_back(call(p.id));
  // Use r0 as the return kind allows (Proper) or as it does not (Misuse).
  const bool proper = s.ret == RetUse::Proper;
  switch (p.ret) {
    case RetKind::Void:
      if (!proper) v.push_back(mov_reg(1, 0));
      break;
    case RetKind::Integer:
      if (proper) {
        v.push_back(mov_reg(1, 0));
      } else {
        v.push_back(jmp_imm(op::JEQ, 0, 0, 1));
        v.push_back(ldx(op::B, 1, 0, 0));
      }
      break;
    case RetKind::MapValueOrNull:
      if (proper) v.push_back(jmp_imm(op::JEQ, 0, 0, 1));
      v.push_back(ldx(op::B, 1, 0, 0));
      break;
    case RetKind::RingbufMemOrNull:
      if (proper) v.push_back(jmp_imm(op::JEQ, 0, 0, 4));
      v.push_back(ldx(op::B, 1, 0, 0));
      v.push_back(mov_reg(1, 0));
      v.push_back(mov_imm(2, 0));
      v.push_back(call(BPF_FUNC_ringbuf_discard));
      break;
  }
  if (s.keep_packet_pointer) v.push_back(ldx(op::B, 0, 7, 0));
  const size_t out = v.size();
  v.push_back(mov_imm(0, 0));
  v.push_back(exit_insn());
  for (size_t j : exit_jumps) v[j].off = static_cast<int16_t>(out - j - 1);
  Synth result;
  if (!func_refs.empty()) {  // callback(...) { return 0; }
    result.callback = v.size();
    v.push_back(mov_imm(0, 0));
    v.push_back(exit_insn());
    for (size_t j : func_refs) v[j].imm = static_cast<int32_t>(result.callback - j - 1);
  }
  result.prog = std::move(v);
  return result;
}

// Program types under test, and whether this kernel lets us load each at all.
std::vector<ProgType> loadable_types(std::string* skipped) {
  std::vector<ProgType> out;
  for (const ProgType& t : kTypes) {
    if (t.type == BPF_PROG_TYPE_TRACING && kernel().fentry_btf_id < 0) {
      *skipped += std::string(" ") + t.name + " (no BTF id for bpf_fentry_test1)";
      continue;
    }
    const LoadResult r = kernel().load(t.type, {mov_imm(0, 0), exit_insn()});
    if (!r.loaded) {
      *skipped += std::string(" ") + t.name + " (" + tail(r.log, 120) + ")";
      continue;
    }
    out.push_back(t);
  }
  return out;
}

std::string label(const HelperProto& p, const ProgType& t) {
  return std::string(p.name) + "#" + std::to_string(p.id) + " in " + t.name;
}

// A kernel in lockdown (integrity mode or stricter) refuses bpf_probe_write_user
// wherever the func_proto chains offer it; userbpf has no lockdown, so its table
// keeps the helper and these checks leave it out.
bool kernel_locked_down() {
  static const bool locked = [] {
    char mode[128] = {};
    if (FILE* f = std::fopen("/sys/kernel/security/lockdown", "r")) {
      const size_t n = std::fread(mode, 1, sizeof mode - 1, f);
      std::fclose(f);
      return std::string(mode, n).find("[none]") == std::string::npos;
    }
    // No securityfs: kprobe_prog_func_proto offers the helper unless locked down.
    return refused_as_unavailable(kernel().load(BPF_PROG_TYPE_KPROBE, bare_call(BPF_FUNC_probe_write_user)).log);
  }();
  return locked;
}

bool skipped_for_lockdown(int32_t id) { return id == BPF_FUNC_probe_write_user && kernel_locked_down(); }

class VerifierProtosKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernel_bpf_available()) GTEST_SKIP() << "kernel BPF unavailable: " << kernel_bpf_unavailable_reason();
    if (!kernel().setup_error.empty()) GTEST_SKIP() << "cannot create test maps: " << kernel().setup_error;
    types_ = loadable_types(&skipped_);
    if (!skipped_.empty()) std::cout << "[ note ] program types not tested:" << skipped_ << "\n";
    if (kernel_locked_down()) std::cout << "[ note ] kernel locked down: bpf_probe_write_user not checked\n";
  }

  // Loads the call to `p` (the prototype a program of type t sees) shaped by `s`
  // and notes where acceptance differs from `expect_accept`.
  void check(const HelperProto& p, const ProgType& t, const Shape& s, bool expect_accept, const std::string& what) {
    const auto synth = synthesise(p, t.type, s);
    if (!synth) return;
    const LoadResult r = kernel().load(t.type, synth->prog, "GPL", synth->callback);
    ++checked_;
    if (r.loaded != expect_accept)
      mismatches_ += "  " + label(p, t) + ", " + what + ": expected " + (expect_accept ? "accept" : "reject") +
                     ", kernel " + (r.loaded ? "accepted" : "rejected: " + tail(r.log, 300)) + "\n";
  }

  // Every (prototype, program type) pair the table allows, with calls that can be
  // synthesised (not might_sleep: those are refused in these program types).
  template <typename Fn>
  void for_each_callable(const std::vector<ProgType>& types, Fn fn) {
    for (const HelperProto& main : table()) {
      if (skipped_for_lockdown(main.id)) continue;
      for (const ProgType& t : types) {
        const HelperProto* p = verifier::find_helper_proto(main.id, t.type);
        if (p && !p->might_sleep) fn(*p, t);
      }
    }
  }

  std::vector<ProgType> types_;
  std::string skipped_;
  std::string mismatches_;
  int checked_ = 0;
};

TEST_F(VerifierProtosKernel, AvailabilityMatchesTheKernel) {
  int pairs = 0, allowed = 0;
  for (const HelperProto& p : table()) {
    if (skipped_for_lockdown(p.id)) continue;
    for (const ProgType& t : types_) {
      bool kernel_allows = !refused_as_unavailable(kernel().load(t.type, bare_call(p.id)).log);
      // Some helpers pass the func_proto lookup and are refused for the program
      // type only once their arguments check out (get_func_ip outside kprobe).
      if (kernel_allows) {
        if (const auto synth = synthesise(p, t.type, {})) {
          const LoadResult r = kernel().load(t.type, synth->prog, "GPL", synth->callback);
          kernel_allows = r.log.find("not supported for program type") == std::string::npos;
        }
      }
      ++pairs;
      allowed += kernel_allows;
      if (kernel_allows != verifier::helper_allowed(p.id, t.type))
        mismatches_ += "  " + label(p, t) + ": kernel " + (kernel_allows ? "allows" : "refuses") +
                       ", helper_allowed says " + (kernel_allows ? "no" : "yes") + "\n";
    }
  }
  std::cout << "[ info ] " << pairs << " (helper, program type) pairs, " << allowed << " allowed by the kernel\n";
  EXPECT_TRUE(mismatches_.empty()) << "helper_allowed disagrees with the kernel:\n" << mismatches_;
}

TEST_F(VerifierProtosKernel, GplOnlyAndMightSleepMatchTheKernel) {
  for (const HelperProto& main : table()) {
    if (skipped_for_lockdown(main.id)) continue;
    for (const ProgType& t : types_) {
      const HelperProto* p = verifier::find_helper_proto(main.id, t.type);
      if (!p) continue;
      const LoadResult gpl = kernel().load(t.type, bare_call(p->id), "GPL");
      const bool sleeps = gpl.log.find("might sleep") != std::string::npos;
      if (sleeps != p->might_sleep)
        mismatches_ += "  " + label(*p, t) + ": might_sleep " + (p->might_sleep ? "set" : "unset") +
                       ", kernel log: " + tail(gpl.log, 200) + "\n";
      const LoadResult proprietary = kernel().load(t.type, bare_call(p->id), "Proprietary");
      const bool gpl_only = proprietary.log.find("GPL-restricted") != std::string::npos;
      ++checked_;
      if (gpl_only != p->gpl_only)
        mismatches_ += "  " + label(*p, t) + ": gpl_only " + (p->gpl_only ? "set" : "unset") + ", kernel " +
                       (gpl_only ? "requires GPL" : "does not require GPL") + "\n";
    }
  }
  std::cout << "[ info ] " << checked_ << " pairs checked for GPL and sleeping\n";
  EXPECT_TRUE(mismatches_.empty()) << mismatches_;
}

TEST_F(VerifierProtosKernel, CallsBuiltFromThePrototypeAreAccepted) {
  for_each_callable(types_, [&](const HelperProto& p, const ProgType& t) {
    check(p, t, {}, true, "arguments as the prototype says");
    // One argument fewer must fail: the kernel expects every argument listed.
    if (p.args[0] != ArgKind::None) check(p, t, {.perturb = Perturb::DropLastArg}, false, "last argument missing");
  });
  std::cout << "[ info ] " << checked_ << " synthesised calls\n";
  EXPECT_GT(checked_, 0);
  EXPECT_TRUE(mismatches_.empty()) << mismatches_;
}

TEST_F(VerifierProtosKernel, MemoryArgumentKindsMatchTheKernel) {
  for_each_callable(types_, [&](const HelperProto& p, const ProgType& t) {
    for (int i = 0; i < 5; ++i) {
      const ArgKind a = p.args[i];
      const std::string arg = "arg" + std::to_string(i + 1);
      if (verifier::is_sized_mem_arg(a)) {
        // Read-only memory is fine to read from, not to write to.
        check(p, t, {.arg = i, .perturb = Perturb::ReadOnlyMem}, !verifier::arg_is_written(a),
              arg + " in a read-only map");
        check(p, t, {.arg = i, .perturb = Perturb::NullMem}, verifier::arg_accepts_null(a), arg + " NULL");
      }
      if (a == ArgKind::ConstSize || a == ArgKind::ConstSizeOrZero)
        check(p, t, {.arg = i, .perturb = Perturb::ZeroSize}, a == ArgKind::ConstSizeOrZero, arg + " zero size");
    }
  });
  std::cout << "[ info ] " << checked_ << " perturbed calls\n";
  EXPECT_TRUE(mismatches_.empty()) << mismatches_;
}

TEST_F(VerifierProtosKernel, ReturnKindsMatchTheKernel) {
  for_each_callable(types_, [&](const HelperProto& p, const ProgType& t) {
    check(p, t, {.ret = RetUse::Misuse}, false, "r0 used against its return kind");
  });
  EXPECT_TRUE(mismatches_.empty()) << mismatches_;
}

TEST_F(VerifierProtosKernel, ChangesPktDataMatchesTheKernel) {
  std::vector<ProgType> packet_types;
  for (const ProgType& t : types_)
    if (t.type == BPF_PROG_TYPE_SCHED_CLS || t.type == BPF_PROG_TYPE_XDP) packet_types.push_back(t);
  for_each_callable(packet_types, [&](const HelperProto& p, const ProgType& t) {
    check(p, t, {.keep_packet_pointer = true}, !p.changes_pkt_data, "packet pointer used after the call");
  });
  std::cout << "[ info ] " << checked_ << " packet-pointer calls\n";
  EXPECT_TRUE(mismatches_.empty()) << mismatches_;
}

}  // namespace
}  // namespace userbpf::testing
