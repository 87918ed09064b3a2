/* function inlining: small vector helpers called in a hot loop. */
#include <stdio.h>
#include <stdint.h>

typedef struct { int32_t x, y, z; } vec3;

static vec3 add(vec3 a, vec3 b) { vec3 r = {a.x + b.x, a.y + b.y, a.z + b.z}; return r; }
static vec3 scale(vec3 a, int32_t k) { vec3 r = {a.x * k, a.y * k, a.z * k}; return r; }
static int32_t dot(vec3 a, vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static vec3 cross(vec3 a, vec3 b) {
    vec3 r = {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
    return r;
}
static vec3 wrap(vec3 a) { vec3 r = {a.x & 1023, a.y & 1023, a.z & 1023}; return r; }

int main(void) {
    vec3 p = {1, 2, 3}, v = {3, 5, 7};
    uint32_t acc = 0;
    for (int i = 0; i < 2500000; i++) {
        vec3 c = cross(p, v);
        p = wrap(add(p, scale(v, (i & 3) + 1)));
        v = wrap(add(v, c));
        acc += (uint32_t)dot(p, c);
    }
    printf("checksum %u\n", acc);
    return 0;
}
