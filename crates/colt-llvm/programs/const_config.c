/* constant propagation: configuration constants and functions always called with constant arguments. */
#include <stdio.h>
#include <stdint.h>

static int mode = 2;
static const int shift_table[4] = {1, 3, 5, 7};
static int width = 64;

static uint32_t transform(uint32_t v, int m, int w) {
    if (m == 0) return v + (uint32_t)w;
    if (m == 1) return v * (uint32_t)w;
    if (m == 2) return (v << shift_table[m]) ^ (v >> shift_table[m + 1]) ^ (uint32_t)w;
    return v;
}

static uint32_t scaled(uint32_t v, int factor) { return factor > 0 ? v * (uint32_t)factor : v; }

int main(void) {
    uint32_t acc = 1u;
    for (int i = 0; i < 20000000; i++) {
        acc = transform(acc, mode, width) + scaled((uint32_t)i, 3);
        if (width > 100) acc ^= 0xdeadbeefu;
    }
    printf("checksum %u\n", acc);
    return 0;
}
