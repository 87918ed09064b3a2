/* vectorization: 8-bit image blend with saturation, then a min/max scan. */
#include <stdio.h>
#include <stdint.h>

#define W 256
#define H 128

int main(void) {
    static uint8_t img_a[W * H], img_b[W * H], out[W * H];
    for (int i = 0; i < W * H; i++) { img_a[i] = (uint8_t)(i * 13); img_b[i] = (uint8_t)(i * 7 + 5); }
    uint32_t check = 0;
    for (int rep = 0; rep < 1000; rep++) {
        uint32_t alpha = (uint32_t)(rep * 4 + 3) & 255u;
        for (int i = 0; i < W * H; i++) {
            uint32_t v = (img_a[i] * alpha + img_b[i] * (255u - alpha)) / 255u + 8u;
            out[i] = (uint8_t)(v > 255u ? 255u : v);
        }
        uint8_t mn = 255, mx = 0;
        for (int i = 0; i < W * H; i++) {
            mn = out[i] < mn ? out[i] : mn;
            mx = out[i] > mx ? out[i] : mx;
        }
        check = check * 31u + mn + 256u * mx + out[(rep * 97) % (W * H)];
        for (int i = 0; i < W * H; i++) img_a[i] = out[i];
    }
    printf("checksum %u\n", check);
    return 0;
}
