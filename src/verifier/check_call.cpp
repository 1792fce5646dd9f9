// Calls and exits (the kernel's check_helper_call, check_func_call and
// prepare_func_exit): helper arguments against their prototypes, which maps fit
// which helpers, acquired references (ringbuf records), bpf-to-bpf frames and
// callbacks of bpf_loop / bpf_for_each_map_elem.
#include <algorithm>
#include <string>

#include <linux/bpf.h>

#include "userbpf/helpers.h"
#include "verifier/env.h"

namespace userbpf::verifier {

using isa::Insn;
using maps::MapType;

namespace {

constexpr uint64_t kMaxVarSize = uint64_t{1} << 29;  // BPF_MAX_VAR_SIZ

bool map_is(const maps::MapSpec* m, std::initializer_list<MapType> types) {
  if (!m) return false;
  for (MapType t : types)
    if (m->type == static_cast<uint32_t>(t)) return true;
  return false;
}

// check_map_func_compatibility: both directions.
bool map_fits_helper(const maps::MapSpec* m, int32_t id) {
  using T = MapType;
  if (!m) return false;
  const auto type = static_cast<T>(m->type);
  switch (type) {
    case T::ProgArray: if (id != BPF_FUNC_tail_call) return false; break;
    case T::PerfEventArray:
      if (id != BPF_FUNC_perf_event_read && id != BPF_FUNC_perf_event_output && id != BPF_FUNC_skb_output &&
          id != BPF_FUNC_perf_event_read_value && id != BPF_FUNC_xdp_output)
        return false;
      break;
    case T::Ringbuf:
      if (id != BPF_FUNC_ringbuf_output && id != BPF_FUNC_ringbuf_reserve && id != BPF_FUNC_ringbuf_query) return false;
      break;
    case T::Queue:
    case T::Stack:
      if (id != BPF_FUNC_map_peek_elem && id != BPF_FUNC_map_pop_elem && id != BPF_FUNC_map_push_elem) return false;
      break;
    case T::BloomFilter:
      if (id != BPF_FUNC_map_peek_elem && id != BPF_FUNC_map_push_elem) return false;
      break;
    case T::ArrayOfMaps:
    case T::HashOfMaps:
      if (id != BPF_FUNC_map_lookup_elem) return false;
      break;
    default: break;
  }
  switch (id) {
    case BPF_FUNC_tail_call: return type == T::ProgArray;
    case BPF_FUNC_perf_event_output:
    case BPF_FUNC_perf_event_read: return type == T::PerfEventArray;
    case BPF_FUNC_ringbuf_output:
    case BPF_FUNC_ringbuf_reserve:
    case BPF_FUNC_ringbuf_query: return type == T::Ringbuf;
    case BPF_FUNC_map_pop_elem: return type == T::Queue || type == T::Stack;
    case BPF_FUNC_map_peek_elem:
    case BPF_FUNC_map_push_elem: return type == T::Queue || type == T::Stack || type == T::BloomFilter;
    case BPF_FUNC_redirect_map: return false;  // devmap, cpumap, xskmap: not implemented
    case BPF_FUNC_for_each_map_elem:
      return map_is(m, {T::Hash, T::LruHash, T::Array, T::PercpuHash, T::PercpuArray, T::LruPercpuHash});
    case BPF_FUNC_map_lookup_percpu_elem: return map_is(m, {T::PercpuArray, T::PercpuHash, T::LruPercpuHash});
    default: return true;
  }
}

// After any number of callback iterations the numbers the callback may have
// stored in its callers' stacks are unknown.
void havoc_caller_stacks(State& st) {
  for (auto& f : st.frames)
    for (auto& s : f.stack) {
      if (s.is_spill() && s.spilled.is_scalar()) {
        if (s.spill_size() == 8) {
          s.spilled = Reg::unknown();
        } else {
          s.scrub_spill();
        }
      }
      std::replace(s.bytes.begin(), s.bytes.end(), SlotByte::Zero, SlotByte::Misc);
    }
}

// The key a stack pointer argument points to, when it is a known constant
// (a spilled constant or zeroed bytes); -1 otherwise.  `slot` is where it is.
int64_t constant_stack_key(const State& st, const Reg& reg, uint32_t size, size_t& slot) {
  if (reg.type != RegType::Stack || !reg.var.is_const() || size == 0 || size > 8) return -1;
  const int64_t off = reg.off + static_cast<int64_t>(reg.var.const_value());
  if (off >= 0 || off < -isa::kStackSize) return -1;
  slot = stack_slot_of(off);
  const size_t byte = stack_byte_of(off);
  if (byte + size > 8) return -1;
  const StackSlot* s = st.frames[reg.frame].slot_if(slot);
  if (!s) return -1;
  if (byte == 0 && s->is_spill() && s->spill_size() == static_cast<int>(size) && s->spilled.is_const()) {
    const uint64_t v = s->spilled.var.const_value();
    return static_cast<int64_t>(size == 8 ? v : v & ((uint64_t{1} << (8 * size)) - 1));
  }
  for (size_t k = byte; k < byte + size; ++k)
    if (s->bytes[k] != SlotByte::Zero) return -1;
  return 0;
}

}  // namespace

void Env::invalidate_packet_pointers() {
  cur_.st.for_each_reg([](Reg& r) {
    if (r.is_pkt() || r.type == RegType::PacketEnd) r = Reg::unknown();
  });
}

void Env::release_reference(uint32_t ref_id) {
  auto& refs = cur_.st.refs;
  refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const RefState& r) { return r.id == ref_id; }), refs.end());
  cur_.st.for_each_reg([&](Reg& r) {
    if (r.ref_id == ref_id) r = Reg::unknown();  // privileged: an invalidated pointer is a number
  });
}

