// Loader: turns what clang writes for `-target bpf` (relocatable ELF objects) into
// instruction sequences the rest of the pipeline consumes.  read_elf() is the raw
// view (code sections as stored); load_object() is the full object loader: programs
// by SEC() name with bpf-to-bpf subprograms linked in, map descriptions (BTF-defined,
// legacy and global data), map references resolved to map indexes, BTF and source
// line info.  Nothing is created here: a runtime instantiates the maps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/maps.h"
#include "userbpf/result.h"

struct btf;  // libbpf's BTF handle (<bpf/btf.h>)

namespace userbpf::loader {

// An STT_FUNC symbol: a program entry (global, in a SEC() section) or a
// bpf-to-bpf subprogram (usually static, in .text).
struct FuncSymbol {
  std::string name;
  uint64_t offset = 0;  // bytes from the start of its section (multiple of 8)
  uint64_t size = 0;    // bytes (multiple of 8; 0 when the compiler left it unknown)
  bool global = false;  // STB_GLOBAL / STB_WEAK rather than STB_LOCAL

  size_t first_insn() const { return static_cast<size_t>(offset / sizeof(isa::Insn)); }
  size_t num_insns() const { return static_cast<size_t>(size / sizeof(isa::Insn)); }
};

// A non-empty SHT_PROGBITS section with SHF_EXECINSTR: "xdp", "tc", ".text", "kprobe/...".
struct CodeSection {
  std::string name;
  size_t index = 0;               // ELF section header index (what relocations refer to)
  std::vector<isa::Insn> insns;   // as stored, relocations not applied
  std::vector<FuncSymbol> functions;  // sorted by offset
};

struct ElfObject {
  std::vector<CodeSection> sections;  // in section header order
  std::string license;                // contents of the "license" section, "" when absent

  const CodeSection* find_section(std::string_view name) const;
};

// Reads a relocatable eBPF object (ELF64, little-endian, EM_BPF, ET_REL).
// Anything else, or any inconsistency, is ErrorKind::Malformed (Io for unreadable files).
Result<ElfObject> read_elf(const std::string& path);
Result<ElfObject> read_elf(std::span<const uint8_t> bytes);

// Whole file contents; ErrorKind::Io when it cannot be read.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path);

// True when the bytes start with the ELF magic (\x7fELF).
bool is_elf(std::span<const uint8_t> bytes);

// What tools such as `userbpf disasm FILE` accept: an ELF object (detected by its
// magic) or raw bytecode, i.e. a flat array of 8-byte instruction slots.
struct CodeFile {
  bool is_elf = false;
  ElfObject elf;                 // when is_elf
  std::vector<isa::Insn> insns;  // raw bytecode otherwise
};
Result<CodeFile> read_code_file(const std::string& path);

// ---- the object loader ----------------------------------------------------------

// Where an instruction came from, per the .BTF.ext line info.
struct SourceLine {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string text;  // the source line itself, as clang recorded it
  std::string str() const;  // "file:line: text"
};

// One function laid out in a program's final instruction array.
// An argument of a global function, from its BTF prototype: what the kernel's
// verifier assumes about it when it checks the function on its own.
struct FuncArg {
  enum class Kind : uint8_t {
    Scalar,      // an integer or enum
    Ctx,         // a pointer to the program's context struct
    Mem,         // a pointer to `size` bytes, possibly NULL
    Unsupported, // anything else (void *, structs by value ...): the kernel refuses it
  };
  Kind kind = Kind::Scalar;
  uint32_t size = 0;
  std::string type_name;  // for messages
};

struct FunctionSpan {
  std::string name;
  std::string section;  // where it came from
  size_t first_insn = 0;
  size_t num_insns = 0;
  // A global (non-static) subprogram: the kernel verifies it once on its own,
  // with arguments described by its BTF prototype, not at each call.
  bool global = false;
  bool has_btf = false;           // `args` come from BTF
  std::vector<FuncArg> args;
};

// A program: one function symbol in a SEC() code section, with every subprogram it
// reaches appended after its own instructions (once each, depth first in call
// order, as libbpf lays them out).
//
// Map references are resolved against ObjectSpec::maps (the convention the runtime
// relies on):
//   lddw src=pseudo::MAP_FD    (1): insn[0].imm = map index, insn[1].imm = 0
//   lddw src=pseudo::MAP_VALUE (2): insn[0].imm = map index, insn[1].imm = byte offset
//                                    into the value (global variables)
//   lddw src=pseudo::FUNC      (4): insn[0].imm = callee start - pc - 1 (callbacks)
//   call src=pseudo::CALL_LOCAL(1): imm = callee start - pc - 1
// A runtime replaces the map index by its own handle (fd) before running.
struct ProgramSpec {
  std::string name;     // the function symbol
  std::string section;  // the SEC() name
  uint32_t prog_type = 0;             // enum bpf_prog_type
  uint32_t expected_attach_type = 0;  // enum bpf_attach_type (0 when the type has none)
  uint32_t prog_flags = 0;            // BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS
  std::string attach_target;          // what follows "kprobe/", "tp/", "fentry/", ...
  std::vector<isa::Insn> insns;       // final: linked and relocated
  std::vector<FunctionSpan> functions;  // [0] is the program itself
  std::vector<uint32_t> map_refs;       // indexes into ObjectSpec::maps it uses, sorted
  // Line info by final instruction index, sorted (each entry holds until the next
  // one or the end of its function).
  std::vector<std::pair<size_t, SourceLine>> lines;

