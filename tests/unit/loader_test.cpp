// The object loader on the clang-built test programs (tests/progs): programs by
// SEC() name, linked subprograms, map descriptions, resolved map references and
// line info; and on corrupted objects, which must give errors, never crashes.
#include <bpf/btf.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "support/elf_edit.h"
#include "userbpf/loader.h"

using namespace userbpf;
using Bytes = std::vector<uint8_t>;

namespace {

std::string prog_path(const std::string& name) { return std::string(USERBPF_PROGS_DIR) + "/" + name; }

Bytes file_bytes(const std::string& path) {
  auto bytes = loader::read_file_bytes(path);
  EXPECT_TRUE(bytes.ok()) << bytes.error().str();
  return bytes.ok() ? *bytes : Bytes{};
}

std::vector<std::string> built_objects() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(USERBPF_PROGS_DIR))
    if (e.path().string().ends_with(".bpf.o")) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_call_local(const isa::Insn& in) {
  return in.opcode == (isa::op::JMP | isa::op::CALL) && in.src == isa::pseudo::CALL_LOCAL;
}

// Everything that must hold for any program the loader produces.
void check_program(const loader::ObjectSpec& obj, const loader::ProgramSpec& p) {
  SCOPED_TRACE(p.name);
  Status st = isa::validate(p.insns);
  EXPECT_TRUE(st.ok()) << st.error().str();
  ASSERT_FALSE(p.functions.empty());
  EXPECT_EQ(p.functions[0].name, p.name);
  // The functions tile the instruction array.
  size_t next = 0;
  for (const auto& fn : p.functions) {
    EXPECT_EQ(fn.first_insn, next) << fn.name;
    next += fn.num_insns;
  }
  EXPECT_EQ(next, p.insns.size());
  auto starts_function = [&](int64_t target) {
    return std::any_of(p.functions.begin() + 1, p.functions.end(),
                       [&](const auto& fn) { return static_cast<int64_t>(fn.first_insn) == target; });
  };
  for (size_t pc = 0; pc < p.insns.size(); ++pc) {
    const isa::Insn& in = p.insns[pc];
    const int64_t target = static_cast<int64_t>(pc) + in.imm + 1;
    if (is_call_local(in)) {
      EXPECT_TRUE(starts_function(target)) << "call at " << pc;
    }
    if (!isa::is_lddw(in)) continue;
    ASSERT_LT(pc + 1, p.insns.size());
    const isa::Insn& hi = p.insns[pc + 1];
    if (in.src == isa::pseudo::FUNC) {
      EXPECT_TRUE(starts_function(target)) << "callback at " << pc;
    }
    if (in.src == isa::pseudo::MAP_FD || in.src == isa::pseudo::MAP_VALUE) {
      ASSERT_GE(in.imm, 0);
      ASSERT_LT(static_cast<size_t>(in.imm), obj.maps.size()) << pc;
      const loader::MapDef& m = obj.maps[static_cast<size_t>(in.imm)];
      EXPECT_FALSE(m.is_inner_template);
      EXPECT_EQ(m.is_global_data, in.src == isa::pseudo::MAP_VALUE) << m.spec.name;
      if (in.src == isa::pseudo::MAP_VALUE) {
        EXPECT_LT(static_cast<uint32_t>(hi.imm), m.spec.value_size);
      } else {
        EXPECT_EQ(hi.imm, 0);
      }
      EXPECT_TRUE(std::binary_search(p.map_refs.begin(), p.map_refs.end(), static_cast<uint32_t>(in.imm)));
    }
    ++pc;
  }
  // Every instruction has a source line (clang -g emits one per function start).
  for (size_t pc = 0; pc < p.insns.size(); ++pc) EXPECT_TRUE(p.line_for(pc).has_value()) << pc;
  EXPECT_FALSE(p.line_for(p.insns.size()).has_value());
}

// The first lddw whose source line contains `needle`; -1 when none.
int64_t lddw_on_line(const loader::ProgramSpec& p, const std::string& needle, size_t from = 0) {
  for (size_t pc = from; pc < p.insns.size(); ++pc) {
    if (!isa::is_lddw(p.insns[pc])) continue;
    auto line = p.line_for(pc);
    if (line && line->text.find(needle) != std::string::npos) return static_cast<int64_t>(pc);
    ++pc;
  }
  return -1;
}

