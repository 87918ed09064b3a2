/* function inlining / tail calls: recursion with small helpers and an accumulator. */
#include <stdio.h>
#include <stdint.h>

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static uint32_t gcd(uint32_t a, uint32_t b) { return b == 0 ? a : gcd(b, a % b); }
static uint32_t sum_to(uint32_t n, uint32_t acc) { return n == 0 ? acc : sum_to(n - 1, acc + n); }

int main(void) {
    uint32_t s = 0;
    for (uint32_t i = 0; i < 200; i++) s += fib(20 + (i & 3));
    for (uint32_t i = 1; i < 400000; i++) s ^= gcd(i * 7u + 3u, i + 11u);
    for (uint32_t i = 0; i < 3000; i++) s += sum_to(1000 + i, i);
    printf("checksum %u\n", s);
    return 0;
}
