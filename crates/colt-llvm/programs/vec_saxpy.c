/* vectorization: element-wise integer saxpy and a separate sum reduction. */
#include <stdio.h>
#include <stdint.h>

#define N 4096

int main(void) {
    static int32_t x[N], y[N];
    for (int i = 0; i < N; i++) { x[i] = i & 255; y[i] = (i * 3) & 127; }
    for (int rep = 0; rep < 12000; rep++) {
        int32_t a = (rep & 7) + 1;
        for (int i = 0; i < N; i++) y[i] = (a * x[i] + y[i]) & 0xFFFF;
        for (int i = 0; i < N; i++) x[i] = (x[i] + y[i]) >> 1;
    }
    uint32_t sum = 0;
    for (int i = 0; i < N; i++) sum += (uint32_t)(x[i] ^ y[i]);
    printf("checksum %u\n", sum);
    return 0;
}