bool Env::check_helper_mem(int regno, const Scalar& size, bool zero_ok, Access t) {
  State& st = cur_.st;
  const Reg reg = st.reg(regno);
  const RegName R{regno};
  const uint64_t sz = size.umax;
  if (sz == 0 && zero_ok && reg.is_null_const()) return true;
  switch (reg.type) {
    case RegType::Stack: {
      Frame& f = st.frames[reg.frame];
      int64_t lo, hi;
      if (reg.var.is_const()) {
        lo = reg.off + static_cast<int64_t>(reg.var.const_value());
        hi = lo + static_cast<int64_t>(sz);
      } else {
        if (reg.var.smax >= (int64_t{1} << 29) || reg.var.smin <= -(int64_t{1} << 29))
          return fail("invalid unbounded variable-offset indirect access to stack " + R, "", "", {regno});
        lo = reg.off + reg.var.smin;
        hi = reg.off + reg.var.smax + static_cast<int64_t>(sz);
      }
      if (lo < -isa::kStackSize || hi > 0 || (sz == 0 && !zero_ok))
        return fail("invalid indirect access to stack " + R + " off=" + std::to_string(lo) + " size=" + std::to_string(sz),
                    "the helper would access " + std::to_string(sz) + " bytes from fp" + std::to_string(lo) +
                        ", outside the 512-byte stack frame",
                    "pass a buffer at least as large as the size argument", {regno});
      note_stack_depth(f, lo);
      if (t == Access::Write) {
        for (int64_t b = lo; b < hi; ++b) {
          StackSlot& s = f.slot(stack_slot_of(b));
          s.scrub_spill();
          s.bytes[stack_byte_of(b)] = SlotByte::Misc;
        }
      }
      return true;
    }
    case RegType::MapValue:
    case RegType::MapKey:
    case RegType::Mem:
    case RegType::Packet:
    case RegType::PacketMeta: {
      if (reg.maybe_null) break;
      if (reg.type == RegType::MapKey && t == Access::Write) break;
      // A helper access is one access of `sz` bytes at the pointer.
      if (sz > UINT32_MAX) return fail(R + " unbounded memory access", "", "", {regno});
      if (sz == 0) return true;
      return check_mem_access(regno, 0, static_cast<uint32_t>(sz), t, -1, false, nullptr);
    }
    default: break;
  }
  return fail(R + " type=" + reg_type_name(reg.type, reg.maybe_null) +
                  " expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf",
              reg.maybe_null ? R + " may be NULL here" : R + " is not a pointer to memory the helper may use",
              reg.maybe_null ? "check the pointer against NULL before passing it" : "pass a pointer to a stack buffer or a map value",
              {regno});
}