// Offset of a variable in a data section, per BTF (the loader fills it in).
int64_t var_offset(const loader::ObjectSpec& obj, const std::string& sec, const std::string& var) {
  const struct btf* btf = obj.btf.get();
  const int id = btf__find_by_name_kind(btf, sec.c_str(), BTF_KIND_DATASEC);
  if (id <= 0) return -1;
  const btf_type* ds = btf__type_by_id(btf, static_cast<uint32_t>(id));
  const btf_var_secinfo* vs = btf_var_secinfos(ds);
  for (uint16_t i = 0; i < btf_vlen(ds); ++i) {
    const btf_type* v = btf__type_by_id(btf, vs[i].type);
    if (var == btf__name_by_offset(btf, v->name_off)) return vs[i].offset;
  }
  return -1;
}

const loader::FunctionSpan* function_named(const loader::ProgramSpec& p, const std::string& name) {
  for (const auto& fn : p.functions)
    if (fn.name == name) return &fn;
  return nullptr;
}

}  // namespace

TEST(Loader, LoadsEveryBuiltObject) {
  size_t programs = 0;
  for (const std::string& path : built_objects()) {
    SCOPED_TRACE(path);
    auto obj = loader::load_object(path);
    ASSERT_TRUE(obj.ok()) << obj.error().str();
    EXPECT_EQ(obj->license, "GPL");
    ASSERT_NE(obj->btf, nullptr);
    EXPECT_FALSE(obj->programs.empty());
    EXPECT_TRUE(obj->warnings.empty());
    for (const auto& p : obj->programs) {
      check_program(*obj, p);
      auto type = loader::prog_type_for_section(p.section);
      ASSERT_TRUE(type.has_value());
      EXPECT_EQ(p.prog_type, type->prog_type);
      ++programs;
    }
    // The program's own instructions are the section's, relocated slots aside.
    auto raw = loader::read_elf(path);
    ASSERT_TRUE(raw.ok());
    for (const auto& p : obj->programs) {
      const auto* sec = raw->find_section(p.section);
      ASSERT_NE(sec, nullptr);
      auto fn = std::find_if(sec->functions.begin(), sec->functions.end(), [&](const auto& f) { return f.name == p.name; });
      ASSERT_NE(fn, sec->functions.end());
      ASSERT_EQ(fn->num_insns(), p.functions[0].num_insns);
      for (size_t i = 0; i < fn->num_insns(); ++i) {
        const isa::Insn& a = sec->insns[fn->first_insn() + i];
        const isa::Insn& b = p.insns[i];
        EXPECT_EQ(a.opcode, b.opcode) << p.name << " " << i;
        EXPECT_EQ(a.off, b.off) << p.name << " " << i;
      }
    }
    // The same bytes from memory give the same object.
    const Bytes bytes = file_bytes(path);
    auto again = loader::load_object(std::span<const uint8_t>(bytes), obj->name);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->programs.size(), obj->programs.size());
    for (size_t i = 0; i < obj->programs.size(); ++i)
      EXPECT_EQ(isa::to_bytes(again->programs[i].insns), isa::to_bytes(obj->programs[i].insns));
  }
  EXPECT_GE(programs, 18u);
}

