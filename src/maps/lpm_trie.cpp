// BPF_MAP_TYPE_LPM_TRIE: longest-prefix match over struct bpf_lpm_trie_key
// { __u32 prefixlen; __u8 data[]; }.  Like the kernel's trie this is a
// path-compressed binary trie: every node holds a prefix; a node's children
// continue its prefix with bit 0 / bit 1 at position node.prefixlen.  Nodes that
// only join two subtrees are "intermediate" (no value, not a key).
//
// Block layout:
//   [0, 32)    MapHeader
//   [32, 64)   TrieHeader (lock, root, counters, free list)
//   [64, ...)  node pool: 2 * max_entries nodes.  A trie of n keys has at most
//              n - 1 intermediate nodes (each has two children), so the pool
//              never runs out before max_entries keys are stored.
// Nodes refer to each other by 1-based pool index (0 = none), never by pointer.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "maps/map_types.h"
#include "maps/shm_sync.h"

namespace userbpf::maps {
namespace {

constexpr uint32_t kDataSizeMin = 1, kDataSizeMax = 256;
// KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - sizeof(struct lpm_trie_node) on x86-64.
constexpr uint32_t kValueSizeMax = (4u << 20) - 256 - 40;
constexpr uint32_t kCreateFlags = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY |
                                  BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;

constexpr uint64_t kTrieHeaderOff = 32, kPoolOff = 64;
constexpr uint32_t kFlagIntermediate = 1;

struct TrieHeader {
  ShmRwLock lock;
  uint32_t root;         // pool index, 0 = empty trie
  uint32_t n_entries;    // keys (intermediate nodes not counted)
  uint32_t free_head;    // freed nodes, linked through child[0]
  uint32_t next_unused;  // nodes never handed out start here (pool pages stay untouched)
  uint32_t pool_nodes;
};
static_assert(sizeof(MapHeader) <= kTrieHeaderOff && kTrieHeaderOff + sizeof(TrieHeader) <= kPoolOff);

struct Node {
  uint32_t child[2];
  uint32_t prefixlen;
  uint32_t flags;
  uint8_t data[];  // data_size bytes, then the value at an 8-byte boundary
};

struct Layout {
  uint32_t data_size = 0;
  uint64_t value_off = 0;  // inside a node
  uint64_t node_size = 0;
  uint64_t pool_nodes = 0;
  uint64_t block_size = 0;
};

// trie_alloc()'s checks.
Result<Layout> check_spec(const MapSpec& spec) {
  if (spec.max_entries == 0) return map_error(spec, "lpm_trie max_entries must be > 0");
  if (!(spec.map_flags & BPF_F_NO_PREALLOC)) return map_error(spec, "lpm_trie requires BPF_F_NO_PREALLOC");
  if (spec.map_flags & ~kCreateFlags) return map_error(spec, "invalid lpm_trie map flags");
  if (!map_flags_access_ok(spec.map_flags)) return map_error(spec, "conflicting read-only/write-only map flags");
  if (spec.key_size < 4 + kDataSizeMin || spec.key_size > 4 + kDataSizeMax)
    return map_error(spec, "lpm_trie key_size must be between 5 and 260, got " + std::to_string(spec.key_size));
  if (spec.value_size == 0 || spec.value_size > kValueSizeMax)
    return map_error(spec, "lpm_trie value_size " + std::to_string(spec.value_size) + " is out of range");
  Layout l;
  l.data_size = spec.key_size - 4;
  l.value_off = round_up8(sizeof(Node) + l.data_size);
  l.node_size = l.value_off + round_up8(spec.value_size);
  l.pool_nodes = uint64_t{spec.max_entries} * 2;
  l.block_size = kPoolOff + l.pool_nodes * l.node_size;
  if (l.pool_nodes > 0xffffffffu || l.block_size > kMaxMapBlock) return map_error(spec, "lpm_trie is too big (E2BIG)");
  return l;
}

inline uint32_t load_prefixlen(const void* key) {
  uint32_t v;
  std::memcpy(&v, key, 4);
  return v;
}
inline const uint8_t* key_data(const void* key) { return static_cast<const uint8_t*>(key) + 4; }

// Bit i of a prefix, most significant bit of data[0] first (network order).
inline uint32_t extract_bit(const uint8_t* data, uint32_t i) { return (data[i / 8] >> (7 - i % 8)) & 1; }

class LpmTrie final : public Map {
 public:
  LpmTrie(const MapSpec& spec, SharedBlock block, const Layout& l)
      : Map(spec, std::move(block)), l_(l), max_prefixlen_(l.data_size * 8) {}