bool Env::check_helper_call(const Insn& in) {
  State& st = cur_.st;
  const int32_t id = in.imm;
  const std::string hname = helpers::helper_name(id).empty() ? "unknown" : helpers::helper_name(id);
  if (!find_helper_proto(id))
    return fail("invalid func " + hname + "#" + std::to_string(id), "no BPF helper with this id is known",
                "check the helper id against linux/bpf.h");
  const HelperProto* p = find_helper_proto(id, prog.prog_type);
  if (!p || !helper_allowed(id, prog.prog_type))
    return fail("program of this type cannot use helper " + hname + "#" + std::to_string(id),
                helper_disallowed_reason(id, prog.prog_type), "");
  constexpr uint32_t kSleepable = 1u << 4;  // BPF_F_SLEEPABLE
  if (p->might_sleep && !(prog.prog_flags & kSleepable))
    return fail("helper call might sleep in a non-sleepable prog", "", "use the sleepable section (e.g. SEC(\"uprobe.s/...\"))");
  if (p->gpl_only && !opts.gpl_compatible)
    return fail("cannot call GPL-restricted function from non-GPL compatible program", "",
                "declare char LICENSE[] SEC(\"license\") = \"GPL\";");

  int32_t map = -1;
  int mem_reg = -1;
  ArgKind mem_kind = ArgKind::None;
  int32_t callback = -1;
  uint32_t alloc_size = 0;
  uint32_t release_ref = 0;
  int64_t const_key = -1;
  for (int a = 0; a < 5 && p->args[a] != ArgKind::None; ++a) {
    const int r = a + 1;
    const ArgKind k = p->args[a];
    if (!check_reg_init(r)) return false;
    const Reg& reg = st.reg(r);
    const RegName R{r};
    auto type_err = [&](const char* expected) {
      return fail(R + " type=" + reg_type_name(reg.type, reg.maybe_null) + " expected=" + expected,
                  std::string("argument ") + std::to_string(r) + " of " + p->name + " must be " + expected,
                  reg.maybe_null ? R + " may be NULL: check it first" : "", {r});
    };
    // A number passed where the helper expects a size or a pointer (NULL) is checked by value.
    if (k != ArgKind::Anything && reg.is_scalar()) mark_precise(r);
    switch (k) {
      case ArgKind::None:
      case ArgKind::Anything: break;
      case ArgKind::ConstMapPtr: {
        if (reg.type != RegType::ConstMapPtr || reg.maybe_null) return type_err("map_ptr");
        map = reg.map;
        note_call_map(reg.inner_map ? kCallMapVaries : map);
        if (!map_fits_helper(map_spec(map), id))
          return fail("cannot pass map_type " + std::to_string(map_spec(map)->type) + " into func " + p->name + "#" +
                          std::to_string(id),
                      std::string("a ") + maps::map_type_name(map_spec(map)->type) + " map cannot be used with " + p->name, "",
                      {r});
        break;
      }
      case ArgKind::MapKey:
      case ArgKind::MapValue:
      case ArgKind::MapValueWrite: {
        const maps::MapSpec* m = map_spec(map);
        if (!m) return fail(R + " map argument missing", "", "", {r});
        const uint32_t size = k == ArgKind::MapKey ? m->key_size : m->value_size;
        if (k == ArgKind::MapKey) {
          size_t key_slot = 0;
          const_key = constant_stack_key(st, reg, size, key_slot);
          // The lookup cannot fail because of this value (spilled or zero bytes).
          if (const_key >= 0) mark_precise_slot(reg.frame, key_slot);
        }
        if (!check_helper_mem(r, Scalar::constant(size), false, k == ArgKind::MapValueWrite ? Access::Write : Access::Read))
          return false;
        break;
      }
      case ArgKind::SpinLock:
        return fail(std::string(p->name) + " needs a bpf_spin_lock described by the map's BTF, which userbpf does not support",
                    "", "");
      case ArgKind::MemRead:
      case ArgKind::MemReadOrNull:
      case ArgKind::MemWrite:
      case ArgKind::MemReadWrite:
      case ArgKind::MemReadWriteOrNull:
        mem_reg = r;
        mem_kind = k;
        break;
      case ArgKind::ConstSize:
      case ArgKind::ConstSizeOrZero: {
        const bool zero_ok = k == ArgKind::ConstSizeOrZero;
        if (!reg.is_scalar()) return type_err("scalar");
        if (reg.var.smin < 0)
          return fail(R + " min value is negative, either use unsigned or 'var &= const'", "the size may be negative",
                      "make the size unsigned or mask it", {r});
        if (reg.var.umin == 0 && !zero_ok)
          return fail(R + " invalid zero-sized read: u64=[" + std::to_string(reg.var.umin) + "," +
                          std::to_string(reg.var.umax) + "]",
                      "the size may be 0 here, which this helper does not accept", "check size > 0 first", {r});
        if (reg.var.umax >= kMaxVarSize)
          return fail(R + " unbounded memory access, use 'var &= const' or 'if (var < const)'",
                      "nothing bounds the size passed to " + std::string(p->name),
                      "bound it first: if (len > sizeof(buf)) len = sizeof(buf);", {r});
        if (mem_reg < 0) break;
        const Access t = arg_is_written(mem_kind) ? Access::Write : Access::Read;
        if (!check_helper_mem(mem_reg, reg.var, zero_ok || arg_accepts_null(mem_kind), t)) return false;
        mem_reg = -1;
        break;
      }
      case ArgKind::Ctx:
        if (reg.type != RegType::Ctx) return type_err("ctx");
        if (reg.off != 0)
          return fail("dereference of modified ctx ptr " + R + " off=" + std::to_string(reg.off) + " disallowed", "", "", {r});
        break;
      case ArgKind::RingbufMem:
        if (reg.type != RegType::Mem || reg.maybe_null || reg.ref_id == 0) return type_err("ringbuf_mem");
        if (reg.off != 0 || !reg.var.is_const() || reg.var.const_value() != 0)
          return fail(R + " must have zero offset when passed to release func", "", "pass the pointer bpf_ringbuf_reserve returned",
                      {r});
        release_ref = reg.ref_id;
        break;
      case ArgKind::ConstAllocSize:
        if (!reg.is_const()) return fail(R + " is not a known constant'", "the reservation size must be a compile-time constant",
                                         "reserve sizeof(struct ...)", {r});
        alloc_size = static_cast<uint32_t>(reg.var.const_value());
        break;
      case ArgKind::Func:
        if (reg.type != RegType::Func) return type_err("func");
        callback = reg.subprog;
        break;
      case ArgKind::StackOrNull:
        if (!(reg.type == RegType::Stack || reg.is_null_const())) return type_err("fp");
        break;
      case ArgKind::ConstStr: {
        if (reg.type != RegType::MapValue || reg.maybe_null) return type_err("map_value");
        if (!reg.rdonly) return fail(R + " does not point to a readonly map'", "format strings must live in read-only data",
                                     "make the format string a const global or a string literal", {r});
        if (!reg.var.is_const()) return fail(R + " is not a constant address'", "", "", {r});
        const loader::MapDef& md = maps[static_cast<size_t>(reg.map)];
        const size_t o = static_cast<size_t>(reg.off) + static_cast<size_t>(reg.var.const_value());
        if (o >= md.initial_data.size() ||
            std::find(md.initial_data.begin() + static_cast<std::ptrdiff_t>(o), md.initial_data.end(), 0) == md.initial_data.end())
          return fail("string is not zero-terminated", "", "", {r});
        break;
      }
      case ArgKind::PtrToLong:
        if (!check_helper_mem(r, Scalar::constant(8), false, Access::Write)) return false;
        break;
    }
  }
  if (id == BPF_FUNC_tail_call && !st.refs.empty())
    return fail("tail_call would lead to reference leak", "a ringbuf record is still held when the tail call may happen",
                "submit or discard it before bpf_tail_call");

  if (release_ref) release_reference(release_ref);
  if (p->changes_pkt_data) invalidate_packet_pointers();

  // The return value.
  Reg r0;
  switch (p->ret) {
    case RetKind::Integer: r0 = Reg::unknown(); break;
    case RetKind::Void: break;
    case RetKind::MapValueOrNull: {
      const maps::MapSpec* m = map_spec(map);
      if (map_is(m, {MapType::ArrayOfMaps, MapType::HashOfMaps})) {
        r0 = Reg::pointer(RegType::ConstMapPtr);
        r0.map = m->inner_map_index;
        r0.inner_map = true;
      } else {
        r0 = Reg::pointer(RegType::MapValue);
        r0.map = map;
        r0.rdonly = map_is_rdonly(map);
      }
      r0.maybe_null = true;
      r0.id = new_id();
      // An array lookup with a constant key in range cannot fail.
      if (id == BPF_FUNC_map_lookup_elem && map_is(m, {MapType::Array, MapType::PercpuArray}) && const_key >= 0 &&
          static_cast<uint64_t>(const_key) < m->max_entries) {
        r0.maybe_null = false;
        r0.id = 0;
      }
      break;
    }
    case RetKind::RingbufMemOrNull:
      r0 = Reg::pointer(RegType::Mem);
      r0.mem_size = alloc_size;
      r0.maybe_null = true;
      r0.id = new_id();
      r0.ref_id = r0.id;
      st.refs.push_back(RefState{r0.id, pc_});
      break;
  }

  if (callback >= 0 && p->callback != CallbackKind::None) {
    if (st.frames.size() >= static_cast<size_t>(isa::kMaxCallDepth))
      return fail("the call stack of " + std::to_string(st.frames.size() + 1) + " frames is too deep !", "", "");
    // Zero iterations: continue after the call.
    State skip = st;
    for (int i = 1; i <= 5; ++i) skip.reg(i) = Reg{};
    skip.reg(0) = Reg::unknown();
    push_branch(skip, pc_ + 1);
    enter_callback(st, pc_, callback, p->callback);
    return true;
  }
  for (int i = 1; i <= 5; ++i) st.reg(i) = Reg{};
  st.reg(0) = r0;
  st.pc = pc_ + 1;
  return true;
}

