/* loop unrolling: 4x4 integer matrix products with constant trip counts. */
#include <stdio.h>
#include <stdint.h>

typedef struct { uint32_t m[4][4]; } mat4;

static void mul(const mat4 *a, const mat4 *b, mat4 *c) {
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            uint32_t s = 0;
            for (int k = 0; k < 4; k++) s += a->m[i][k] * b->m[k][j];
            c->m[i][j] = s;
        }
}

int main(void) {
    mat4 a, b, c;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            a.m[i][j] = (uint32_t)(i * 4 + j + 1);
            b.m[i][j] = (uint32_t)((i + 1) * (j + 3));
        }
    uint32_t sum = 0;
    for (int rep = 0; rep < 1500000; rep++) {
        mul(&a, &b, &c);
        a.m[rep & 3][(rep >> 2) & 3] ^= c.m[(rep >> 4) & 3][rep & 3] & 0xFFu;
        sum += c.m[0][0] ^ c.m[3][3];
    }
    printf("checksum %u\n", sum);
    return 0;
}