  void* lookup(const void* key) override {
    const uint32_t plen = load_prefixlen(key);
    if (plen > max_prefixlen_) return nullptr;
    ShmSharedGuard g(hdr()->lock);
    Node* found = nullptr;
    for (uint32_t i = hdr()->root; i != 0;) {
      Node* n = node(i);
      const uint32_t match = match_len(n, key_data(key), plen);
      if (match == max_prefixlen_) {  // full-length match: nothing more specific exists
        if (!(n->flags & kFlagIntermediate)) found = n;
        break;
      }
      if (match < n->prefixlen) break;
      if (!(n->flags & kFlagIntermediate)) found = n;
      i = n->child[extract_bit(key_data(key), n->prefixlen)];
    }
    return found ? value_of(found) : nullptr;
  }

  // trie_update_elem(): replace an exact prefix, or add it (as a leaf, as the
  // new parent of an existing subtree, or beside it under an intermediate node).
  long update(const void* key, const void* value, uint64_t flags) override {
    if (flags > BPF_EXIST) return -EINVAL;
    const uint32_t plen = load_prefixlen(key);
    if (plen > max_prefixlen_) return -EINVAL;
    const uint8_t* kd = key_data(key);
    ShmGuard g(hdr()->lock);
    uint32_t* slot = &hdr()->root;
    Node* n = nullptr;
    uint32_t match = 0;
    while (*slot != 0) {
      n = node(*slot);
      match = match_len(n, kd, plen);
      if (n->prefixlen != match || n->prefixlen == plen || n->prefixlen == max_prefixlen_) break;
      slot = &n->child[extract_bit(kd, n->prefixlen)];
      n = nullptr;
    }
    if (n && n->prefixlen == plen && match == plen) {  // the exact prefix has a node
      if (n->flags & kFlagIntermediate) {
        if (long err = check_add(flags)) return err;
        ++hdr()->n_entries;
        n->flags = 0;
      } else if (flags == BPF_NOEXIST) {
        return -EEXIST;
      }
      fill(n, kd, plen, value);  // the kernel swaps in a node with the new key bytes
      return 0;
    }
    if (long err = check_add(flags)) return err;
    const uint32_t new_idx = alloc();
    Node* nn = node(new_idx);
    fill(nn, kd, plen, value);
    ++hdr()->n_entries;
    if (!n) {  // empty slot
      *slot = new_idx;
      return 0;
    }
    const uint32_t old_idx = *slot;
    if (match == plen) {  // the new prefix covers the existing subtree
      nn->child[extract_bit(n->data, match)] = old_idx;
      *slot = new_idx;
      return 0;
    }
    // The prefixes diverge at bit `match`: join them under an intermediate node.
    const uint32_t im_idx = alloc();
    Node* im = node(im_idx);
    std::memcpy(im->data, n->data, l_.data_size);
    im->prefixlen = match;
    im->flags = kFlagIntermediate;
    const uint32_t bit = extract_bit(kd, match);
    im->child[bit] = new_idx;
    im->child[bit ^ 1] = old_idx;
    *slot = im_idx;
    return 0;
  }

  // trie_delete_elem(): removes the exact prefix and any intermediate node that
  // no longer joins two subtrees.
  long remove(const void* key) override {
    const uint32_t plen = load_prefixlen(key);
    if (plen > max_prefixlen_) return -EINVAL;
    const uint8_t* kd = key_data(key);
    ShmGuard g(hdr()->lock);
    uint32_t* trim = &hdr()->root;
    uint32_t* trim_parent = trim;
    Node* parent = nullptr;
    Node* n = nullptr;
    uint32_t match = 0;
    while (*trim != 0) {
      n = node(*trim);
      match = match_len(n, kd, plen);
      if (n->prefixlen != match || n->prefixlen == plen) break;
      parent = n;
      trim_parent = trim;
      trim = &n->child[extract_bit(kd, n->prefixlen)];
      n = nullptr;
    }
    if (!n || n->prefixlen != plen || match != plen || (n->flags & kFlagIntermediate)) return -ENOENT;
    --hdr()->n_entries;
    const uint32_t idx = *trim;
    if (n->child[0] && n->child[1]) {  // still joins two subtrees
      n->flags = kFlagIntermediate;
      return 0;
    }
    if (parent && (parent->flags & kFlagIntermediate) && !n->child[0] && !n->child[1]) {
      const uint32_t parent_idx = *trim_parent;
      *trim_parent = parent->child[parent->child[0] == idx ? 1 : 0];
      release(idx);
      release(parent_idx);
      return 0;
    }
    *trim = n->child[0] ? n->child[0] : n->child[1];
    release(idx);
    return 0;
  }

