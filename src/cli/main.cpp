#include <cstdio>
int main() { std::puts("userbpf: placeholder"); return 0; }
