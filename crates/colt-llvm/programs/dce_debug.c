/* dead-code elimination: disabled debug paths, unused results and dead stores. */
#include <stdio.h>
#include <stdint.h>

static int debug_level = 0;
static uint32_t trace_buf[64];

static void trace(int level, uint32_t v) {
    if (level <= debug_level) return;
    if (debug_level > 5) trace_buf[v & 63] = v;
}

static uint32_t unused_stat(uint32_t v) {
    uint32_t s = 0;
    for (int i = 0; i < 8; i++) s += (v >> i) & 1u;
    return s;
}

int main(void) {
    uint32_t acc = 17u;
    for (uint32_t i = 0; i < 12000000u; i++) {
        uint32_t tmp = acc * 3u;      /* dead store: overwritten below */
        uint32_t pop = unused_stat(acc); /* computed, never used */
        (void)pop;
        tmp = acc ^ (i * 2654435761u);
        trace(1, tmp);
        acc = tmp + (tmp >> 13);
        if (debug_level) printf("acc %u\n", acc);
    }
    printf("checksum %u\n", acc + trace_buf[3]);
    return 0;
}
