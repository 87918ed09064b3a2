/* function inlining: an interpreter-like dispatch over tiny operation functions. */
#include <stdio.h>
#include <stdint.h>

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * b + 1u; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t op_rot(uint32_t a, uint32_t b) { b &= 31u; return b ? (a << b) | (a >> (32u - b)) : a; }

static uint32_t apply(int op, uint32_t a, uint32_t b) {
    switch (op) {
    case 0: return op_add(a, b);
    case 1: return op_sub(a, b);
    case 2: return op_mul(a, b);
    case 3: return op_xor(a, b);
    default: return op_rot(a, b);
    }
}

int main(void) {
    uint32_t acc = 7u, x = 1u;
    for (int i = 0; i < 4000000; i++) {
        x = x * 1664525u + 1013904223u;
        acc = apply((int)((x >> 24) % 5u), acc, x >> 7);
    }
    printf("checksum %u\n", acc);
    return 0;
}
