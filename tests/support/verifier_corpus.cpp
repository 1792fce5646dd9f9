// Listing the verifier corpus: program names come from our own object loader
// (the same names libbpf uses), expectations from the names and asm headers.
#include "support/verifier_corpus.h"

#include <linux/bpf.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace userbpf::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_with_suffix(const std::string& dir, std::string_view suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().string().ends_with(suffix)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string sanitize(std::string s) {
  for (char& c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "#! patch SLOT field=value ..." lines: applied after assembling.
struct Patch {
  size_t slot = 0;
  std::string field;
  int64_t value = 0;
};

// "# key: value" header lines of an asm case.
struct AsmHeader {
  std::string prog_type;
  std::string expect;
  std::vector<Patch> patches;
  std::string error;
};

void parse_patch(std::string_view s, AsmHeader& h) {
  std::istringstream in{std::string(s)};
  std::string word;
  size_t slot = 0;
  if (!(in >> word) || word != "patch" || !(in >> slot)) {
    h.error = "bad patch line '" + std::string(s) + "'";
    return;
  }
  while (in >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) {
      h.error = "bad patch field '" + word + "'";
      return;
    }
    try {
      h.patches.push_back({slot, word.substr(0, eq), std::stoll(word.substr(eq + 1), nullptr, 0)});
    } catch (const std::exception&) {
      h.error = "bad patch value '" + word + "'";
      return;
    }
  }
}

AsmHeader parse_header(const std::string& text) {
  AsmHeader h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view s = trim(line);
    if (!s.starts_with('#')) continue;
    if (s.starts_with("#!")) {
      parse_patch(trim(s.substr(2)), h);
      continue;
    }
    s = trim(s.substr(1));
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(s.substr(0, colon));
    const std::string value(trim(s.substr(colon + 1)));
    if (key == "prog_type") h.prog_type = value;
    if (key == "expect") h.expect = value;
  }
  return h;
}

std::string section_for(uint32_t prog_type) {
  switch (prog_type) {
    case BPF_PROG_TYPE_XDP: return "xdp";
    case BPF_PROG_TYPE_SOCKET_FILTER: return "socket";
    case BPF_PROG_TYPE_SCHED_CLS: return "tc";
    case BPF_PROG_TYPE_KPROBE: return "kprobe";
    default: return "";
  }
}

}  // namespace

std::string CorpusCase::label() const {
  const std::string stem = is_asm ? "asm" : fs::path(path).filename().string();
  // "packet.bpf.o" -> "packet"
  const std::string object = is_asm ? stem : stem.substr(0, stem.find('.'));
  return sanitize(object + "_" + program);
}

void PrintTo(const CorpusCase& c, std::ostream* os) {
  *os << fs::path(c.path).filename().string();
  if (!c.is_asm) *os << " " << c.program;
}

Result<bool> expected_verdict_from_name(const std::string& name) {
  if (name.starts_with("accept_")) return true;
  if (name.starts_with("reject_")) return false;
  return make_error(ErrorKind::InvalidArgument, "corpus program '" + name + "' is named neither accept_... nor reject_...");
}

Result<uint32_t> asm_prog_type(const std::string& word) {
  if (word == "xdp") return static_cast<uint32_t>(BPF_PROG_TYPE_XDP);
  if (word == "socket_filter") return static_cast<uint32_t>(BPF_PROG_TYPE_SOCKET_FILTER);
  if (word == "sched_cls") return static_cast<uint32_t>(BPF_PROG_TYPE_SCHED_CLS);
  if (word == "kprobe") return static_cast<uint32_t>(BPF_PROG_TYPE_KPROBE);
  return make_error(ErrorKind::InvalidArgument, "unknown prog_type '" + word + "'");
}

