// Helper lookup by id: a dense index so a call costs one array load.
#include "userbpf/vm.h"

namespace userbpf::vm {

void HelperRegistry::add(int32_t id, std::string name, HelperFn fn) {
  if (id < 0 || id >= isa::kMaxHelperId) return;
  if (static_cast<size_t>(id) >= index_.size()) index_.resize(static_cast<size_t>(id) + 1, -1);
  if (index_[static_cast<size_t>(id)] >= 0) {
    helpers_[static_cast<size_t>(index_[static_cast<size_t>(id)])] = HelperInfo{id, std::move(name), fn, nullptr};
    return;
  }
  index_[static_cast<size_t>(id)] = static_cast<int32_t>(helpers_.size());
  helpers_.push_back(HelperInfo{id, std::move(name), fn, nullptr});
}

void HelperRegistry::set_trusted(int32_t id, HelperFn fn) {
  if (id < 0 || static_cast<size_t>(id) >= index_.size() || index_[static_cast<size_t>(id)] < 0) return;
  helpers_[static_cast<size_t>(index_[static_cast<size_t>(id)])].trusted = fn;
}

const HelperInfo* HelperRegistry::find(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= index_.size() || index_[static_cast<size_t>(id)] < 0) return nullptr;
  return &helpers_[static_cast<size_t>(index_[static_cast<size_t>(id)])];
}

bool ExecContext::accessible(uint64_t addr, uint64_t len, bool write) const {
  if (addr + len < addr) return false;
  if (addr >= stack_lo && addr + len <= stack_hi) return true;
  for (const Region& r : regions) {
    if (addr >= r.start && addr + len <= r.start + r.size) return write ? r.writable : true;
  }
  return false;
}

}  // namespace userbpf::vm
