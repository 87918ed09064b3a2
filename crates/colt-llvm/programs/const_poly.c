/* constant propagation: polynomials with constant coefficients, constant loop bounds and folded branches. */
#include <stdio.h>
#include <stdint.h>

static const uint32_t coef[6] = {3, 1, 4, 1, 5, 9};
enum { DEGREE = 5, USE_HORNER = 1 };

static uint32_t poly(uint32_t x) {
    uint32_t r = 0;
    if (USE_HORNER) {
        for (int i = DEGREE; i >= 0; i--) r = r * x + coef[i];
    } else {
        uint32_t p = 1;
        for (int i = 0; i <= DEGREE; i++) { r += coef[i] * p; p *= x; }
    }
    return r;
}

static uint32_t table_value(void) {
    uint32_t t = 0;
    for (int i = 0; i < 6; i++) t += coef[i] * (uint32_t)(i + 1);
    return t;
}

int main(void) {
    uint32_t acc = 0;
    for (uint32_t x = 0; x < 9000000u; x++) acc ^= poly(x) + table_value();
    printf("checksum %u\n", acc);
    return 0;
}