// A callback frame entered from the helper call at `callsite`; the caller's
// argument registers still hold what it passed.
void Env::enter_callback(State& st, int32_t callsite, int32_t start, CallbackKind kind) {
  havoc_caller_stacks(st);
  const Frame& caller = st.cur();
  Frame f;
  f.callsite = callsite;
  f.subprog = start;
  f.in_callback = true;
  if (kind == CallbackKind::Loop) {
    f.regs[1] = Reg::unknown();  // index
    f.regs[2] = caller.regs[3];  // ctx
  } else {
    const int32_t map = caller.regs[1].map;
    f.regs[1] = caller.regs[1];
    f.regs[2] = Reg::pointer(RegType::MapKey);
    f.regs[2].map = map;
    f.regs[2].rdonly = true;
    f.regs[3] = Reg::pointer(RegType::MapValue);
    f.regs[3].map = map;
    f.regs[3].rdonly = map_is_rdonly(map);
    f.regs[4] = caller.regs[3];
  }
  f.regs[10] = Reg::pointer(RegType::Stack);
  f.regs[10].frame = static_cast<uint8_t>(st.frames.size());
  st.frames.push_back(std::move(f));
  st.pc = start;
}

bool Env::check_global_call(const Insn& in, const loader::FunctionSpan& fn) {
  State& st = cur_.st;
  for (size_t a = 0; a < fn.args.size() && a < 5; ++a) {
    const int r = static_cast<int>(a) + 1;
    const RegName R{r};
    const loader::FuncArg& arg = fn.args[a];
    if (arg.kind == loader::FuncArg::Kind::Unsupported)
      return fail("arg#" + std::to_string(a) + " reference type('" + arg.type_name + "') size cannot be determined",
                  "global functions may only take integers, the context or pointers to sized types", "make the function static");
    if (!check_reg_init(r)) return false;
    const Reg& reg = st.reg(r);
    switch (arg.kind) {
      case loader::FuncArg::Kind::Scalar:
        if (!reg.is_scalar())
          return fail(R + " is not a scalar", "argument " + std::to_string(a) + " of global function " + fn.name + " is an integer",
                      "", {r});
        break;
      case loader::FuncArg::Kind::Ctx:
        if (reg.type != RegType::Ctx || reg.off != 0)
          return fail("arg#" + std::to_string(a) + " expects pointer to ctx", "", "pass the context pointer itself", {r});
        break;
      case loader::FuncArg::Kind::Mem:
        if (reg.is_null_const()) break;
        if (!check_helper_mem(r, Scalar::constant(fn.args[a].size), false, Access::Read)) return false;
        if (!check_helper_mem(r, Scalar::constant(fn.args[a].size), false, Access::Write)) return false;
        break;
      case loader::FuncArg::Kind::Unsupported: break;
    }
  }
  global_called_[static_cast<size_t>(func_index(pc_ + 1 + in.imm))] = 1;
  for (int i = 1; i <= 5; ++i) st.reg(i) = Reg{};
  st.reg(0) = Reg::unknown();
  st.pc = pc_ + 1;
  return true;
}

