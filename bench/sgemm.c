/* bench/sgemm.c — this machine's single-precision GEMM peak through OpenBLAS,
 * the yardstick for "share of SGEMM peak" in bench/run.sh.
 *
 *   cc -O2 bench/sgemm.c -o sgemm -lopenblas
 *   OPENBLAS_CORETYPE=SkylakeX ./sgemm THREADS [SIZE [REPEATS]]
 *
 * Times C = A·B with M = N = K = SIZE (default 2048), row-major, no
 * transposes, on THREADS OpenBLAS threads (openblas_set_num_threads): one
 * untimed warm-up, then the best of REPEATS (default 5). Prints one JSON
 * line: gflops (2·M·N·K / best seconds / 1e9), seconds, threads, size and
 * core (openblas_get_corename(): the kernels in use — Debian's OpenBLAS
 * picks generic ones on CPUs it does not know, unless OPENBLAS_CORETYPE
 * says otherwise, so run it with the core type our tools choose).
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Declared by OpenBLAS's cblas.h; repeated in case another cblas.h is found. */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s THREADS [SIZE [REPEATS]]\n", argv[0]);
        return 64;
    }
    int threads = atoi(argv[1]);
    int n = argc > 2 ? atoi(argv[2]) : 2048;
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    if (threads < 1 || n < 1 || repeats < 1) {
        fprintf(stderr, "%s: THREADS, SIZE and REPEATS must be positive\n", argv[0]);
        return 64;
    }
    openblas_set_num_threads(threads);

    size_t count = (size_t)n * n;
    float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b), *c = malloc(count * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 1;
    }
    unsigned s = 12345;  /* small values in [-0.5, 0.5): no overflow, no denormals */
    for (size_t i = 0; i < count; i++) {
        s = s * 1103515245u + 12345u; a[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
        s = s * 1103515245u + 12345u; b[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
        c[i] = 0;
    }

    double best = 1e30;
    for (int r = -1; r < repeats; r++) {  /* r = -1: warm-up */
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                    1.0f, a, n, b, n, 0.0f, c, n);
        double t = now() - t0;
        if (r >= 0 && t < best) best = t;
    }
    double checksum = 0;  /* keeps the product observable */
    for (size_t i = 0; i < count; i += 4099) checksum += c[i];

    double gflops = 2.0 * n * n * (double)n / best / 1e9;
    const char *core = openblas_get_corename();
    printf("{\"gflops\": %.1f, \"seconds\": %.5f, \"threads\": %d, \"size\": %d, "
           "\"repeats\": %d, \"core\": \"%s\", \"checksum\": %.3f}\n",
           gflops, best, threads, n, repeats, core ? core : "unknown", checksum);
    free(a); free(b); free(c);
    return 0;
}
