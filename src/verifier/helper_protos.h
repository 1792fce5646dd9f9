// Helper prototypes as the verifier sees them (the kernel's struct
// bpf_func_proto): the kind of every argument, what the return value is, and
// which program types may call each helper.  Ids and semantics: linux/bpf.h.
#pragma once

#include <cstdint>
#include <string>

namespace userbpf::verifier {

enum class ArgKind : uint8_t {
  None,               // no argument in this position (and none after it)
  Anything,           // any initialised register (ARG_ANYTHING)
  ConstMapPtr,        // a map from lddw (ARG_CONST_MAP_PTR)
  MapKey,             // key_size readable bytes of the map in the ConstMapPtr argument
  MapValue,           // value_size readable bytes of that map (update / push)
  MemRead,            // readable memory; its size is the next argument (ARG_PTR_TO_MEM | MEM_RDONLY)
  MemReadOrNull,      // as MemRead, or NULL with size 0
  MemWrite,           // memory the helper fills; may be uninitialised stack (MEM_UNINIT | MEM_WRITE)
  ConstSize,          // size of the previous memory argument, > 0 (ARG_CONST_SIZE)
  ConstSizeOrZero,    // as ConstSize, 0 allowed (ARG_CONST_SIZE_OR_ZERO)
  Ctx,                // the program's context pointer (ARG_PTR_TO_CTX)
  RingbufMem,         // a record from bpf_ringbuf_reserve; releases it (OBJ_RELEASE)
  ConstAllocSize,     // known constant size of memory the helper returns (ARG_CONST_ALLOC_SIZE_OR_ZERO)
  Func,               // a callback (ARG_PTR_TO_FUNC)
  StackOrNull,        // callback context: stack pointer or NULL (ARG_PTR_TO_STACK_OR_NULL)
  ConstStr,           // NUL-terminated string in a read-only map value (ARG_PTR_TO_CONST_STR)
  PtrToLong,          // 8 writable, aligned bytes (ARG_PTR_TO_LONG; since 6.12 spelled
                      // ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED)
  // Added after the first cut of this header (values above keep their numbers):
  MapValueWrite,      // value_size writable bytes of the map in the ConstMapPtr argument, may be
                      // uninitialised stack: pop/peek (ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE).
                      // No size argument follows; the size is the map's.
  MemReadWrite,       // memory the helper may overwrite but which must already be initialised:
                      // writable, size in the next argument (ARG_PTR_TO_MEM | MEM_WRITE, no MEM_UNINIT;
                      // bpf_fib_lookup's params)
  MemReadWriteOrNull, // as MemReadWrite, or NULL with size 0 (bpf_snprintf's output buffer)
  SpinLock,           // the struct bpf_spin_lock inside a map value (ARG_PTR_TO_SPIN_LOCK); the
                      // map needs BTF that says where the lock is
};

// The memory-pointer kinds whose size is the next argument (ConstSize / ConstSizeOrZero).
constexpr bool is_sized_mem_arg(ArgKind k) {
  return k == ArgKind::MemRead || k == ArgKind::MemReadOrNull || k == ArgKind::MemWrite ||
         k == ArgKind::MemReadWrite || k == ArgKind::MemReadWriteOrNull;
}
// Kinds that accept NULL (with a size of 0 where a size follows).
constexpr bool arg_accepts_null(ArgKind k) {
  return k == ArgKind::MemReadOrNull || k == ArgKind::MemReadWriteOrNull || k == ArgKind::StackOrNull;
}
// Kinds through which the helper writes: the pointed-to memory must be writable.
constexpr bool arg_is_written(ArgKind k) {
  return k == ArgKind::MemWrite || k == ArgKind::MapValueWrite || k == ArgKind::MemReadWrite ||
         k == ArgKind::MemReadWriteOrNull || k == ArgKind::PtrToLong;
}

enum class RetKind : uint8_t {
  Integer,            // RET_INTEGER: an unknown scalar
  Void,               // RET_VOID: r0 unusable afterwards
  MapValueOrNull,     // RET_PTR_TO_MAP_VALUE_OR_NULL, of the map in arg 1
  RingbufMemOrNull,   // RET_PTR_TO_RINGBUF_MEM_OR_NULL, size from the ConstAllocSize argument
};

// What the helper's callback (ArgKind::Func) receives, for bpf_loop and friends.
enum class CallbackKind : uint8_t {
  None,
  Loop,               // bpf_loop: (u64 index, void *ctx)
  ForEachMapElem,     // bpf_for_each_map_elem: (map, key, value, ctx)
};

struct HelperProto {
  int32_t id = 0;
  const char* name = "";      // "bpf_map_lookup_elem"
  RetKind ret = RetKind::Integer;
  ArgKind args[5] = {};
  bool gpl_only = false;
  bool changes_pkt_data = false;  // invalidates packet pointers (adjust_head, skb_pull_data, ...)
  CallbackKind callback = CallbackKind::None;
  // The helper may sleep (copy_from_user): the kernel rejects it in non-sleepable
  // programs with "helper call might sleep in a non-sleepable prog".
  bool might_sleep = false;
};

// The prototype of helper `id`, nullptr when the id is unknown to the verifier.
// A few helpers have per-program-type variants; this is the main one (the tc /
// kprobe form).  The verifier should use the two-argument form below.
const HelperProto* find_helper_proto(int32_t id);

// The prototype of helper `id` as a program of `prog_type` sees it; nullptr when
// such a program may not call it (helper_allowed() is false).  Differs from the
// one-argument form for bpf_get_cgroup_classid (no ctx argument outside tc) and
// bpf_get_stackid (not gpl_only in perf_event programs).
const HelperProto* find_helper_proto(int32_t id, uint32_t prog_type);

// Whether a program of `prog_type` (enum bpf_prog_type) may call helper `id`,
// following the kernel's per-type get_func_proto for a privileged loader
// (CAP_BPF + CAP_PERFMON), as a 6.18 kernel answers.  False as well when `id` has
// no prototype here (the verifier could not check its arguments).  Program types
// without a table of their own get the common bpf_base_func_proto set.
bool helper_allowed(int32_t id, uint32_t prog_type);

// Why a program of `prog_type` may not call helper `id` ("" when it may): unknown
// helper, no prototype here, or the program types that can call it.  For error
// messages; the kernel says "program of this type cannot use helper name#id".
std::string helper_disallowed_reason(int32_t id, uint32_t prog_type);

// Every prototype in the table (for tests).
const HelperProto* all_helper_protos(size_t* count);

}  // namespace userbpf::verifier
