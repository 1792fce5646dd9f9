// Map helpers: lookup/update/delete and the queue/stack/bloom filter
// push/pop/peek, with the kernel's return values.  Keys and values are checked
// against the program's memory before the map sees them.
#include <linux/bpf.h>

#include <cstring>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

bool is_map_in_map(uint32_t t) {
  return t == static_cast<uint32_t>(maps::MapType::ArrayOfMaps) ||
         t == static_cast<uint32_t>(maps::MapType::HashOfMaps);
}

// The map for helper `func`, or nullptr when r is not one or the kernel's
// verifier would not pass this map type to it.
maps::Map* checked_map(vm::ExecContext* ctx, uint64_t r, int32_t func) {
  maps::Map* m = map_arg(ctx, r);
  return m && map_func_compatible(m->type(), func) ? m : nullptr;
}

// void *bpf_map_lookup_elem(map, key): value pointer (inner Map* for map-in-map) or NULL.
uint64_t map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::Map* m = checked_map(ctx, r1, BPF_FUNC_map_lookup_elem);
  if (!m) return 0;
  const uint8_t* key = program_read_ptr(ctx, r2, m->spec().key_size);
  if (!key) return 0;
  void* v = m->lookup(key);
  if (v && is_map_in_map(m->type())) note_inner_map(ctx, static_cast<maps::Map*>(v));
  return reinterpret_cast<uint64_t>(v);
}

uint64_t map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  maps::Map* m = checked_map(ctx, r1, BPF_FUNC_map_update_elem);
  if (!m || is_map_in_map(m->type())) return err(EINVAL);  // map-in-map: verifier refuses updates from programs
  const uint8_t* key = program_read_ptr(ctx, r2, m->spec().key_size);
  const uint8_t* value = program_read_ptr(ctx, r3, m->spec().value_size);
  if (!key || !value) return err(EFAULT);
  return ret(m->update(key, value, r4));
}

uint64_t map_delete_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::Map* m = checked_map(ctx, r1, BPF_FUNC_map_delete_elem);
  if (!m || is_map_in_map(m->type())) return err(EINVAL);
  const uint8_t* key = program_read_ptr(ctx, r2, m->spec().key_size);
  if (!key) return err(EFAULT);
  return ret(m->remove(key));
}

uint64_t map_push_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::Map* m = checked_map(ctx, r1, BPF_FUNC_map_push_elem);
  if (!m) return err(EINVAL);
  const uint8_t* value = program_read_ptr(ctx, r2, m->spec().value_size);
  if (!value) return err(EFAULT);
  return ret(m->push(value, r3));
}

uint64_t map_pop_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::Map* m = checked_map(ctx, r1, BPF_FUNC_map_pop_elem);
  if (!m) return err(EINVAL);
  uint8_t* value = program_write_ptr(ctx, r2, m->spec().value_size);
  if (!value) return err(EFAULT);
  return ret(m->pop(value));
}

// Queue/stack: copies the head out.  Bloom filter: value is the element to test
// (0 when possibly present, -ENOENT when surely absent), so it is only read.
uint64_t map_peek_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  maps::Map* m = checked_map(ctx, r1, BPF_FUNC_map_peek_elem);
  if (!m) return err(EINVAL);
  const bool bloom = m->type() == static_cast<uint32_t>(maps::MapType::BloomFilter);
  const uint32_t n = m->spec().value_size;
  void* value = bloom ? const_cast<uint8_t*>(program_read_ptr(ctx, r2, n)) : program_write_ptr(ctx, r2, n);
  if (!value) return err(EFAULT);
  return ret(m->peek(value));
}

// Trusted variants for verified programs under the JIT: the verifier proved r1
// is a map of a type the helper accepts (an object map or an inner map a
// lookup returned) and the key / value pointers cover key_size / value_size
// bytes, so only the map operation itself remains.
uint64_t map_lookup_elem_trusted(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  auto* m = reinterpret_cast<maps::Map*>(r1);
  if (m->is_array()) {
    uint32_t idx;
    std::memcpy(&idx, reinterpret_cast<const void*>(r2), sizeof idx);
    return reinterpret_cast<uint64_t>(m->array_lookup(idx));
  }
  void* v = m->lookup(reinterpret_cast<const void*>(r2));
  if (v && is_map_in_map(m->type())) note_inner_map(ctx, static_cast<maps::Map*>(v));
  return reinterpret_cast<uint64_t>(v);
}

uint64_t map_update_elem_trusted(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext*) {
  auto* m = reinterpret_cast<maps::Map*>(r1);
  if (is_map_in_map(m->type())) return err(EINVAL);
  return ret(m->update(reinterpret_cast<const void*>(r2), reinterpret_cast<const void*>(r3), r4));
}

uint64_t map_delete_elem_trusted(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  auto* m = reinterpret_cast<maps::Map*>(r1);
  if (is_map_in_map(m->type())) return err(EINVAL);
  return ret(m->remove(reinterpret_cast<const void*>(r2)));
}

}  // namespace

void register_map_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_map_lookup_elem, map_lookup_elem);
  add(reg, BPF_FUNC_map_update_elem, map_update_elem);
  add(reg, BPF_FUNC_map_delete_elem, map_delete_elem);
  add(reg, BPF_FUNC_map_push_elem, map_push_elem);
  add(reg, BPF_FUNC_map_pop_elem, map_pop_elem);
  add(reg, BPF_FUNC_map_peek_elem, map_peek_elem);
  reg.set_trusted(BPF_FUNC_map_lookup_elem, map_lookup_elem_trusted);
  reg.set_trusted(BPF_FUNC_map_update_elem, map_update_elem_trusted);
  reg.set_trusted(BPF_FUNC_map_delete_elem, map_delete_elem_trusted);
}

}  // namespace userbpf::helpers::detail
