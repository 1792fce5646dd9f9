// Process-wide ids for live objects (maps, programs), like the kernel's map and
// program ids: what map-in-map values and prog_array slots store, since pointers
// do not survive being shared between processes.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace userbpf::util {

template <typename T>
class IdRegistry {
 public:
  uint32_t add(T* obj) {
    std::lock_guard lk(mu_);
    const uint32_t id = next_id_++;
    objects_[id] = obj;
    return id;
  }
  void remove(uint32_t id) {
    std::lock_guard lk(mu_);
    objects_.erase(id);
  }
  T* find(uint32_t id) {
    std::lock_guard lk(mu_);
    auto it = objects_.find(id);
    return it == objects_.end() ? nullptr : it->second;
  }

 private:
  std::mutex mu_;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, T*> objects_;
};

}  // namespace userbpf::util
