/* Not one of colt's bundled programs: insertion-sorts pseudo-random keys and hashes them. */
#include <stdio.h>
#include <stdint.h>

#define N 3000

static uint32_t keys[N];

static uint32_t next(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void sort(uint32_t *a, int n) {
    for (int i = 1; i < n; i++) {
        uint32_t k = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > k) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = k;
    }
}

int main(void) {
    uint32_t s = 2463534242u, h = 2166136261u;
    for (int r = 0; r < 4; r++) {
        for (int i = 0; i < N; i++) keys[i] = next(&s) % 100000u;
        sort(keys, N);
        for (int i = 0; i < N; i++) h = (h ^ keys[i]) * 16777619u;
    }
    printf("checksum %u\n", h);
    return 0;
}
