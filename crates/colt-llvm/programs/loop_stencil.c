/* loop unrolling: a 5-tap integer stencil with an inner tap loop of constant length. */
#include <stdio.h>
#include <stdint.h>

#define N 8192
static const int32_t taps[5] = {1, 4, 6, 4, 1};

int main(void) {
    static int32_t a[N], b[N];
    for (int i = 0; i < N; i++) a[i] = (int32_t)((i * 7919u) % 1000u);
    for (int rep = 0; rep < 2400; rep++) {
        for (int i = 2; i < N - 2; i++) {
            int32_t s = 0;
            for (int t = 0; t < 5; t++) s += taps[t] * a[i + t - 2];
            b[i] = s >> 4;
        }
        for (int i = 2; i < N - 2; i++) a[i] = b[i] + (rep & 1);
    }
    uint32_t sum = 0;
    for (int i = 0; i < N; i++) sum = sum * 31u + (uint32_t)a[i];
    printf("checksum %u\n", sum);
    return 0;
}
