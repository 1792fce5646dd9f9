// The verifier's abstract state: what is known of every register and stack byte
// of every call frame on one path (the kernel's bpf_reg_state, bpf_func_state and
// bpf_verifier_state).  Value types: copied when paths fork, compared when paths
// join (state pruning).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "verifier/scalar.h"

namespace userbpf::verifier {

// Register kinds (enum bpf_reg_type, the ones userbpf programs can hold).
enum class RegType : uint8_t {
  NotInit,     // never written on this path: reading it is an error
  Scalar,      // a number (Reg::var holds what is known of it)
  Ctx,         // the program's context
  ConstMapPtr, // a map (lddw map), or an inner map from a map-in-map lookup
  MapValue,    // inside a map value (maybe NULL when maybe_null)
  MapKey,      // a key handed to a for_each_map_elem callback (read-only)
  Stack,       // inside a frame's stack
  PacketMeta,  // xdp data_meta
  Packet,      // packet data
  PacketEnd,   // data_end: only for comparisons
  Mem,         // memory of known size: a ringbuf record (maybe NULL when maybe_null)
  Func,        // a callback (lddw src=FUNC)
};
const char* reg_type_name(RegType t, bool maybe_null);

struct Reg {
  RegType type = RegType::NotInit;
  bool maybe_null = false;
  bool rdonly = false;    // memory the program may not write (.rodata values, map keys)
  bool inner_map = false; // ConstMapPtr out of a map-in-map: `map` is only its template
  int32_t off = 0;        // pointers: fixed offset
  Scalar var;             // scalars: the value; pointers: the variable offset
  uint32_t id = 0;        // NULL-check group, packet-range group, linked scalars
  uint32_t ref_id = 0;    // acquired reference (ringbuf record) this pointer belongs to
  uint32_t range = 0;     // packet: bytes from the group's base known to be in the packet
  int32_t map = -1;       // ConstMapPtr / MapValue / MapKey: index into the object's maps
  uint32_t mem_size = 0;  // Mem: bytes
  uint8_t frame = 0;      // Stack: frame number
  int32_t subprog = -1;   // Func: first instruction of the callback
  bool linked_add = false;  // scalar: linked to others of `id` plus the constant `off`
  // Scalars in kept states only: some path below relied on the exact value
  // (precision tracking).  An imprecise scalar of a kept state matches any scalar.
  bool precise = false;

  bool is_pointer() const { return type != RegType::NotInit && type != RegType::Scalar; }
  bool is_scalar() const { return type == RegType::Scalar; }
  bool is_pkt() const { return type == RegType::Packet || type == RegType::PacketMeta; }
  bool is_const() const { return is_scalar() && var.is_const(); }
  bool is_null_const() const { return is_const() && var.const_value() == 0; }
  static Reg scalar(const Scalar& s) {
    Reg r;
    r.type = RegType::Scalar;
    r.var = s;
    return r;
  }
  static Reg unknown() { return scalar(Scalar::unknown()); }
  static Reg constant(uint64_t v) { return scalar(Scalar::constant(v)); }
  // Pointer of `t` at fixed offset `off`, no variable part.
  static Reg pointer(RegType t, int32_t off = 0) {
    Reg r;
    r.type = t;
    r.off = off;
    r.var = Scalar::constant(0);
    return r;
  }
  bool operator==(const Reg&) const = default;
};

// One byte of a stack slot (the kernel's STACK_INVALID / MISC / ZERO / SPILL).
enum class SlotByte : uint8_t { Invalid, Misc, Zero, Spill };

// Eight bytes of stack: fp-8*(i+1) .. fp-8*i.
struct StackSlot {
  std::array<SlotByte, 8> bytes{};  // bytes[k] is fp-8*(i+1)+k
  Reg spilled;                      // valid when is_spill(): a register stored whole or, for
                                    // scalars, its low spill_size() bytes (bytes[0..size) Spill)
  bool is_spill() const { return bytes[0] == SlotByte::Spill; }
  // A spill partly overwritten is no longer a register: its bytes become numbers.
  void scrub_spill() {
    if (!is_spill()) return;
    for (auto& b : bytes)
      if (b == SlotByte::Spill) b = SlotByte::Misc;
  }
  int spill_size() const {
    int n = 0;
    while (n < 8 && bytes[static_cast<size_t>(n)] == SlotByte::Spill) ++n;
    return n;
  }
  bool operator==(const StackSlot&) const = default;
};

// The slot holding frame offset `off` (negative) and the byte of it.
inline size_t stack_slot_of(int64_t off) { return static_cast<size_t>((-off - 1) / 8); }
inline size_t stack_byte_of(int64_t off) { return static_cast<size_t>(off + 8 * (static_cast<int64_t>(stack_slot_of(off)) + 1)); }

struct Frame {
  std::array<Reg, isa::kNumRegs> regs{};
  std::vector<StackSlot> stack;  // grows as the frame's stack is used
  int32_t callsite = -1;         // caller's call instruction; -1 in the main frame
  int32_t subprog = 0;           // first instruction of this function
  bool in_callback = false;      // a bpf_loop / for_each_map_elem callback body
  uint32_t stack_depth = 0;      // deepest byte used (for the combined stack check)

  StackSlot& slot(size_t i) {
    if (i >= stack.size()) stack.resize(i + 1);
    return stack[i];
  }
  const StackSlot* slot_if(size_t i) const { return i < stack.size() ? &stack[i] : nullptr; }
};

// A reference the program holds and must release (a ringbuf record).
struct RefState {
  uint32_t id = 0;
  int32_t insn = 0;  // where it was acquired
  bool operator==(const RefState&) const = default;
};

struct State {
  std::vector<Frame> frames;   // [0] main program, back() current
  std::vector<RefState> refs;  // acquired, not yet released
  int32_t pc = 0;

  Frame& cur() { return frames.back(); }
  const Frame& cur() const { return frames.back(); }
  Reg& reg(int r) { return frames.back().regs[r]; }
  const Reg& reg(int r) const { return frames.back().regs[r]; }
  // Calls f(Reg&) for every register and spilled register of every frame.
  template <typename F>
  void for_each_reg(F&& f) {
    for (auto& fr : frames) {
      for (auto& r : fr.regs) f(r);
      for (auto& s : fr.stack)
        if (s.is_spill()) f(s.spilled);
    }
  }
};

// Kernel-log style text: "scalar(umax=255,var_off=(0x0; 0xff))", "map_value(map=counts,off=4)", ...
std::string reg_str(const Reg& r, const std::vector<std::string>* map_names = nullptr);
// "R1=ctx() R2=scalar(...) fp-8=map_value(...)" for the current frame (live registers only when
// `regs_mask` is given, one bit per register).
std::string frame_str(const Frame& f, uint32_t regs_mask = 0x7ff, const std::vector<std::string>* map_names = nullptr,
                      bool with_stack = true);

// State pruning: every value `cur` may hold is one `old` was proven safe with.
// `live_regs` masks the current frame's registers that are read before written
// from this instruction on; dead ones are not compared.
// With `exact`, every scalar is compared; otherwise only the precise ones of `old`.
bool state_subsumes(const State& old, const State& cur, uint32_t live_regs, bool exact = false);
// Same state, up to renaming of ids (infinite-loop detection).
bool state_equal(const State& a, const State& b);
// A hash of what state_equal compares exactly (not ids): equal states have equal
// fingerprints, so most comparisons end on one number.
uint64_t state_fingerprint(const State& s);

}  // namespace userbpf::verifier
