// The kernel's bpf printf engine: the format subset bpf_bprintf_prepare accepts
// (kernel/bpf/helpers.c) rendered as the kernel's vsnprintf renders it.  Known
// difference: plain %p / %pK print the raw pointer (the kernel hashes it), and
// %ps / %pS / %pB print "0x<hex>" (no kernel symbols here).
#include <cstdio>
#include <cstring>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

// Kernel ctype on ASCII (bprintf refuses non-ASCII bytes anyway).
bool k_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool k_isprint(char c) { return c >= 0x20 && c < 0x7f; }
bool k_ispunct(char c) {
  return k_isprint(c) && c != ' ' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z');
}

struct Spec {
  bool left = false, plus = false, space = false, zero = false;
  int width = -1;  // -1: none given
};

void pad_to(std::string& out, const std::string& body, const Spec& s) {
  const size_t w = s.width > 0 ? static_cast<size_t>(s.width) : 0;
  if (!s.left && body.size() < w) out.append(w - body.size(), ' ');
  out += body;
  if (s.left && body.size() < w) out.append(w - body.size(), ' ');
}

// vsprintf's number(): sign, zero or space padding, no precision.
void number(std::string& out, uint64_t v, bool is_signed, int base, bool upper, const Spec& s) {
  std::string sign;
  if (is_signed) {
    if (static_cast<int64_t>(v) < 0) {
      sign = "-";
      v = 0 - v;
    } else if (s.plus) {
      sign = "+";
    } else if (s.space) {
      sign = " ";
    }
  }
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[v % static_cast<uint64_t>(base)];
    v /= static_cast<uint64_t>(base);
  } while (v);
  const int width = s.width > 0 ? s.width : 0;
  int fill = width - n - static_cast<int>(sign.size());
  if (!s.left && !s.zero)
    for (; fill > 0; --fill) out += ' ';
  out += sign;
  if (!s.left && s.zero)
    for (; fill > 0; --fill) out += '0';
  while (n > 0) out += tmp[--n];
  for (; fill > 0; --fill) out += ' ';
}

std::string hex0x(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string ip_string(const uint8_t* a, bool v6, bool padded) {
  char b[48];
  std::string s;
  if (!v6) {
    std::snprintf(b, sizeof b, padded ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    return b;
  }
  for (int i = 0; i < 16; i += 2) {
    if (!padded && i) s += ':';  // %pI6: colons, %pi6: none
    std::snprintf(b, sizeof b, "%02x%02x", a[i], a[i + 1]);
    s += b;
  }
  return s;
}

// The kernel's temporary buffer for binary arguments: its 512 bytes bound the
// total size of strings and numbers one call can take.
struct TmpBuf {
  size_t used = 0;
  bool take(size_t n, size_t align) {
    used = (used + align - 1) / align * align;
    if (used > kMaxBprintfBuf || kMaxBprintfBuf - used < n) return false;
    used += n;
    return true;
  }
  size_t left() const { return used < kMaxBprintfBuf ? kMaxBprintfBuf - used : 0; }
};

}  // namespace

long bprintf(std::string_view fmt, const uint64_t* args, size_t nargs, std::string& out) {
  size_t argi = 0;
  TmpBuf tmp;
  const auto at = [&](size_t i) { return i < fmt.size() ? fmt[i] : '\0'; };
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (!k_isprint(c) && !k_isspace(c)) return -EINVAL;
    if (c != '%') {
      out += c;
      continue;
    }
    if (at(i + 1) == '%') {
      out += '%';
      ++i;
      continue;
    }
    if (argi >= nargs) return -EINVAL;
    const uint64_t arg = args[argi++];
    ++i;
    Spec s;
    for (;; ++i) {
      const char f = at(i);
      if (f == '-') s.left = true;
      else if (f == '+') s.plus = true;
      else if (f == ' ') s.space = true;
      else if (f == '0') s.zero = true;
      else break;
    }
    if (at(i) >= '1' && at(i) <= '9') {
      s.width = 0;
      while (at(i) >= '0' && at(i) <= '9') {
        s.width = std::min(s.width * 10 + (at(i) - '0'), 4096);
        ++i;
      }
    }
    if (s.left) s.zero = false;
    const char conv = at(i);
    bool is_string = conv == 's';
    if (conv == 'p' && (at(i + 1) == 'k' || at(i + 1) == 'u') && at(i + 2) == 's') {
      i += 2;  // %pks / %pus: a kernel or user string, the same memory here
      is_string = true;
    }
    if (is_string) {
      const char next = at(i + 1);
      if (next != '\0' && !k_isspace(next) && !k_ispunct(next)) return -EINVAL;
      if (tmp.left() == 0) return -ENOSPC;
      std::string str(tmp.left(), '\0');
      const long n = safe_read_str(str.data(), arg, str.size());
      str.resize(n > 0 ? static_cast<size_t>(n - 1) : 0);  // unreadable: empty string
      tmp.used += str.size() + 1;
      pad_to(out, str, s);
      continue;
    }
    if (conv == 'p') {
      const char n1 = at(i + 1);
      if (n1 == '\0' || k_isspace(n1) || k_ispunct(n1) || n1 == 'K' || n1 == 'x' || n1 == 's' || n1 == 'S' ||
          n1 == 'B') {
        if (!tmp.take(8, 4)) return -ENOSPC;
        if (n1 == 's' || n1 == 'S' || n1 == 'B') {
          ++i;
          pad_to(out, hex0x(arg), s);
          continue;
        }
        if (n1 == 'K' || n1 == 'x') ++i;
        Spec ps = s;  // pointer_string(): 16 zero-padded digits unless a width is given
        if (ps.width < 0) {
          ps.width = 16;
          ps.zero = true;
        }
        number(out, arg, false, 16, false, ps);
        continue;
      }
      const char n2 = at(i + 2);
      if ((n1 != 'i' && n1 != 'I') || (n2 != '4' && n2 != '6')) return -EINVAL;
      const bool v6 = n2 == '6';
      uint8_t addr[16] = {};
      if (!tmp.take(v6 ? 16 : 4, 1)) return -ENOSPC;
      if (!safe_read(addr, arg, v6 ? 16 : 4)) std::memset(addr, 0, sizeof addr);
      i += 2;
      pad_to(out, ip_string(addr, v6, n1 == 'i'), s);
      continue;
    }
    if (conv == 'c') {
      if (tmp.left() == 0) return -ENOSPC;
      tmp.used += 1;
      pad_to(out, std::string(1, static_cast<char>(arg)), s);
      continue;
    }
    size_t size = 4;
    if (at(i) == 'l') {
      size = 8;
      ++i;
    }
    if (at(i) == 'l') ++i;
    const char d = at(i);
    if (d != 'i' && d != 'd' && d != 'u' && d != 'x' && d != 'X') return -EINVAL;
    if (!tmp.take(size, 4)) return -ENOSPC;
    const bool is_signed = d == 'i' || d == 'd';
    uint64_t v = arg;
    if (size == 4) v = is_signed ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))) : static_cast<uint32_t>(v);
    number(out, v, is_signed, d == 'x' || d == 'X' ? 16 : 10, d == 'X', s);
  }
  return 0;
}

}  // namespace userbpf::helpers::detail