  // Post-order, child 0 before child 1 before the node itself, as the kernel's
  // trie_get_next_key() walks: more specific prefixes come before the prefixes
  // that contain them.  Every key is visited once as long as the trie does not
  // change.  A key that is not in the trie restarts at the first key.
  long get_next_key(const void* key, void* next_key) override {
    ShmSharedGuard g(hdr()->lock);
    const uint32_t root = hdr()->root;
    if (root == 0) return -ENOENT;
    std::vector<uint32_t> path;  // ancestors of the key's node, root first
    uint32_t cur = 0;
    if (key) {
      const uint32_t plen = load_prefixlen(key);
      if (plen <= max_prefixlen_) {
        const uint8_t* kd = key_data(key);
        for (uint32_t i = root; i != 0;) {
          Node* n = node(i);
          const uint32_t match = match_len(n, kd, plen);
          if (n->prefixlen != match) break;
          if (n->prefixlen == plen) {
            if (!(n->flags & kFlagIntermediate)) cur = i;
            break;
          }
          path.push_back(i);
          i = n->child[extract_bit(kd, n->prefixlen)];
        }
      }
    }
    uint32_t next = 0;
    if (cur == 0) {
      next = leftmost(root);
    } else {
      while (!path.empty()) {
        const uint32_t p = path.back();
        path.pop_back();
        Node* pn = node(p);
        if (pn->child[0] == cur && pn->child[1] != 0) {
          next = leftmost(pn->child[1]);
          break;
        }
        if (!(pn->flags & kFlagIntermediate)) {
          next = p;
          break;
        }
        cur = p;
      }
      if (next == 0) return -ENOENT;
    }
    const Node* n = node(next);
    std::memcpy(next_key, &n->prefixlen, 4);
    std::memcpy(static_cast<uint8_t*>(next_key) + 4, n->data, l_.data_size);
    return 0;
  }

  std::vector<Span> program_memory() const override {
    return {Span{reinterpret_cast<uintptr_t>(block_.data() + kPoolOff), l_.pool_nodes * l_.node_size, true}};
  }

 private:
  TrieHeader* hdr() const { return block_.at<TrieHeader>(kTrieHeaderOff); }
  Node* node(uint32_t idx) const { return block_.at<Node>(kPoolOff + uint64_t{idx - 1} * l_.node_size); }
  void* value_of(Node* n) const { return reinterpret_cast<uint8_t*>(n) + l_.value_off; }

  // Leading bits the node's prefix and the key share, at most the shorter prefix.
  uint32_t match_len(const Node* n, const uint8_t* kd, uint32_t plen) const {
    const uint32_t limit = n->prefixlen < plen ? n->prefixlen : plen;
    uint32_t bits = 0;
    for (uint32_t i = 0; bits < limit; ++i) {
      const uint8_t diff = n->data[i] ^ kd[i];
      if (diff) {
        bits += static_cast<uint32_t>(__builtin_clz(static_cast<uint32_t>(diff)) - 24);
        break;
      }
      bits += 8;
    }
    return bits < limit ? bits : limit;
  }

  // First node in post-order below `idx`: keep descending, child 0 first.  That
  // node is a leaf, and leaves are never intermediate.
  uint32_t leftmost(uint32_t idx) const {
    for (;;) {
      Node* n = node(idx);
      if (n->child[0]) idx = n->child[0];
      else if (n->child[1]) idx = n->child[1];
      else return idx;
    }
  }

  long check_add(uint64_t flags) const {
    if (flags == BPF_EXIST) return -ENOENT;
    if (hdr()->n_entries >= spec_.max_entries) return -ENOSPC;
    return 0;
  }

  void fill(Node* n, const uint8_t* kd, uint32_t plen, const void* value) {
    n->prefixlen = plen;
    std::memcpy(n->data, kd, l_.data_size);
    std::memcpy(value_of(n), value, spec_.value_size);
  }

  // Caller holds the lock and has checked the entry limit (see the pool bound above).
  uint32_t alloc() {
    TrieHeader* h = hdr();
    uint32_t idx = h->free_head;
    if (idx != 0) {
      h->free_head = node(idx)->child[0];
    } else {
      idx = ++h->next_unused;
    }
    Node* n = node(idx);
    n->child[0] = n->child[1] = 0;
    n->flags = 0;
    return idx;
  }

  void release(uint32_t idx) {
    Node* n = node(idx);
    n->child[0] = hdr()->free_head;
    n->child[1] = 0;
    n->flags = kFlagIntermediate;  // a stale value pointer never reads as a key
    hdr()->free_head = idx;
  }

  Layout l_;
  uint32_t max_prefixlen_;
};

}  // namespace

Result<std::unique_ptr<Map>> make_lpm_trie(const MapSpec& spec) {
  auto l = check_spec(spec);
  if (!l) return l.error();
  auto block = SharedBlock::create(l->block_size, spec.name);
  if (!block) return block.error();
  init_map_header(block->at<MapHeader>(0), spec);
  block->at<TrieHeader>(kTrieHeaderOff)->pool_nodes = static_cast<uint32_t>(l->pool_nodes);
  return std::unique_ptr<Map>(new LpmTrie(spec, std::move(*block), *l));
}

}  // namespace userbpf::maps