TEST(Loader, SectionNamesGiveProgramTypes) {
  auto check = [](const char* sec, uint32_t type, uint32_t attach, const char* target, uint32_t flags = 0) {
    SCOPED_TRACE(sec);
    auto t = loader::prog_type_for_section(sec);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->prog_type, type);
    EXPECT_EQ(t->expected_attach_type, attach);
    EXPECT_EQ(t->attach_target, target);
    EXPECT_EQ(t->prog_flags, flags);
  };
  check("xdp", BPF_PROG_TYPE_XDP, BPF_XDP, "");
  check("xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, "", BPF_F_XDP_HAS_FRAGS);
  check("xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, "");
  check("xdp/foo", BPF_PROG_TYPE_XDP, BPF_XDP, "foo");
  check("tc", BPF_PROG_TYPE_SCHED_CLS, 0, "");
  check("tc/ingress", BPF_PROG_TYPE_SCHED_CLS, 0, "ingress");
  check("classifier/x", BPF_PROG_TYPE_SCHED_CLS, 0, "x");
  check("action", BPF_PROG_TYPE_SCHED_ACT, 0, "");
  check("socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, "");
  check("socket/1", BPF_PROG_TYPE_SOCKET_FILTER, 0, "1");
  check("kprobe/do_sys_open", BPF_PROG_TYPE_KPROBE, 0, "do_sys_open");
  check("kretprobe/do_sys_open", BPF_PROG_TYPE_KPROBE, 0, "do_sys_open");
  check("uprobe//bin/sh:main", BPF_PROG_TYPE_KPROBE, 0, "/bin/sh:main");
  check("uretprobe/libc.so.6:malloc", BPF_PROG_TYPE_KPROBE, 0, "libc.so.6:malloc");
  check("tracepoint/syscalls/sys_enter_open", BPF_PROG_TYPE_TRACEPOINT, 0, "syscalls/sys_enter_open");
  check("tp/sched/sched_switch", BPF_PROG_TYPE_TRACEPOINT, 0, "sched/sched_switch");
  check("raw_tracepoint/sys_enter", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "sys_enter");
  check("raw_tp/sys_exit", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "sys_exit");
  check("fentry/tcp_v4_connect", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "tcp_v4_connect");
  check("fexit/tcp_v4_connect", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "tcp_v4_connect");
  check("fentry.s/x", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "x", BPF_F_SLEEPABLE);
  check("syscall", BPF_PROG_TYPE_SYSCALL, 0, "", BPF_F_SLEEPABLE);
  check("perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, "");
  check("cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, "");
  check("cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, "");
  check("sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, "");
  check("lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open");
  for (const char* bad : {"", "xdpfoo", "kprobefoo", "tc.x", "maps", ".text", "license", "unknown/x"})
    EXPECT_FALSE(loader::prog_type_for_section(bad).has_value()) << bad;
}

TEST(Loader, MapsAndGlobalsResolve) {
  for (const char* file : {"maps_globals.v3.bpf.o", "maps_globals.v4.bpf.o"}) {
    SCOPED_TRACE(file);
    auto obj = loader::load_object(prog_path(file));
    ASSERT_TRUE(obj.ok()) << obj.error().str();
    const struct btf* btf = obj->btf.get();
    // BTF maps first (in BTF DATASEC order), then the global data sections in
    // section header order: the order libbpf 1.1 lists them in.
    std::vector<std::string> names;
    for (const auto& m : obj->maps) names.push_back(m.spec.name);
    EXPECT_EQ(names, (std::vector<std::string>{"size_buckets", "flows", "maps_glo.rodata", "maps_glo.bss", "maps_glo.data"}));

    const auto* flows = obj->find_map("flows");
    ASSERT_NE(flows, nullptr);
    EXPECT_EQ(flows->spec.type, BPF_MAP_TYPE_HASH);
    EXPECT_EQ(flows->spec.max_entries, 1024u);
    EXPECT_EQ(flows->spec.key_size, 4u);
    EXPECT_STREQ(btf__name_by_offset(btf, btf__type_by_id(btf, flows->spec.btf_value_type_id)->name_off), "flow_stats");
    EXPECT_EQ(flows->spec.value_size, static_cast<uint32_t>(btf__resolve_size(btf, flows->spec.btf_value_type_id)));
    EXPECT_EQ(flows->spec.value_size, 24u);  // 2 x u64 + 2 x u32
    const auto* buckets = obj->find_map("size_buckets");
    ASSERT_NE(buckets, nullptr);
    EXPECT_EQ(buckets->spec.type, BPF_MAP_TYPE_ARRAY);
    EXPECT_EQ(buckets->spec.max_entries, 4u);
    EXPECT_EQ(buckets->spec.value_size, 8u);
    EXPECT_FALSE(flows->is_global_data);

    const auto* rodata = obj->find_map("maps_glo.rodata");
    ASSERT_NE(rodata, nullptr);
    EXPECT_TRUE(rodata->is_global_data);
    EXPECT_EQ(rodata->section, ".rodata");
    EXPECT_EQ(rodata->spec.key_size, 4u);
    EXPECT_EQ(rodata->spec.max_entries, 1u);
    EXPECT_NE(rodata->spec.map_flags & BPF_F_RDONLY_PROG, 0u);
    EXPECT_EQ(rodata->spec.value_size, rodata->initial_data.size());
    const int64_t bw = var_offset(*obj, ".rodata", "bucket_width");
    ASSERT_GE(bw, 0);
    uint32_t width = 0;
    std::memcpy(&width, rodata->initial_data.data() + bw, 4);
    EXPECT_EQ(width, 256u);
    const auto* data = obj->find_map("maps_glo.data");
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->spec.map_flags & BPF_F_RDONLY_PROG, 0u);
    uint32_t generation = 0;
    std::memcpy(&generation, data->initial_data.data() + var_offset(*obj, ".data", "generation"), 4);
    EXPECT_EQ(generation, 1u);
    const auto* bss = obj->find_map("maps_glo.bss");
    ASSERT_NE(bss, nullptr);
    EXPECT_EQ(bss->initial_data, Bytes(bss->spec.value_size, 0));
    EXPECT_GE(bss->spec.value_size, 12u);

    // Map references, found through the source line they come from.
    ASSERT_EQ(obj->programs.size(), 1u);
    const auto& p = obj->programs[0];
    EXPECT_EQ(p.prog_type, BPF_PROG_TYPE_XDP);
    const int64_t lk = lddw_on_line(p, "bpf_map_lookup_elem(&size_buckets");
    ASSERT_GE(lk, 0);
    EXPECT_EQ(p.insns[lk].src, isa::pseudo::MAP_FD);
    EXPECT_EQ(p.insns[lk].imm, obj->map_index("size_buckets"));
    const int64_t fl = lddw_on_line(p, "&flows");
    ASSERT_GE(fl, 0);
    EXPECT_EQ(p.insns[fl].imm, obj->map_index("flows"));
    const int64_t tb = lddw_on_line(p, "total_bytes");
    ASSERT_GE(tb, 0);
    EXPECT_EQ(p.insns[tb].src, isa::pseudo::MAP_VALUE);
    EXPECT_EQ(p.insns[tb].imm, obj->map_index("maps_glo.bss"));
    EXPECT_EQ(p.insns[tb + 1].imm, var_offset(*obj, ".bss", "total_bytes"));
    const int64_t bwl = lddw_on_line(p, "bucket_width");
    ASSERT_GE(bwl, 0);
    EXPECT_EQ(p.insns[bwl].imm, obj->map_index("maps_glo.rodata"));
    EXPECT_EQ(p.insns[bwl + 1].imm, bw);
    EXPECT_EQ(p.map_refs.size(), 5u);
  }
}

TEST(Loader, AppendsSubprogramsOnce) {
  for (const char* file : {"loop_subprog.v3.bpf.o", "loop_subprog.v4.bpf.o"}) {
    SCOPED_TRACE(file);
    auto obj = loader::load_object(prog_path(file));
    ASSERT_TRUE(obj.ok()) << obj.error().str();
    const auto* p = obj->find_program("xdp_loop");
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(p->functions.size(), 3u);
    EXPECT_EQ(p->functions[1].name, "payload_sum");  // called first
    EXPECT_EQ(p->functions[2].name, "popcount32");
    EXPECT_EQ(p->functions[1].section, ".text");
    size_t calls = 0;
    for (size_t pc = 0; pc < p->functions[0].num_insns; ++pc)
      if (is_call_local(p->insns[pc])) {
        EXPECT_EQ(static_cast<size_t>(static_cast<int64_t>(pc) + p->insns[pc].imm + 1), p->functions[1 + calls].first_insn);
        ++calls;
      }
    EXPECT_EQ(calls, 2u);
    // Line info follows the appended code.
    auto first = p->line_for(p->functions[1].first_insn);
    ASSERT_TRUE(first.has_value());
    EXPECT_NE(first->text.find("payload_sum"), std::string::npos) << first->str();
    EXPECT_TRUE(first->file.ends_with("loop_subprog.bpf.c")) << first->file;
    auto pop = p->line_for(p->functions[2].first_insn + 2);
    ASSERT_TRUE(pop.has_value());
    EXPECT_GT(pop->line, first->line);
    // The globals are .bss: last_sum and last_bits stored through MAP_VALUE.
    const int64_t ls = lddw_on_line(*p, "last_sum");
    ASSERT_GE(ls, 0);
    EXPECT_EQ(p->insns[ls].src, isa::pseudo::MAP_VALUE);
    EXPECT_EQ(obj->maps[p->insns[ls].imm].spec.name, "loop_sub.bss");
  }
}

TEST(Loader, CallbacksAndSharedSubprograms) {
  for (const char* file : {"callbacks.v3.bpf.o", "callbacks.v4.bpf.o"}) {
    SCOPED_TRACE(file);
    auto obj = loader::load_object(prog_path(file));
    ASSERT_TRUE(obj.ok()) << obj.error().str();
    ASSERT_EQ(obj->programs.size(), 2u);  // two programs in one section
    const auto* loop = obj->find_program("xdp_loop_cb");
    const auto* each = obj->find_program("xdp_each_cb");
    ASSERT_TRUE(loop && each);
    EXPECT_EQ(loop->section, "xdp");
    EXPECT_EQ(each->section, "xdp");
    for (const auto* p : {loop, each}) {
      ASSERT_NE(function_named(*p, "mix"), nullptr) << p->name;  // global .text function
      ASSERT_NE(function_named(*p, "clamp"), nullptr) << p->name;
    }
    EXPECT_EQ(function_named(*loop, "sum_elem"), nullptr);
    EXPECT_EQ(function_named(*each, "add_index"), nullptr);
    // Callback references: lddw src=FUNC pointing at the appended callback.
    auto callback_target = [](const loader::ProgramSpec& p) -> int64_t {
      for (size_t pc = 0; pc + 1 < p.insns.size(); ++pc)
        if (isa::is_lddw(p.insns[pc]) && p.insns[pc].src == isa::pseudo::FUNC)
          return static_cast<int64_t>(pc) + p.insns[pc].imm + 1;
      return -1;
    };
    EXPECT_EQ(callback_target(*loop), static_cast<int64_t>(function_named(*loop, "add_index")->first_insn));
    EXPECT_EQ(callback_target(*each), static_cast<int64_t>(function_named(*each, "sum_elem")->first_insn));

    const auto* tags = obj->find_map(".data.tags");
    ASSERT_NE(tags, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(tags->initial_data.data())), "cb");
    const auto* rodata = obj->find_map("callback.rodata");
    ASSERT_NE(rodata, nullptr);
    const std::string ro(rodata->initial_data.begin(), rodata->initial_data.end());
    EXPECT_NE(ro.find("hello from callbacks"), std::string::npos);
    EXPECT_NE(ro.find("total %llu"), std::string::npos);
    // The .data.tags reference inside mix(), appended to both programs.
    const int64_t tag = lddw_on_line(*each, "tag[0]");
    ASSERT_GE(tag, 0);
    EXPECT_EQ(each->insns[tag].imm, obj->map_index(".data.tags"));
  }
}

TEST(Loader, MapInMapTemplatesAndSlots) {
  auto obj = loader::load_object(prog_path("map_in_map.v3.bpf.o"));
  ASSERT_TRUE(obj.ok()) << obj.error().str();
  const auto* outer = obj->find_map("outer_array");
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(outer->spec.type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  EXPECT_EQ(outer->spec.value_size, 4u);
  EXPECT_EQ(outer->spec.max_entries, 3u);
  ASSERT_GE(outer->spec.inner_map_index, 0);
  const auto& tmpl = obj->maps[static_cast<size_t>(outer->spec.inner_map_index)];
  EXPECT_TRUE(tmpl.is_inner_template);
  EXPECT_EQ(tmpl.spec.name, "outer_array.inner");
  EXPECT_EQ(tmpl.spec.type, BPF_MAP_TYPE_ARRAY);
  EXPECT_EQ(tmpl.spec.key_size, 4u);
  EXPECT_EQ(tmpl.spec.value_size, 8u);
  EXPECT_EQ(tmpl.spec.max_entries, 4u);
  ASSERT_NE(outer->spec.inner, nullptr);
  EXPECT_EQ(outer->spec.inner->value_size, 8u);
  ASSERT_EQ(outer->initial_slots.size(), 2u);
  EXPECT_EQ(outer->initial_slots[0].slot, 0u);
  EXPECT_EQ(outer->initial_slots[0].map_index, obj->map_index("inner_a"));
  EXPECT_EQ(outer->initial_slots[1].slot, 2u);
  EXPECT_EQ(outer->initial_slots[1].target, "inner_b");
  EXPECT_EQ(outer->initial_slots[1].map_index, obj->map_index("inner_b"));

  const auto* hash = obj->find_map("outer_hash");
  ASSERT_NE(hash, nullptr);
  EXPECT_EQ(hash->spec.map_flags, static_cast<uint32_t>(BPF_F_NO_PREALLOC));
  ASSERT_GE(hash->spec.inner_map_index, 0);
  const auto& htmpl = obj->maps[static_cast<size_t>(hash->spec.inner_map_index)];
  EXPECT_EQ(htmpl.spec.type, BPF_MAP_TYPE_HASH);
  EXPECT_EQ(htmpl.spec.key_size, 8u);
  EXPECT_EQ(htmpl.spec.value_size, 4u);
  EXPECT_EQ(htmpl.spec.max_entries, 16u);
  EXPECT_TRUE(hash->initial_slots.empty());

  const auto* events = obj->find_map("events");
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->spec.type, BPF_MAP_TYPE_RINGBUF);
  EXPECT_EQ(events->spec.max_entries, 4096u);
  EXPECT_EQ(events->spec.pinning, 1u);  // LIBBPF_PIN_BY_NAME

  const auto* tp = obj->find_program("tp_getpid");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->prog_type, BPF_PROG_TYPE_TRACEPOINT);
  EXPECT_EQ(tp->attach_target, "syscalls/sys_enter_getpid");
  EXPECT_EQ(tp->map_refs, std::vector<uint32_t>{static_cast<uint32_t>(obj->map_index("events"))});
  const auto* kp = obj->find_program("kprobe_sleep");
  ASSERT_NE(kp, nullptr);
  EXPECT_EQ(kp->prog_type, BPF_PROG_TYPE_KPROBE);
  EXPECT_EQ(kp->attach_target, "do_nanosleep");
}

TEST(Loader, LegacyMapsStringsAndStaticSubprograms) {
  auto obj = loader::load_object(prog_path("legacy_maps.v3.bpf.o"));
  ASSERT_TRUE(obj.ok()) << obj.error().str();
  EXPECT_EQ(obj->kern_version, 0x050a00u);
  const auto* count = obj->find_map("packet_count");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->section, "maps");
  EXPECT_EQ(count->spec.type, BPF_MAP_TYPE_ARRAY);
  EXPECT_EQ(count->spec.key_size, 4u);
  EXPECT_EQ(count->spec.value_size, 8u);
  EXPECT_EQ(count->spec.max_entries, 2u);
  const auto* hist = obj->find_map("length_hist");
  ASSERT_NE(hist, nullptr);
  EXPECT_EQ(hist->spec.type, BPF_MAP_TYPE_HASH);
  EXPECT_EQ(hist->spec.max_entries, 64u);
  EXPECT_EQ(hist->spec.map_flags, static_cast<uint32_t>(BPF_F_NO_PREALLOC));
  const auto* str = obj->find_map(".rodata.str1.1");
  ASSERT_NE(str, nullptr);
  EXPECT_NE(str->spec.map_flags & BPF_F_RDONLY_PROG, 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(str->initial_data.data())), "short packet %u\n");

  ASSERT_EQ(obj->programs.size(), 2u);  // the static `count` is not a program
  for (const auto& p : obj->programs) {
    SCOPED_TRACE(p.name);
    EXPECT_EQ(p.section, "socket");
    EXPECT_EQ(p.prog_type, BPF_PROG_TYPE_SOCKET_FILTER);
    const auto* fn = function_named(p, "count");
    ASSERT_NE(fn, nullptr);
    EXPECT_EQ(fn->section, "socket");
    const int64_t lk = lddw_on_line(p, "packet_count", fn->first_insn);
    ASSERT_GE(lk, 0);
    EXPECT_EQ(p.insns[lk].src, isa::pseudo::MAP_FD);
    EXPECT_EQ(p.insns[lk].imm, obj->map_index("packet_count"));
  }
  const auto* shrt = obj->find_program("count_short");
  const int64_t s = lddw_on_line(*shrt, "short packet");
  ASSERT_GE(s, 0);
  EXPECT_EQ(shrt->insns[s].src, isa::pseudo::MAP_VALUE);
  EXPECT_EQ(shrt->insns[s].imm, obj->map_index(".rodata.str1.1"));
  EXPECT_EQ(shrt->insns[s + 1].imm, 0);
}

TEST(Loader, NamesGlobalDataAfterTheObject) {
  const Bytes b = file_bytes(prog_path("maps_globals.v3.bpf.o"));
  auto obj = loader::load_object(std::span<const uint8_t>(b), "a-very-long-object-name");
  ASSERT_TRUE(obj.ok()) << obj.error().str();
  EXPECT_GE(obj->map_index("a_very_l.rodata"), 0);
  EXPECT_GE(obj->map_index("a_very_l.bss"), 0);
  auto shrt = loader::load_object(std::span<const uint8_t>(b), "x");
  ASSERT_TRUE(shrt.ok());
  EXPECT_GE(shrt->map_index("x.data"), 0);
}

namespace {

using test::elf_at;
using test::elf_section;
using test::elf_symbol;

void expect_error(const Bytes& b, ErrorKind kind, const std::string& needle) {
  auto obj = loader::load_object(std::span<const uint8_t>(b));
  ASSERT_FALSE(obj.ok()) << "accepted; expected an error mentioning " << needle;
  EXPECT_EQ(obj.error().kind, kind) << obj.error().message;
  EXPECT_NE(obj.error().message.find(needle), std::string::npos) << obj.error().message;
}

}  // namespace

TEST(Loader, UnknownSectionIsAWarning) {
  Bytes b = file_bytes(prog_path("xdp_parse.v3.bpf.o"));
  uint64_t name_off = 0;
  ASSERT_NE(elf_section(b, "xdp", &name_off), nullptr);
  std::memcpy(b.data() + name_off, "xyz", 3);
  auto obj = loader::load_object(std::span<const uint8_t>(b));
  ASSERT_TRUE(obj.ok()) << obj.error().str();
  EXPECT_TRUE(obj->programs.empty());
  ASSERT_EQ(obj->warnings.size(), 1u);
  EXPECT_NE(obj->warnings[0].find("'xyz'"), std::string::npos) << obj->warnings[0];
  EXPECT_NE(obj->warnings[0].find("'xdp_parse'"), std::string::npos) << obj->warnings[0];
}

TEST(Loader, RejectsBrokenReferences) {
  const Bytes good = file_bytes(prog_path("maps_globals.v3.bpf.o"));
  ASSERT_FALSE(good.empty());
  // A global variable turned into an extern (as a __ksym or __kconfig would be).
  Bytes b = good;
  elf_symbol(b, "total_bytes")->st_shndx = SHN_UNDEF;
  expect_error(b, ErrorKind::Unsupported, "'total_bytes'");
  // A relocation against a symbol that does not exist.
  b = good;
  Elf64_Shdr* rel = elf_section(b, ".relxdp");
  ASSERT_NE(rel, nullptr);
  elf_at<Elf64_Rel>(b, rel->sh_offset)->r_info = ELF64_R_INFO(9999, 1);
  expect_error(b, ErrorKind::Malformed, "'.relxdp'");
  // A relocation pointing past the section.
  b = good;
  elf_at<Elf64_Rel>(b, rel->sh_offset)->r_offset = 1u << 20;
  expect_error(b, ErrorKind::Malformed, "'xdp'");

  // A call into the middle of a subprogram.
  const Bytes loop = file_bytes(prog_path("loop_subprog.v3.bpf.o"));
  b = loop;
  Elf64_Sym* pop = elf_symbol(b, "popcount32");
  ASSERT_NE(pop, nullptr);
  pop->st_value += 8;
  pop->st_size -= 8;
  expect_error(b, ErrorKind::Malformed, "not the start of a function");

  // A map definition without a symbol: BTF names a map the symbol table lacks.
  b = good;
  elf_symbol(b, "size_buckets")->st_shndx = SHN_ABS;
  expect_error(b, ErrorKind::Malformed, "'size_buckets'");
}

TEST(Loader, SurvivesTruncationAndCorruption) {
  for (const char* file : {"callbacks.v4.bpf.o", "map_in_map.v3.bpf.o", "legacy_maps.v3.bpf.o"}) {
    SCOPED_TRACE(file);
    const Bytes good = file_bytes(prog_path(file));
    ASSERT_FALSE(good.empty());
    for (size_t len = 0; len < good.size(); len += 13) {
      const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
      auto obj = loader::load_object(std::span<const uint8_t>(cut));
      ASSERT_FALSE(obj.ok()) << "accepted a file cut to " << len << " bytes";
      EXPECT_EQ(obj.error().kind, ErrorKind::Malformed) << len;
    }
    std::mt19937 rng(777);
    size_t rejected = 0;
    for (int round = 0; round < 1500; ++round) {
      Bytes b = good;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) b[4 + rng() % (b.size() - 4)] = static_cast<uint8_t>(rng());
      auto obj = loader::load_object(std::span<const uint8_t>(b));
      if (!obj.ok()) {
        EXPECT_TRUE(obj.error().kind == ErrorKind::Malformed || obj.error().kind == ErrorKind::Unsupported)
            << obj.error().message;
        ++rejected;
      } else {
        for (const auto& p : obj->programs) EXPECT_FALSE(p.insns.empty());
      }
    }
    EXPECT_GT(rejected, 0u);
  }
}

