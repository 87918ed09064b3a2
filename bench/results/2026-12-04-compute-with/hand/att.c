#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
#define H 32
#define N 256
#define D 128
__attribute__((__simd__("notinbranch"))) extern float expf(float);
static inline float cmax(float a, float b) { return (a > b || b != b) ? a : b; }
#define PR _Pragma("omp parallel for schedule(static)")
/* per-head stage bodies; S,E,M,Z,Ou point at the head's slice */
static void pack(const float* restrict K, float* restrict Kp) {
  for (int jb = 0; jb < N / 16; jb++) for (int d = 0; d < D; d++)
#pragma omp simd
    for (int v = 0; v < 16; v++) Kp[jb * D * 16 + d * 16 + v] = K[(jb * 16 + v) * D + d];
}
static void qk(const float* restrict Q, const float* restrict Kp, float* restrict S) {
  for (int i0 = 0; i0 < N; i0 += 4) {
    for (int jb = 0; jb < N / 16; jb++) {
      __m256 a00=_mm256_setzero_ps(),a01=a00,a10=a00,a11=a00,a20=a00,a21=a00,a30=a00,a31=a00;
      const float* kp = Kp + jb * D * 16;
      for (int d = 0; d < D; d++) {
        __m256 k0=_mm256_load_ps(kp+d*16), k1=_mm256_load_ps(kp+d*16+8), q;
        q=_mm256_broadcast_ss(Q+(i0+0)*D+d); a00=_mm256_fmadd_ps(q,k0,a00); a01=_mm256_fmadd_ps(q,k1,a01);
        q=_mm256_broadcast_ss(Q+(i0+1)*D+d); a10=_mm256_fmadd_ps(q,k0,a10); a11=_mm256_fmadd_ps(q,k1,a11);
        q=_mm256_broadcast_ss(Q+(i0+2)*D+d); a20=_mm256_fmadd_ps(q,k0,a20); a21=_mm256_fmadd_ps(q,k1,a21);
        q=_mm256_broadcast_ss(Q+(i0+3)*D+d); a30=_mm256_fmadd_ps(q,k0,a30); a31=_mm256_fmadd_ps(q,k1,a31);
      }
      float* s0 = S + i0*N + jb*16;
      _mm256_storeu_ps(s0,a00);_mm256_storeu_ps(s0+8,a01);_mm256_storeu_ps(s0+N,a10);_mm256_storeu_ps(s0+N+8,a11);
      _mm256_storeu_ps(s0+2*N,a20);_mm256_storeu_ps(s0+2*N+8,a21);_mm256_storeu_ps(s0+3*N,a30);_mm256_storeu_ps(s0+3*N+8,a31);
    }
  }
}
static void rowmax(const float* restrict S, float* restrict M) {
  for (int i = 0; i < N; i++) { float a = -INFINITY;
#pragma omp simd reduction(max:a)
    for (int j = 0; j < N; j++) a = cmax(a, S[i * N + j]); M[i] = a; }
}
static void expst(const float* restrict S, const float* restrict M, float* restrict E) {
  for (int i = 0; i < N; i++)
#pragma omp simd
    for (int j = 0; j < N; j++) E[i * N + j] = expf((S[i * N + j] - M[i]) * 0.088388346f);
}
static void rowsum(const float* restrict E, float* restrict Z) {
  for (int i = 0; i < N; i++) { float a = 0;
#pragma omp simd reduction(+:a)
    for (int j = 0; j < N; j++) a += E[i * N + j]; Z[i] = a; }
}
static void pv(const float* restrict E, const float* restrict V, float* restrict Ou) {
  for (int i0 = 0; i0 < N; i0 += 4) for (int d0 = 0; d0 < D; d0 += 16) {
      __m256 a00=_mm256_setzero_ps(),a01=a00,a10=a00,a11=a00,a20=a00,a21=a00,a30=a00,a31=a00;
      for (int j = 0; j < N; j++) {
        __m256 k0=_mm256_loadu_ps(V+j*D+d0), k1=_mm256_loadu_ps(V+j*D+d0+8), q;
        q=_mm256_broadcast_ss(E+(i0+0)*N+j); a00=_mm256_fmadd_ps(q,k0,a00); a01=_mm256_fmadd_ps(q,k1,a01);
        q=_mm256_broadcast_ss(E+(i0+1)*N+j); a10=_mm256_fmadd_ps(q,k0,a10); a11=_mm256_fmadd_ps(q,k1,a11);
        q=_mm256_broadcast_ss(E+(i0+2)*N+j); a20=_mm256_fmadd_ps(q,k0,a20); a21=_mm256_fmadd_ps(q,k1,a21);
        q=_mm256_broadcast_ss(E+(i0+3)*N+j); a30=_mm256_fmadd_ps(q,k0,a30); a31=_mm256_fmadd_ps(q,k1,a31);
      }
      float* s0 = Ou + i0*D + d0;
      _mm256_storeu_ps(s0,a00);_mm256_storeu_ps(s0+8,a01);_mm256_storeu_ps(s0+D,a10);_mm256_storeu_ps(s0+D+8,a11);
      _mm256_storeu_ps(s0+2*D,a20);_mm256_storeu_ps(s0+2*D+8,a21);_mm256_storeu_ps(s0+3*D,a30);_mm256_storeu_ps(s0+3*D+8,a31);
  }
}
static void norm(const float* restrict Ou, const float* restrict Z, float* restrict O) {
  for (int i = 0; i < N; i++)
#pragma omp simd
    for (int d = 0; d < D; d++) O[i * D + d] = Ou[i * D + d] / Z[i];
}
#define HEAD(x, sz) (x + (long)h * (sz))
static void unfused(float** b) {
  float *Q=b[0],*K=b[1],*V=b[2],*S=b[3],*M=b[4],*E=b[5],*Z=b[6],*Ou=b[7],*O=b[8],*Kp=b[9];
  PR for (int h = 0; h < H; h++) pack(HEAD(K, N*D), HEAD(Kp, N*D));
  PR for (int h = 0; h < H; h++) qk(HEAD(Q, N*D), HEAD(Kp, N*D), HEAD(S, N*N));
  PR for (int h = 0; h < H; h++) rowmax(HEAD(S, N*N), HEAD(M, N));
  PR for (int h = 0; h < H; h++) expst(HEAD(S, N*N), HEAD(M, N), HEAD(E, N*N));
  PR for (int h = 0; h < H; h++) rowsum(HEAD(E, N*N), HEAD(Z, N));
  PR for (int h = 0; h < H; h++) pv(HEAD(E, N*N), HEAD(V, N*D), HEAD(Ou, N*D));
  PR for (int h = 0; h < H; h++) norm(HEAD(Ou, N*D), HEAD(Z, N), HEAD(O, N*D));
}
static void fused(float** b) {  /* same stages, one shared h loop, global buffers */
  float *Q=b[0],*K=b[1],*V=b[2],*S=b[3],*M=b[4],*E=b[5],*Z=b[6],*Ou=b[7],*O=b[8],*Kp=b[9];
  PR for (int h = 0; h < H; h++) {
    pack(HEAD(K, N*D), HEAD(Kp, N*D));
    qk(HEAD(Q, N*D), HEAD(Kp, N*D), HEAD(S, N*N));
    rowmax(HEAD(S, N*N), HEAD(M, N));
    expst(HEAD(S, N*N), HEAD(M, N), HEAD(E, N*N));
    rowsum(HEAD(E, N*N), HEAD(Z, N));
    pv(HEAD(E, N*N), HEAD(V, N*D), HEAD(Ou, N*D));
    norm(HEAD(Ou, N*D), HEAD(Z, N), HEAD(O, N*D));
  }
}
static void fused_local(float** b) {  /* shared h loop, per-head temporaries local */
  float *Q=b[0],*K=b[1],*V=b[2],*O=b[8];
  PR for (int h = 0; h < H; h++) {
    static __thread float S[N*N] __attribute__((aligned(64))), E[N*N] __attribute__((aligned(64)));
    static __thread float Kp[N*D] __attribute__((aligned(64))), Ou[N*D] __attribute__((aligned(64)));
    float M[N], Z[N];
    pack(HEAD(K, N*D), Kp);
    qk(HEAD(Q, N*D), Kp, S);
    rowmax(S, M);
    expst(S, M, E);
    rowsum(E, Z);
    pv(E, HEAD(V, N*D), Ou);
    norm(Ou, Z, HEAD(O, N*D));
  }
}
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(void) {
  long sz[10] = {H*N*D,H*N*D,H*N*D,H*N*N,H*N,H*N*N,H*N,H*N*D,H*N*D,H*N*D};
  void (*k[3])(float**) = {unfused, fused, fused_local};
  const char* nm[3] = {"unfused", "fused", "fused_local"};
  float* b[3][10];
  for (int v = 0; v < 3; v++) for (int i = 0; i < 10; i++) { b[v][i] = aligned_alloc(64, sz[i]*4);
    for (long j = 0; j < sz[i]; j++) b[v][i][j] = (float)((j*7919 + i*104729) % 1000) / 1000.0f; }
  for (int v = 0; v < 3; v++) { k[v](b[v]); k[v](b[v]); }
  for (long j = 0; j < sz[8]; j++) if (fabsf(b[0][8][j] - b[1][8][j]) > 1e-4f || fabsf(b[0][8][j] - b[2][8][j]) > 1e-4f) { printf("MISMATCH %ld\n", j); return 1; }
  double t[3][15];
  for (int r = 0; r < 15; r++) for (int vv = 0; vv < 3; vv++) { int v = (r & 1) ? 2 - vv : vv;
    double s = now(); for (int i = 0; i < 5; i++) k[v](b[v]); t[v][r] = (now() - s) / 5 * 1e6; }
  for (int v = 0; v < 3; v++) { double x[15]; memcpy(x, t[v], sizeof x);
    for (int i = 0; i < 15; i++) for (int j = i+1; j < 15; j++) if (x[j] < x[i]) { double y = x[i]; x[i] = x[j]; x[j] = y; }
    printf("%-12s median %.0f us  min %.0f  max %.0f\n", nm[v], x[7], x[0], x[14]); }
}