std::vector<CorpusCase> verifier_corpus_c(const std::string& dir) {
  std::vector<CorpusCase> out;
  const auto objects = files_with_suffix(dir, ".bpf.o");
  if (objects.empty()) {
    CorpusCase c;
    c.path = dir;
    c.program = "none";
    c.error = "no .bpf.o objects in " + dir;
    out.push_back(c);
  }
  for (const auto& obj_path : objects) {
    auto obj = loader::load_object(obj_path.string());
    if (!obj) {
      CorpusCase c;
      c.path = obj_path.string();
      c.program = "load_object";
      c.error = obj.error().str();
      out.push_back(c);
      continue;
    }
    for (const loader::ProgramSpec& p : obj->programs) {
      CorpusCase c;
      c.path = obj_path.string();
      c.program = p.name;
      c.prog_type = p.prog_type;
      auto expect = expected_verdict_from_name(p.name);
      if (expect)
        c.expect_accept = *expect;
      else
        c.error = expect.error().str();
      out.push_back(c);
    }
  }
  return out;
}

std::vector<CorpusCase> verifier_corpus_asm(const std::string& dir) {
  std::vector<CorpusCase> out;
  const auto files = files_with_suffix(dir, ".s");
  if (files.empty()) {
    CorpusCase c;
    c.is_asm = true;
    c.path = dir;
    c.program = "none";
    c.error = "no .s files in " + dir;
    out.push_back(c);
  }
  for (const auto& f : files) {
    CorpusCase c;
    c.is_asm = true;
    c.path = f.string();
    c.program = f.stem().string();
    auto prog = load_asm_case(c.path);
    if (prog) {
      c.expect_accept = prog->expect_accept;
      c.prog_type = prog->prog_type;
      // The file name carries the verdict too; the two must agree.
      auto by_name = expected_verdict_from_name(c.program);
      if (!by_name)
        c.error = by_name.error().str();
      else if (*by_name != c.expect_accept)
        c.error = "file name and '# expect:' header disagree";
    } else {
      c.error = prog.error().str();
    }
    out.push_back(c);
  }
  return out;
}

Result<AsmProgram> load_asm_case(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::Io, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const AsmHeader h = parse_header(text);
  AsmProgram p;
  auto type = asm_prog_type(h.prog_type);
  if (!type) return make_error(ErrorKind::Malformed, path + ": '# prog_type:' header: " + type.error().message);
  p.prog_type = *type;
  if (h.expect == "accept")
    p.expect_accept = true;
  else if (h.expect != "reject")
    return make_error(ErrorKind::Malformed, path + ": '# expect:' header must be accept or reject, not '" + h.expect + "'");
  if (!h.error.empty()) return make_error(ErrorKind::Malformed, path + ": " + h.error);
  auto insns = isa::assemble(text);
  if (!insns) return make_error(ErrorKind::Malformed, path + ": " + insns.error().str());
  p.insns = std::move(insns.value());
  for (const Patch& patch : h.patches) {
    if (patch.slot >= p.insns.size()) return make_error(ErrorKind::Malformed, path + ": patch of a slot past the end");
    isa::Insn& in = p.insns[patch.slot];
    if (patch.field == "opcode")
      in.opcode = static_cast<uint8_t>(patch.value);
    else if (patch.field == "dst")
      in.dst = static_cast<uint8_t>(patch.value & 0xf);
    else if (patch.field == "src")
      in.src = static_cast<uint8_t>(patch.value & 0xf);
    else if (patch.field == "off")
      in.off = static_cast<int16_t>(patch.value);
    else if (patch.field == "imm")
      in.imm = static_cast<int32_t>(patch.value);
    else
      return make_error(ErrorKind::Malformed, path + ": unknown patch field '" + patch.field + "'");
  }
  p.spec.name = fs::path(path).stem().string();
  p.spec.section = section_for(p.prog_type);
  p.spec.prog_type = p.prog_type;
  p.spec.insns = p.insns;
  loader::FunctionSpan fn;
  fn.name = p.spec.name;
  fn.section = p.spec.section;
  fn.num_insns = p.insns.size();
  p.spec.functions.push_back(fn);
  return p;
}

}  // namespace userbpf::testing
