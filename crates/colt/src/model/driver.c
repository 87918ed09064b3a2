// The timing driver of `colt model bench`, linked with a model's libmodel.a:
//     run IN OUT REPEATS MIN_REPEAT_MS
// reads the inputs from IN (raw float32, back to back, in model.h's order), calls model_run
// once to warm up, picks how many back-to-back calls make one repeat last MIN_REPEAT_MS,
// times REPEATS such repeats, writes the outputs to OUT and prints one JSON line: the median
// and minimum per-call microseconds.
#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static float* alloc(long long n) {
    size_t bytes = ((size_t)n * 4 + 63) / 64 * 64;
    return (float*)aligned_alloc(64, bytes ? bytes : 64);
}

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s IN OUT REPEATS MIN_REPEAT_MS\n", argv[0]);
        return 2;
    }
    int repeats = atoi(argv[3]);
    double min_s = atof(argv[4]) / 1e3;
    float* ins[MODEL_NUM_INPUTS + 1];
    float* outs[MODEL_NUM_OUTPUTS + 1];
    FILE* in = fopen(argv[1], "rb");
    if (!in || repeats < 1) return 2;
    for (int j = 0; j < MODEL_NUM_INPUTS; j++) {
        ins[j] = alloc(model_input_sizes[j]);
        if (fread(ins[j], 4, model_input_sizes[j], in) != (size_t)model_input_sizes[j]) return 2;
    }
    fclose(in);
    for (int j = 0; j < MODEL_NUM_OUTPUTS; j++) outs[j] = alloc(model_output_sizes[j]);
    const float* const* x = (const float* const*)ins;
    if (model_run(x, outs)) return 3;
    long calls = 0;
    double t0 = now();
    do {
        model_run(x, outs);
        calls++;
    } while (now() - t0 < min_s);
    double* per = (double*)malloc(sizeof(double) * repeats);
    for (int r = 0; r < repeats; r++) {
        double t = now();
        for (long i = 0; i < calls; i++) model_run(x, outs);
        per[r] = (now() - t) / (double)calls * 1e6;
    }
    qsort(per, repeats, sizeof(double), cmp);
    double median = repeats % 2 ? per[repeats / 2] : (per[repeats / 2 - 1] + per[repeats / 2]) / 2;
    FILE* out = fopen(argv[2], "wb");
    if (!out) return 2;
    for (int j = 0; j < MODEL_NUM_OUTPUTS; j++) fwrite(outs[j], 4, model_output_sizes[j], out);
    fclose(out);
    printf("{\"median_us\": %.4f, \"min_us\": %.4f, \"calls_per_repeat\": %ld, \"repeats\": %d}\n",
           median, per[0], calls, repeats);
    return 0;
}
