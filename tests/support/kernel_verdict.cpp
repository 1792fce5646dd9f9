// Kernel verdicts through libbpf (objects) and bpf() (raw instructions).  libbpf
// is used for objects because it is what users load them with: its relocation,
// map creation and program layout are the reference the corpus names are checked
// against.
#include "support/kernel_verdict.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "support/kernel_bpf.h"

namespace userbpf::testing {
namespace {

constexpr uint32_t kStatsLevel = 4;  // BPF_LOG_STATS
constexpr uint32_t kTraceLevel = 1 | kStatsLevel;
constexpr size_t kStatsLogSize = 1u << 20;

// libbpf's warnings (map creation, relocation) while one load runs: they explain
// a failure that is not the verifier's.  Tests are single-threaded, and the
// previous print function is restored after every load.
std::string* g_libbpf_messages = nullptr;

int collect_libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG || g_libbpf_messages == nullptr) return 0;
  char line[1024];
  const int n = std::vsnprintf(line, sizeof line, fmt, args);
  // libbpf repeats the verifier log we already hold; keep only its own words.
  if (n > 0 && std::strstr(line, "PROG LOAD LOG") == nullptr) *g_libbpf_messages += line;
  return 0;
}

class LibbpfMessages {
 public:
  LibbpfMessages() : previous_(libbpf_set_print(collect_libbpf_print)) { g_libbpf_messages = &text_; }
  ~LibbpfMessages() {
    g_libbpf_messages = nullptr;
    libbpf_set_print(previous_);
  }
  LibbpfMessages(const LibbpfMessages&) = delete;
  LibbpfMessages& operator=(const LibbpfMessages&) = delete;
  const std::string& text() const { return text_; }

 private:
  libbpf_print_fn_t previous_;
  std::string text_;
};

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};

struct ObjectLoad {
  bool opened = false;
  bool found = false;
  bool loaded = false;
  int err = 0;
  std::string log;
  std::string libbpf;
};

// One fresh open + load of `prog_name` alone, at the given log level.
ObjectLoad load_one(const std::string& path, const std::string& prog_name, uint32_t log_level, size_t log_size) {
  ObjectLoad r;
  LibbpfMessages messages;
  std::unique_ptr<bpf_object, ObjectCloser> obj(bpf_object__open_file(path.c_str(), nullptr));
  if (!obj) {
    r.libbpf = messages.text();
    return r;
  }
  r.opened = true;
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, obj.get()) bpf_map__set_pin_path(m, nullptr);  // never touch /sys/fs/bpf
  std::vector<char> buf(log_size, '\0');
  bpf_program* p = nullptr;
  bpf_object__for_each_program(p, obj.get()) {
    const bool target = prog_name == bpf_program__name(p);
    bpf_program__set_autoload(p, target);
    if (!target) continue;
    r.found = true;
    bpf_program__set_log_level(p, log_level);
    bpf_program__set_log_buf(p, buf.data(), buf.size());
  }
  if (!r.found) return r;
  const int rc = bpf_object__load(obj.get());
  r.loaded = rc == 0;
  r.err = rc < 0 ? -rc : 0;
  r.log.assign(buf.data(), strnlen(buf.data(), buf.size()));
  r.libbpf = messages.text();
  return r;
}

void fill_stats(KernelVerdict& v) {
  v.verification_time_us = log_verification_time_us(v.log);
  v.processed_insns = log_processed_insns(v.log);
}

// A program refused for complexity has a million-instruction failing path: its
// trace costs seconds and says nothing the statistics do not.
bool want_trace(const KernelVerdict& v, const KernelVerdictOptions& opts) {
  return !v.loaded && opts.trace_on_reject && v.log.find("BPF program is too large") == std::string::npos;
}

uint64_t number_after(const std::string& log, const std::string& prefix) {
  const size_t at = log.rfind(prefix);
  if (at == std::string::npos) return 0;
  uint64_t n = 0;
  for (size_t i = at + prefix.size(); i < log.size() && log[i] >= '0' && log[i] <= '9'; ++i)
    n = n * 10 + static_cast<uint64_t>(log[i] - '0');
  return n;
}

}  // namespace

uint64_t log_verification_time_us(const std::string& log) { return number_after(log, "verification time "); }
uint64_t log_processed_insns(const std::string& log) { return number_after(log, "processed "); }

std::string log_tail(const std::string& log, size_t lines) {
  size_t pos = log.size();
  // Skip the trailing newline so it does not count as an empty last line.
  if (pos > 0 && log[pos - 1] == '\n') --pos;
  for (size_t n = 0; n < lines && pos > 0; ++n) {
    const size_t nl = log.rfind('\n', pos - 1);
    if (nl == std::string::npos) return log;
    pos = nl;
  }
  return pos == 0 ? log : log.substr(pos + 1);
}

KernelVerdict kernel_verify_object(const std::string& obj_path, const std::string& prog_name,
                                   const KernelVerdictOptions& opts) {
  KernelVerdict v;
  if (!kernel_bpf_available()) {
    v.log = kernel_bpf_unavailable_reason();
    return v;
  }
  ObjectLoad first = load_one(obj_path, prog_name, kStatsLevel, kStatsLogSize);
  if (!first.opened || !first.found) {
    v.log = !first.opened ? "libbpf cannot open " + obj_path + "\n" + first.libbpf
                          : "no program " + prog_name + " in " + obj_path;
    return v;
  }
  v.available = true;
  v.loaded = first.loaded;
  v.err = first.err;
  v.log = first.log;
  fill_stats(v);
  if (want_trace(v, opts)) {
    const ObjectLoad trace = load_one(obj_path, prog_name, kTraceLevel, opts.trace_log_size);
    v.log += "\n--- level 1 trace ---\n" + trace.log;
  }
  if (!first.libbpf.empty()) v.log += "\n" + first.libbpf;
  return v;
}

KernelVerdict kernel_verify_insns(std::span<const isa::Insn> insns, uint32_t prog_type,
                                  const KernelVerdictOptions& opts) {
  KernelVerdict v;
  if (!kernel_bpf_available()) {
    v.log = kernel_bpf_unavailable_reason();
    return v;
  }
  KernelLoadOptions lo;
  lo.uapi_type = prog_type;
  lo.log_level = kStatsLevel;
  lo.log_size = kStatsLogSize;
  const KernelProgram first = KernelProgram::load(insns, lo);
  v.available = true;
  v.loaded = first.loaded();
  v.err = first.err();
  v.log = first.verifier_log();
  fill_stats(v);
  if (want_trace(v, opts)) {
    lo.log_level = kTraceLevel;
    lo.log_size = opts.trace_log_size;
    const KernelProgram trace = KernelProgram::load(insns, lo);
    v.log += "\n--- level 1 trace ---\n" + trace.verifier_log();
  }
  return v;
}

}  // namespace userbpf::testing
