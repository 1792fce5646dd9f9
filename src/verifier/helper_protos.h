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
  PtrToLong,          // 8 writable, aligned bytes (ARG_PTR_TO_LONG)
};

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
};

// The prototype of helper `id`, nullptr when the id is unknown to the verifier.
const HelperProto* find_helper_proto(int32_t id);

// Whether a program of `prog_type` (enum bpf_prog_type) may call helper `id`,
// following the kernel's per-type get_func_proto for a privileged loader
// (CAP_BPF + CAP_PERFMON).
bool helper_allowed(int32_t id, uint32_t prog_type);

// Every prototype in the table (for tests).
const HelperProto* all_helper_protos(size_t* count);

}  // namespace userbpf::verifier
