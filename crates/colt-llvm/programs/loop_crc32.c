/* loop unrolling: bitwise CRC-32 with a fixed 8-iteration inner loop. */
#include <stdio.h>
#include <stdint.h>

static uint32_t crc32_byte(uint32_t crc, uint8_t b) {
    crc ^= b;
    for (int k = 0; k < 8; k++) {
        uint32_t mask = -(crc & 1u);
        crc = (crc >> 1) ^ (0xEDB88320u & mask);
    }
    return crc;
}

int main(void) {
    static uint8_t buf[4096];
    uint32_t seed = 12345u;
    for (int i = 0; i < 4096; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    uint32_t total = 0;
    for (int rep = 0; rep < 1000; rep++) {
        uint32_t crc = 0xFFFFFFFFu ^ (uint32_t)rep;
        for (int i = 0; i < 4096; i++) crc = crc32_byte(crc, buf[i]);
        total ^= crc + (uint32_t)rep;
    }
    printf("checksum %u\n", total);
    return 0;
}
