/* dead-code elimination: unused helpers, unused loops and redundant recomputation. */
#include <stdio.h>
#include <stdint.h>

static uint32_t never_called(uint32_t x) { return x * x + 1u; }
static uint32_t also_unused(uint32_t x) { return never_called(x) ^ 7u; }

static uint32_t work(uint32_t x) {
    uint32_t junk = 0;
    for (int i = 0; i < 4; i++) junk += x >> i; /* result unused */
    uint32_t a = x * 5u + 1u;
    uint32_t b = x * 5u + 1u;                    /* same as a */
    return (a ^ (b >> 3)) + (junk - junk);
}

int main(void) {
    uint32_t acc = 3u;
    uint32_t unused_total = 0;
    for (uint32_t i = 0; i < 20000000u; i++) {
        acc = work(acc + i);
        unused_total += i;                       /* never printed */
    }
    (void)also_unused;
    printf("checksum %u\n", acc);
    return 0;
}