bool Env::check_local_call(const Insn& in) {
  State& st = cur_.st;
  if (const loader::FunctionSpan* g = global_func_[static_cast<size_t>(func_index(pc_ + 1 + in.imm))])
    return check_global_call(in, *g);
  if (st.frames.size() >= static_cast<size_t>(isa::kMaxCallDepth))
    return fail("the call stack of " + std::to_string(st.frames.size() + 1) + " frames is too deep !",
                "bpf-to-bpf calls may nest at most 8 frames deep", "inline some of the functions (__always_inline)");
  const int32_t target = pc_ + 1 + in.imm;
  Frame f;
  f.callsite = pc_;
  f.subprog = target;
  for (int i = 1; i <= 5; ++i) f.regs[i] = st.reg(i);
  f.regs[10] = Reg::pointer(RegType::Stack);
  f.regs[10].frame = static_cast<uint8_t>(st.frames.size());
  for (int i = 0; i <= 5; ++i) st.reg(i) = Reg{};
  st.frames.push_back(std::move(f));
  st.pc = target;
  return true;
}

bool Env::check_exit(bool& done) {
  State& st = cur_.st;
  // A subprogram may return void: R0 is only checked where it is used (the
  // main program's and callbacks' return values).
  if ((st.frames.size() == 1 || st.cur().in_callback) && !check_reg_init(0)) return false;
  const Reg r0 = st.reg(0);
  if (st.frames.size() == 1) {
    if (st.cur().subprog != 0 && !r0.is_scalar())
      return fail("At subprogram exit the register R0 is not a scalar value (" + std::string(reg_type_name(r0.type, r0.maybe_null)) + ")",
                  "global functions must return an integer", "", {0});
    if (!st.refs.empty())
      return fail("Unreleased reference id=" + std::to_string(st.refs[0].id) + " alloc_insn=" + std::to_string(st.refs[0].insn),
                  "a ringbuf record reserved at insn " + std::to_string(st.refs[0].insn) +
                      " is neither submitted nor discarded on this path",
                  "call bpf_ringbuf_submit() or bpf_ringbuf_discard() on every path after a successful reserve");
    done = true;
    return true;
  }
  const Frame& callee = st.cur();
  const int32_t callsite = callee.callsite;
  if (callee.in_callback) {
    mark_precise(0);
    if (!r0.is_scalar() || r0.var.smin < 0 || r0.var.umax > 1)
      return fail("At callback return the register R0 has " + (r0.is_scalar() ? r0.var.str() : std::string("type ") + reg_type_name(r0.type, r0.maybe_null)) +
                      " should have been in [0, 1]",
                  "callbacks of bpf_loop and bpf_for_each_map_elem must return 0 (continue) or 1 (stop)", "return 0 or 1",
                  {0});
    // Another iteration, from the state this one ended in.
    State again = st;
    const CallbackKind kind =
        insns[static_cast<size_t>(callsite)].imm == BPF_FUNC_loop ? CallbackKind::Loop : CallbackKind::ForEachMapElem;
    const int32_t start = callee.subprog;
    again.frames.pop_back();
    enter_callback(again, callsite, start, kind);
    push_branch(again, start);
    st.frames.pop_back();
    for (int i = 1; i <= 5; ++i) st.reg(i) = Reg{};
    st.reg(0) = Reg::unknown();
    st.pc = callsite + 1;
    return true;
  }
  if (r0.type == RegType::Stack && r0.frame + 1u >= st.frames.size())
    return fail("cannot return stack pointer to the caller frame", "the callee's stack is gone once it returns",
                "return a value, or write through a pointer the caller passed", {0});
  st.frames.pop_back();
  st.reg(0) = r0;
  st.pc = callsite + 1;
  return true;
}

}  // namespace userbpf::verifier