  std::optional<SourceLine> line_for(size_t insn) const;
};

// Static initialisation of a map-in-map or prog_array slot (`.values = {...}`).
struct SlotInit {
  uint32_t slot = 0;
  std::string target;         // symbol name of the map or program
  int32_t map_index = -1;     // map-in-map: index into ObjectSpec::maps
  int32_t program_index = -1; // prog_array: index into ObjectSpec::programs
};

struct MapDef {
  maps::MapSpec spec;  // inner_map_index / inner refer to ObjectSpec::maps
  std::string section;                // ".maps", "maps", ".data", ".rodata.str1.1", ...
  std::vector<uint8_t> initial_data;  // global data: the section image (.bss: zeros)
  bool is_global_data = false;
  bool is_inner_template = false;     // map-in-map template, not a map of its own
  std::vector<SlotInit> initial_slots;
};

struct ObjectSpec {
  std::string name;  // object name (file name up to its first '.')
  std::vector<ProgramSpec> programs;
  std::vector<MapDef> maps;
  std::string license;
  uint32_t kern_version = 0;  // the "version" section, 0 when absent
  std::shared_ptr<struct ::btf> btf;  // nullptr when the object has no .BTF
  std::vector<std::string> warnings;  // skipped sections and functions, with why

  const ProgramSpec* find_program(std::string_view name) const;
  const MapDef* find_map(std::string_view name) const;
  int map_index(std::string_view name) const;  // -1 when absent
};

// Loads a clang-compiled eBPF object (clang 14+, any -mcpu).  A malformed object is
// ErrorKind::Malformed, a valid one using what is not implemented (externs, kfuncs,
// CO-RE relocations in a program) ErrorKind::Unsupported; messages name the
// section or symbol.  `name` is the object name used for global data map names.
Result<ObjectSpec> load_object(const std::string& path);
Result<ObjectSpec> load_object(std::span<const uint8_t> bytes, std::string_view name = "obj");

// The program type for a SEC() name, as libbpf's section table gives it.
struct ProgTypeInfo {
  uint32_t prog_type = 0;
  uint32_t expected_attach_type = 0;
  uint32_t prog_flags = 0;
  std::string attach_target;
};
std::optional<ProgTypeInfo> prog_type_for_section(std::string_view section);

}  // namespace userbpf::loader
