// Control-flow helpers: bpf_tail_call, bpf_loop and bpf_for_each_map_elem.
// They need the running program (RunState), and the engine for callbacks.
#include <linux/bpf.h>

#include <cstring>
#include <vector>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

constexpr int kMaxTailCalls = 33;           // MAX_TAIL_CALL_CNT
constexpr uint32_t kMaxLoops = 1u << 23;    // BPF_MAX_LOOPS

// Ends the run with an error: a callback or tail-called program faulted.
void abort_run(vm::ExecContext* ctx, Error e) {
  ctx->stop = true;
  ctx->stop_value = 0;
  ctx->stop_error = std::move(e);
}

const vm::Engine* engine_of(const vm::ExecContext* ctx) {
  const runtime::RunState* st = run_state(ctx);
  return st && st->program ? &st->program->engine() : nullptr;
}

// long bpf_tail_call(ctx, prog_array, index).  On success the target runs on
// the same context and its r0 ends the caller's run (a tail call never
// returns); on failure the caller goes on with a negative r0.  As in the
// kernel, an attempt within range counts against the limit even when the slot
// turns out empty.
uint64_t tail_call(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  runtime::RunState* st = run_state(ctx);
  maps::Map* m = map_arg(ctx, r2);
  if (!st || !m || m->type() != static_cast<uint32_t>(maps::MapType::ProgArray)) return err(EINVAL);
  const uint32_t index = static_cast<uint32_t>(r3);
  if (index >= m->spec().max_entries) return err(ENOENT);
  if (st->tail_call_count >= kMaxTailCalls) return err(E2BIG);
  ++st->tail_call_count;
  const uint32_t id = static_cast<maps::IdArrayMap*>(m)->id_at(index);
  const runtime::Program* target = id ? runtime::program_by_id(id) : nullptr;
  if (!target) return err(ENOENT);

  vm::ExecContext sub = *ctx;
  runtime::RunState sub_state = *st;
  sub_state.program = target;
  sub_state.object = &target->object();
  sub.user = &sub_state;
  sub.helpers = &target->object().helpers();
  sub.args[0] = r1;
  for (int i = 1; i < 5; ++i) sub.args[i] = 0;
  sub.insn_budget = ctx->insn_budget > ctx->insns_executed ? ctx->insn_budget - ctx->insns_executed : 0;
  if (sub_state.object != st->object) {
    // A program of another object: its maps become reachable too.
    vm::ExecContext other;
    runtime::RunState other_state;
    target->object().prepare(*target, other, other_state);
    sub.regions.insert(sub.regions.end(), other.regions.begin(), other.regions.end());
  }
  Result<uint64_t> r = runtime::run_program(*target, sub);
  st->tail_call_count = sub_state.tail_call_count;
  ctx->insns_executed += sub.insns_executed;
  if (!r) {
    abort_run(ctx, std::move(r.error()));
    return 0;
  }
  ctx->stop = true;
  ctx->stop_value = *r;
  return 0;
}

// long bpf_loop(nr_loops, callback_fn, callback_ctx, flags): iterations run,
// counting the one whose non-zero return stopped the loop.
uint64_t loop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  if (r4 != 0) return err(EINVAL);
  const uint32_t nr = static_cast<uint32_t>(r1);
  if (nr > kMaxLoops) return err(E2BIG);
  const vm::Engine* engine = engine_of(ctx);
  if (!engine) return err(EINVAL);
  for (uint32_t i = 0; i < nr; ++i) {
    const uint64_t args[5] = {i, r3, 0, 0, 0};
    Result<uint64_t> r = engine->call_function(*ctx, r2, args);
    if (!r) {
      abort_run(ctx, std::move(r.error()));
      return 0;
    }
    if (ctx->stop || *r != 0) return uint64_t{i} + 1;
  }
  return nr;
}

bool is_array(uint32_t t) {
  return t == static_cast<uint32_t>(maps::MapType::Array) || t == static_cast<uint32_t>(maps::MapType::PercpuArray);
}

// long bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): calls
// callback(map, &key, value, callback_ctx) per element (this CPU's value for
// per-CPU maps); returns the number of elements visited.  Hash keys are
// collected first, so callbacks may delete elements without upsetting the walk.
uint64_t for_each_map_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  if (r4 != 0) return err(EINVAL);
  maps::Map* m = map_arg(ctx, r1);
  if (!m || !map_func_compatible(m->type(), BPF_FUNC_for_each_map_elem)) return err(EINVAL);
  const vm::Engine* engine = engine_of(ctx);
  if (!engine) return err(EINVAL);
  const maps::MapSpec& spec = m->spec();
  const size_t ks = spec.key_size;

  std::vector<uint8_t> keys;
  size_t count = spec.max_entries;
  if (!is_array(spec.type)) {
    count = 0;
    while (count < spec.max_entries) {
      keys.resize((count + 1) * ks);
      const void* prev = count ? keys.data() + (count - 1) * ks : nullptr;
      if (m->get_next_key(prev, keys.data() + count * ks) != 0) break;
      ++count;
    }
  }

  // The callback reads the key through a pointer: a read-only region for the walk.
  std::vector<uint8_t> key(ks < 4 ? 4 : ks);
  const uintptr_t key_addr = reinterpret_cast<uintptr_t>(key.data());
  ctx->regions.push_back(vm::Region{key_addr, ks, false, "for_each key"});
  uint64_t visited = 0;
  for (size_t i = 0; i < count; ++i) {
    if (is_array(spec.type)) {
      const uint32_t k = static_cast<uint32_t>(i);
      std::memcpy(key.data(), &k, 4);
    } else {
      std::memcpy(key.data(), keys.data() + i * ks, ks);
    }
    void* value = m->lookup(key.data());
    if (!value) continue;  // deleted by an earlier callback
    ++visited;
    const uint64_t args[5] = {r1, key_addr, reinterpret_cast<uint64_t>(value), r3, 0};
    Result<uint64_t> r = engine->call_function(*ctx, r2, args);
    if (!r) {
      abort_run(ctx, std::move(r.error()));
      break;
    }
    if (ctx->stop || *r != 0) break;
  }
  for (size_t i = ctx->regions.size(); i-- > 0;)
    if (ctx->regions[i].start == key_addr) {
      ctx->regions.erase(ctx->regions.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  return visited;
}

}  // namespace

void register_control_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_tail_call, tail_call);
  add(reg, BPF_FUNC_loop, loop);
  add(reg, BPF_FUNC_for_each_map_elem, for_each_map_elem);
}

}  // namespace userbpf::helpers::detail
