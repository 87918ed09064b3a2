/* vectorization: integer dot products and a prefix-free element-wise square. */
#include <stdio.h>
#include <stdint.h>

#define N 2048

int main(void) {
    static int16_t a[N], b[N];
    static int32_t sq[N];
    for (int i = 0; i < N; i++) { a[i] = (int16_t)((i * 37) % 201 - 100); b[i] = (int16_t)((i * 91) % 157 - 78); }
    int64_t total = 0;
    for (int rep = 0; rep < 30000; rep++) {
        int32_t dot = 0;
        for (int i = 0; i < N; i++) dot += a[i] * b[i];
        for (int i = 0; i < N; i++) sq[i] = a[i] * a[i] + rep;
        total += dot + sq[rep % N];
        a[rep % N] = (int16_t)(a[rep % N] + 1);
    }
    printf("checksum %lld\n", (long long)total);
    return 0;
}