namespace {

// Compiles a snippet with clang-19 (nullopt when it is not installed).
std::optional<std::string> compile_snippet(const std::string& name, const std::string& code) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string src = (dir / (name + std::to_string(getpid()) + ".bpf.c")).string();
  const std::string obj = (dir / (name + std::to_string(getpid()) + ".bpf.o")).string();
  std::ofstream(src) << code;
  auto r = test::run_process({"clang-19", "-O2", "-g", "-target", "bpf", "-c", src, "-o", obj});
  std::filesystem::remove(src);
  if (r.exit_code != 0) return std::nullopt;
  return obj;
}

}  // namespace

TEST(Loader, RejectsCoreAndKfuncUsers) {
  // CO-RE: a field access through a preserve_access_index struct.
  auto core = compile_snippet("core", R"(
struct task { int pid; int tgid; } __attribute__((preserve_access_index));
__attribute__((section("kprobe/x"), used)) int read_tgid(struct task *t) { return t->tgid; }
__attribute__((section("kprobe/y"), used)) int plain(void *ctx) { return 0; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
)");
  if (!core) GTEST_SKIP() << "clang-19 not available";
  auto obj = loader::load_object(*core);
  std::filesystem::remove(*core);
  ASSERT_FALSE(obj.ok());
  EXPECT_EQ(obj.error().kind, ErrorKind::Unsupported);
  EXPECT_NE(obj.error().message.find("CO-RE"), std::string::npos) << obj.error().message;
  EXPECT_NE(obj.error().message.find("'read_tgid'"), std::string::npos) << obj.error().message;

  // A kfunc: an extern function resolved against the kernel's BTF at load time.
  auto kfunc = compile_snippet("kfunc", R"(
extern void *bpf_obj_new_impl(unsigned long long type_id, void *meta) __attribute__((section(".ksyms")));
__attribute__((section("tc"), used)) int uses_kfunc(void *ctx) { return bpf_obj_new_impl(1, 0) != 0; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
)");
  ASSERT_TRUE(kfunc.has_value());
  obj = loader::load_object(*kfunc);
  std::filesystem::remove(*kfunc);
  ASSERT_FALSE(obj.ok());
  EXPECT_EQ(obj.error().kind, ErrorKind::Unsupported);
  EXPECT_NE(obj.error().message.find("'bpf_obj_new_impl'"), std::string::npos) << obj.error().message;
  EXPECT_NE(obj.error().message.find("'tc'"), std::string::npos) << obj.error().message;
}
