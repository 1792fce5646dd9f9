// SharedBlock (memfd + MAP_SHARED mapping), the CPU count per-CPU maps use, and
// small helpers shared by the map implementations.
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "maps/map_types.h"

namespace userbpf::maps {
namespace {

size_t page_round(size_t n) {
  const long page = sysconf(_SC_PAGESIZE);
  const size_t p = page > 0 ? static_cast<size_t>(page) : 4096;
  return (n + p - 1) / p * p;
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

}  // namespace

Result<SharedBlock> SharedBlock::create(size_t size, const std::string& name) {
  if (size == 0) size = 1;
  const size_t len = page_round(size);
  // One cap for every map family: blocks are populated at creation, so a hostile
  // spec must not be able to commit the machine's memory.
  if (len < size || len > kMaxMapBlock)
    return make_error(ErrorKind::InvalidArgument, "map '" + name + "' needs " + std::to_string(size) +
                                                      " bytes, more than the " + std::to_string(kMaxMapBlock >> 20) +
                                                      " MiB a map may use (E2BIG)");
  // memfd names show up in /proc/PID/fd, handy when inspecting a probed process;
  // the kernel limits them to 249 bytes.
  std::string memfd_name = ("userbpf-map:" + name).substr(0, 240);
  int fd = memfd_create(memfd_name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return make_error(ErrorKind::Io, "memfd_create: " + errno_text(errno));
  if (ftruncate(fd, static_cast<off_t>(len)) != 0) {
    const int err = errno;
    close(fd);
    return make_error(ErrorKind::Io, "ftruncate of map block to " + std::to_string(len) + " bytes: " + errno_text(err));
  }
  // Populated up front, as the kernel preallocates map memory: the first program
  // run must not pay a page fault per touched page.
  return map_owned_fd(fd, len, MAP_POPULATE, "map block (" + std::to_string(len) + " bytes)");
}

Result<SharedBlock> SharedBlock::map_owned_fd(int fd, size_t len, int extra_flags, const std::string& what) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | extra_flags, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return make_error(ErrorKind::Io, "mmap of " + what + ": " + errno_text(err));
  }
  SharedBlock b;
  b.base_ = static_cast<uint8_t*>(p);
  b.size_ = len;
  b.fd_ = fd;
  return b;
}

Result<SharedBlock> SharedBlock::attach(int fd) {
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return make_error(ErrorKind::InvalidArgument, "map fd " + std::to_string(fd) + " is not valid");
  if (st.st_size <= 0) return make_error(ErrorKind::InvalidArgument, "map fd " + std::to_string(fd) + " has an empty block");
  const int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return make_error(ErrorKind::Io, "dup of map fd: " + errno_text(errno));
  return map_owned_fd(own, static_cast<size_t>(st.st_size), 0, "map fd " + std::to_string(fd));
}

SharedBlock::SharedBlock(SharedBlock&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)), fd_(std::exchange(o.fd_, -1)) {}

SharedBlock& SharedBlock::operator=(SharedBlock&& o) noexcept {
  if (this != &o) {
    SharedBlock old(std::move(*this));  // releases our old mapping at scope end
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

SharedBlock::~SharedBlock() {
  if (base_) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

int num_possible_cpus() {
  static const int n = [] {
    int c = libbpf_num_possible_cpus();
    if (c <= 0) {
      const long conf = sysconf(_SC_NPROCESSORS_CONF);
      c = conf > 0 ? static_cast<int>(conf) : 1;
    }
    return c;
  }();
  return n;
}

int current_cpu() {
  const int c = sched_getcpu();
  if (c < 0) return 0;
  const int n = num_possible_cpus();
  return c < n ? c : c % n;
}

bool is_percpu_map_type(uint32_t type) {
  switch (static_cast<MapType>(type)) {
    case MapType::PercpuArray:
    case MapType::PercpuHash:
    case MapType::LruPercpuHash: return true;
    default: return false;
  }
}

Error map_error(const MapSpec& spec, const std::string& reason, ErrorKind kind) {
  return make_error(kind, "map '" + spec.name + "': " + reason);
}

bool map_flags_access_ok(uint32_t map_flags) {
  if ((map_flags & BPF_F_RDONLY_PROG) && (map_flags & BPF_F_WRONLY_PROG)) return false;
  if ((map_flags & BPF_F_RDONLY) && (map_flags & BPF_F_WRONLY)) return false;
  return true;
}

uint64_t map_hash(const void* data, size_t len, uint64_t seed) {
  // FNV-1a over 8-byte words then a murmur-style finaliser: cheap, and the
  // finaliser spreads the low bits that bucket selection uses.
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 0xcbf29ce484222325ull ^ (seed * 0x9e3779b97f4a7c15ull);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < len; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= len;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

void init_map_header(MapHeader* h, const MapSpec& spec) {
  h->magic = kMapMagic;
  h->type = spec.type;
  h->key_size = spec.key_size;
  h->value_size = spec.value_size;
  h->max_entries = spec.max_entries;
  h->map_flags = spec.map_flags;
  h->ncpus = static_cast<uint32_t>(num_possible_cpus());
  h->reserved = 0;
}

Status check_map_header(const SharedBlock& block, const MapSpec& spec, size_t min_size) {
  if (block.size() < sizeof(MapHeader) || block.size() < min_size)
    return map_error(spec, "shared block is smaller than the map needs");
  const auto* h = block.at<const MapHeader>(0);
  if (h->magic != kMapMagic) return map_error(spec, "shared block does not hold a userbpf map");
  if (h->type != spec.type || h->key_size != spec.key_size || h->value_size != spec.value_size ||
      h->max_entries != spec.max_entries)
    return map_error(spec, "shared block holds a map of another type or size");
  if (h->ncpus != static_cast<uint32_t>(num_possible_cpus()))
    return map_error(spec, "shared block was made for another number of CPUs");
  return ok_status();
}

}  // namespace userbpf::maps
