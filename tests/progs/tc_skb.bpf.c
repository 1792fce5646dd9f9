// tc programs exercising the __sk_buff context and the skb helpers: field reads
// and writes, bpf_skb_load_bytes / store_bytes, l3 / l4 checksum replacement,
// csum_diff, redirect and skb_change_tail.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Every readable field into the packet after the Ethernet header, then writes
 * to every writable field. */
SEC("tc")
int tc_fields(struct __sk_buff *skb) {
  __u32 v[20];
  v[0] = skb->len;
  v[1] = skb->pkt_type;
  v[2] = skb->protocol;
  v[3] = skb->vlan_present;
  v[4] = skb->vlan_tci;
  v[5] = skb->vlan_proto;
  v[6] = skb->ifindex;
  v[7] = skb->ingress_ifindex;
  v[8] = skb->hash;
  v[9] = skb->queue_mapping;
  v[10] = skb->napi_id;
  v[11] = skb->wire_len;
  v[12] = skb->gso_segs;
  v[13] = skb->gso_size;
  v[14] = skb->tc_index;
  v[15] = skb->mark;
  v[16] = skb->priority;
  v[17] = skb->cb[0] ^ skb->cb[4];
  v[18] = (__u32)skb->tstamp ^ (__u32)skb->hwtstamp;
  v[19] = (skb->data_end - skb->data) | (skb->data_meta == skb->data) << 31;
  long rc = bpf_skb_store_bytes(skb, ETH_HLEN, v, sizeof(v), 0);

  skb->mark = 0x100 | (__u32)rc;
  skb->priority = v[0] * 3;
  skb->tc_index = 0x12345;      /* stored as a u16 */
  skb->tc_classid = 0xabcdef;   /* stored as a u16 */
  skb->queue_mapping = v[0] & 7;
  for (int i = 0; i < 5; i++) skb->cb[i] += i + v[0];
  skb->tstamp = 1000000007ull * v[0];
  return skb->tc_index + skb->tc_classid + skb->queue_mapping;
}

/* NAT the IPv4 destination (address and port) with the checksum helpers. */
SEC("tc")
int tc_nat(struct __sk_buff *skb) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  struct iphdr ip;
  long rc = bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip));
  if (rc) return TC_ACT_SHOT;
  if (ip.ihl != 5) return TC_ACT_UNSPEC;
  __be32 old_daddr = ip.daddr;
  __be32 new_daddr = bpf_htonl(0x0a090807);
  int l4_csum_off = 0;
  int l4_port_off = 0;
  __u64 mangled = 0;
  if (ip.protocol == IPPROTO_UDP) {
    l4_csum_off = ETH_HLEN + sizeof(ip) + offsetof(struct udphdr, check);
    l4_port_off = ETH_HLEN + sizeof(ip) + offsetof(struct udphdr, dest);
    mangled = BPF_F_MARK_MANGLED_0;
  } else if (ip.protocol == IPPROTO_TCP) {
    l4_csum_off = ETH_HLEN + sizeof(ip) + offsetof(struct tcphdr, check);
    l4_port_off = ETH_HLEN + sizeof(ip) + offsetof(struct tcphdr, dest);
  }
  if (l4_csum_off) {
    rc = bpf_l4_csum_replace(skb, l4_csum_off, old_daddr, new_daddr, BPF_F_PSEUDO_HDR | mangled | sizeof(new_daddr));
    if (rc) return 100 + (int)-rc;
    __be16 old_port;
    if (bpf_skb_load_bytes(skb, l4_port_off, &old_port, sizeof(old_port))) return 200;
    __be16 new_port = bpf_htons(8053);
    rc = bpf_l4_csum_replace(skb, l4_csum_off, old_port, new_port, mangled | sizeof(new_port));
    if (rc) return 300 + (int)-rc;
    rc = bpf_skb_store_bytes(skb, l4_port_off, &new_port, sizeof(new_port), 0);
    if (rc) return 400;
  }
  rc = bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old_daddr, new_daddr, sizeof(new_daddr));
  if (rc) return 500 + (int)-rc;
  rc = bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, daddr), &new_daddr, sizeof(new_daddr),
                           BPF_F_INVALIDATE_HASH);
  if (rc) return 600;
  /* The TTL decrement by csum_diff + a diff-only l3_csum_replace. */
  __u8 ttl_word[4] = {ip.ttl, ip.protocol, 0, 0};
  __u8 new_word[4] = {ip.ttl - 1, ip.protocol, 0, 0};
  __s64 diff = bpf_csum_diff((__be32 *)ttl_word, 4, (__be32 *)new_word, 4, 0);
  rc = bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), 0, diff, 0);
  if (rc) return 700 + (int)-rc;
  __u8 ttl = ip.ttl - 1;
  rc = bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, ttl), &ttl, 1, 0);
  /* Helper failure modes, reported in the mark. */
  __u32 m = 0;
  __u8 buf[8];
  if (bpf_skb_load_bytes(skb, skb->len - 4, buf, 8) == -14) m |= 1;
  if (bpf_skb_store_bytes(skb, 0, buf, 4, 4) == -22) m |= 2;
  if (bpf_l3_csum_replace(skb, 15, 0, 0, 2) == -14) m |= 4;
  if (bpf_l3_csum_replace(skb, 24, 1, 0, 0) == -22) m |= 8;
  if (bpf_l4_csum_replace(skb, 24, 0, 0, 3) == -22) m |= 16;
  if (bpf_skb_pull_data(skb, skb->len + 1) == -12) m |= 32;
  if (bpf_skb_pull_data(skb, 0) == 0) m |= 64;
  m |= (__u32)bpf_csum_diff((__be32 *)buf, 3, 0, 0, 0x1234) << 8;  /* odd sizes are fine */
  skb->mark = m;
  return TC_ACT_OK;
}

SEC("tc")
int tc_redirect_probe(struct __sk_buff *skb) {
  __u8 b[2];
  if (bpf_skb_load_bytes(skb, 14, b, 2)) return TC_ACT_SHOT;
  __u64 flags = b[1] & 1 ? BPF_F_INGRESS : 0;
  if (b[1] & 2) flags |= 4;
  return bpf_redirect(b[0], flags);
}

/* Grow by 8 (zeroed bytes), then write the length at the end. */
SEC("tc")
int tc_change_tail(struct __sk_buff *skb) {
  __u32 len = skb->len;
  long rc = bpf_skb_change_tail(skb, len + 8, 0);
  if (rc) return 1000 + (int)-rc;
  if (bpf_skb_store_bytes(skb, len + 4, &len, 4, 0)) return 2000;
  if (bpf_skb_change_tail(skb, 10, 0) != -22) return 3000;
  return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
