/* Not one of colt's bundled programs: word and letter statistics over generated text. */
#include <stdio.h>
#include <string.h>

static const char *words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};

static int count_vowels(const char *w) {
    int n = 0;
    for (; *w; w++) n += strchr("aeiou", *w) != NULL;
    return n;
}

int main(void) {
    unsigned long letters[26] = {0};
    unsigned long vowels = 0, total = 0, x = 12345;
    for (int i = 0; i < 400000; i++) {
        x = x * 1103515245ul + 12345ul;
        const char *w = words[(x >> 16) % 8];
        vowels += (unsigned long)count_vowels(w);
        for (const char *c = w; *c; c++) letters[*c - 'a']++, total++;
    }
    unsigned long h = vowels;
    for (int i = 0; i < 26; i++) h = h * 31ul + letters[i];
    printf("checksum %lu %lu\n", h, total);
    return 0;
}
