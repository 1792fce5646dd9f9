// Context access rewriting, as the kernel's convert_ctx_accesses does: programs
// read struct xdp_md / struct __sk_buff (uapi layouts, 32-bit data pointers)
// through r1 and its copies; at run time r1 points to the kernel-side structs of
// packet_ctx.h, so each such load or store is turned into an access of the real
// field (ctx_layout.h decides which are allowed and where they go).
//
// Which register holds the context at each instruction comes from CtxFacts: a
// small forward dataflow analysis computes them now (analyze_ctx_pointers); the
// verifier can supply its own later.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/result.h"

namespace userbpf::hooks {

// What the base register of a memory instruction holds.
struct CtxFact {
  enum class Kind : uint8_t {
    NotCtx,     // never the context (or not a memory instruction / unreachable)
    Ctx,        // the context plus `off` on every path
    Ambiguous,  // the context on some paths only, or derived from it in a way the
                // kernel refuses (32-bit copy, arithmetic other than +/- constant)
  };
  Kind kind = Kind::NotCtx;
  int32_t off = 0;
};

// Forward dataflow over the CFG (bpf-to-bpf calls included) tracking the context
// pointer through registers and 8-byte stack spills.  r1 at entry is the
// context; a subprogram's argument is the context when every call site passes
// it.  One fact per instruction slot.  Malformed programs (bad jump targets) are
// errors.
Result<std::vector<CtxFact>> analyze_ctx_pointers(std::span<const isa::Insn> prog);

// Rewrites every context access of a `prog_type` program (XDP, tc, socket
// filter; other types are returned unchanged).  Accesses the kernel refuses are
// ErrorKind::Rejected with the instruction index set.  Rewrites are one for one,
// except queue_mapping stores, which grow by one instruction (jumps, calls and
// callback references are re-targeted).  `new_index`, when given, receives the
// new index of every old slot (plus one entry for the end).
Result<std::vector<isa::Insn>> rewrite_ctx_accesses(uint32_t prog_type, std::span<const isa::Insn> prog,
                                                    std::span<const CtxFact> facts,
                                                    std::vector<size_t>* new_index = nullptr);
// Same, with facts from analyze_ctx_pointers.
Result<std::vector<isa::Insn>> rewrite_ctx_accesses(uint32_t prog_type, std::span<const isa::Insn> prog);

}  // namespace userbpf::hooks
