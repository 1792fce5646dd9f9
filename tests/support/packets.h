// A small packet builder for hook tests: Ethernet (optionally VLAN tagged),
// IPv4 (with options), IPv6, UDP, TCP (with options), ICMP and ARP, with correct
// checksums, plus a named set of packets covering the usual and odd cases.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace userbpf::testing::packets {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

inline constexpr Mac kMacA = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline constexpr Mac kMacB = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};
inline constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr Ip4 kIpA = {10, 0, 0, 1};
inline constexpr Ip4 kIpB = {192, 168, 1, 2};
Ip6 ip6(uint16_t last);  // fd00::last

// RFC 1071 checksum over the bytes (with an initial partial sum).
uint16_t inet_checksum(const uint8_t* p, size_t len, uint32_t sum = 0);

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t ethertype, const Bytes& payload);
// 802.1Q tag (TPID 0x8100) in front of the inner EtherType.
Bytes vlan_ethernet(const Mac& dst, const Mac& src, uint16_t vid, uint16_t ethertype, const Bytes& payload);

struct Ip4Opts {
  uint8_t tos = 0;
  uint8_t ttl = 64;
  uint16_t frag_off = 0x4000;  // DF
  uint16_t id = 0x1234;
  Bytes options;               // padded to a multiple of 4
};
Bytes ipv4(const Ip4& src, const Ip4& dst, uint8_t proto, const Bytes& l4, const Ip4Opts& o = {});
Bytes ipv6(const Ip6& src, const Ip6& dst, uint8_t next_header, const Bytes& l4, uint8_t hop_limit = 64);

// Transport segments with checksums over the IPv4 / IPv6 pseudo header.
Bytes udp4(const Ip4& src, const Ip4& dst, uint16_t sport, uint16_t dport, const Bytes& payload);
Bytes tcp4(const Ip4& src, const Ip4& dst, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& options,
           const Bytes& payload);
Bytes udp6(const Ip6& src, const Ip6& dst, uint16_t sport, uint16_t dport, const Bytes& payload);
Bytes tcp6(const Ip6& src, const Ip6& dst, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload);
Bytes icmp4_echo(uint16_t id, uint16_t seq, const Bytes& payload);
Bytes arp_request(const Mac& sha, const Ip4& spa, const Ip4& tpa);

Bytes pattern(size_t n, uint8_t seed = 1);  // deterministic payload bytes

struct Named {
  std::string name;
  Bytes data;
};
// Ethernet frames: IPv4/IPv6 UDP and TCP (with options), ICMP, ARP, VLAN,
// fragments, IP options, odd EtherTypes (802.3 length, raw IPX), truncated and
// runt frames, broadcast / multicast / host destinations and a ~3000-byte frame.
std::vector<Named> standard_packets();

}  // namespace userbpf::testing::packets
