// The kernels' entry points (include/kernels.h): each calls the table of the
// instruction set in use (kernels_table.h), chosen at start-up as the best
// the CPU runs; the per-step products are named by index over every set's
// tile variants and, where built in, libxsmm's JIT kernels.
#include "kernels.h"
#include "kernels_table.h"
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__) && __has_include(<libxsmm.h>)
#include <libxsmm.h>
#define CHARRNN_HAVE_LIBXSMM 1
#else
#define CHARRNN_HAVE_LIBXSMM 0
#endif

static const struct charrnn_kernel_table *tables[CHARRNN_ISA_COUNT] = {
    &charrnn_kernels_portable,
#if defined(__x86_64__)
    &charrnn_kernels_avx2,
    &charrnn_kernels_avx512,
#else
    NULL,
    NULL,
#endif
};

const char *charrnn_isa_name(int isa) {
    static const char *names[CHARRNN_ISA_COUNT] = {"portable", "avx2", "avx512"};
    return isa >= 0 && isa < CHARRNN_ISA_COUNT ? names[isa] : "unknown";
}

int charrnn_isa_supported(int isa) {
    if (isa < 0 || isa >= CHARRNN_ISA_COUNT || !tables[isa]) return 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (isa == CHARRNN_ISA_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == CHARRNN_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
#endif
    return isa == CHARRNN_ISA_PORTABLE;
}

int charrnn_isa_best(void) {
    for (int isa = CHARRNN_ISA_COUNT - 1; isa > 0; isa--)
        if (charrnn_isa_supported(isa)) return isa;
    return CHARRNN_ISA_PORTABLE;
}

static const struct charrnn_kernel_table *active = &charrnn_kernels_portable;
static int active_isa = CHARRNN_ISA_PORTABLE;

__attribute__((constructor)) static void choose_isa(void) { charrnn_use_isa(charrnn_isa_best()); }

void charrnn_use_isa(int isa) {
    if (!charrnn_isa_supported(isa)) return;
    active = tables[isa];
    active_isa = isa;
}

int charrnn_isa_in_use(void) { return active_isa; }

// ---- Element-wise kernels ------------------------------------------------------------

void charrnn_vexp(const float *x, float *y, long n) { active->vexp(x, y, n); }
void charrnn_vsigmoid(const float *x, float *y, long n) { active->vsigmoid(x, y, n); }
void charrnn_vtanh(const float *x, float *y, long n) { active->vtanh(x, y, n); }

void charrnn_lstm_forward(float *gates, const float *bias, const float *c_prev, float *c_next, float *tanh_c,
                          float *h_next, long rows, long H) {
    active->lstm_forward(gates, bias, c_prev, c_next, tanh_c, h_next, rows, H);
}
void charrnn_lstm_backward(const float *acts, const float *c_prev, const float *tanh_c, const float *d_above,
                           const float *dh_next, float *dc_next, float *d_pre, long rows, long H) {
    active->lstm_backward(acts, c_prev, tanh_c, d_above, dh_next, dc_next, d_pre, rows, H);
}
void charrnn_gru_forward(float *xg, const float *bias, const float *hg, const float *h_prev, float *h_next, long rows,
                         long H) {
    active->gru_forward(xg, bias, hg, h_prev, h_next, rows, H);
}
void charrnn_gru_backward(const float *acts, const float *hg, const float *h_prev, const float *d_above,
                          float *dh_next, float *d_x, float *d_h, long rows, long H) {
    active->gru_backward(acts, hg, h_prev, d_above, dh_next, d_x, d_h, rows, H);
}
void charrnn_rnn_forward(float *pre, const float *bias, float *h_next, long rows, long H) {
    active->rnn_forward(pre, bias, h_next, rows, H);
}
void charrnn_rnn_backward(const float *acts, const float *d_above, const float *dh_next, float *d_pre, long rows,
                          long H) {
    active->rnn_backward(acts, d_above, dh_next, d_pre, rows, H);
}
void charrnn_bias_gather(float *out, const float *bias, const float *table, const int32_t *ids, long rows,
                         long width) {
    active->bias_gather(out, bias, table, ids, rows, width);
}
double charrnn_softmax_xent(float *z, const float *bias, const int32_t *targets, long rows, long V, float scale) {
    return active->softmax_xent(z, bias, targets, rows, V, scale);
}
void charrnn_scatter_add(float *table, const float *src, const int32_t *ids, long rows, long width) {
    active->scatter_add(table, src, ids, rows, width);
}
void charrnn_add_column_sums_ld(const float *m, long rows, long cols, long ld, float *out) {
    active->add_column_sums_ld(m, rows, cols, ld, out);
}
void charrnn_scatter_add_ld(float *table, long ldt, const float *src, long lds, const int32_t *ids, long rows,
                            long width) {
    active->scatter_add_ld(table, ldt, src, lds, ids, rows, width);
}
void charrnn_mul(float *y, const float *m, long n) { active->mul(y, m, n); }
void charrnn_mul_to(float *y, const float *x, const float *m, long n) { active->mul_to(y, x, m, n); }
void charrnn_clip(float *g, long n, float limit) { active->clip(g, n, limit); }
void charrnn_rmsprop(float *x, const float *g, float *m, long n, float lr, float a, float eps) {
    active->rmsprop(x, g, m, n, lr, a, eps);
}
void charrnn_adam(float *x, const float *g, float *m, float *v, long n, float step_size, float b1, float b2,
                  float c2root, float eps) {
    active->adam(x, g, m, v, n, step_size, b1, b2, c2root, eps);
}

// ---- Per-step products -------------------------------------------------------------

#if CHARRNN_HAVE_LIBXSMM
/// libxsmm's JIT kernel over the same panels. libxsmm is column-major: per
/// panel of w columns, C^T (w × m, ldc) = panel (w × k, ld w) · A^T (k × m,
/// lda), our row-major matrices read as their transposes. A start from
/// other rows is copied into C first, then added to (beta 1).
static pthread_once_t xsmm_once = PTHREAD_ONCE_INIT;
static void xsmm_init(void) { libxsmm_init(); }

static void xsmm_gemm(int panel, int m, int n, int k, const float *A, long lda, const float *packed, float *C,
                      long ldc, const float *init, const int32_t *ids, long ld_init) {
    // libxsmm starts (its JIT code registry, about 11 MB resident) only
    // when one of its kernels is first used.
    pthread_once(&xsmm_once, xsmm_init);
    float alpha = 1, beta = init ? 1 : 0;
    if (init && (init != C || ids)) {
        for (int i = 0; i < m; i++)
            memcpy(C + (long)i * ldc, init + (ids ? (long)ids[i] : (long)i) * ld_init, (size_t)n * sizeof(float));
    }
    if (k == 0) {
        if (!init)
            for (int i = 0; i < m; i++) memset(C + (long)i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    int flags = LIBXSMM_GEMM_FLAG_NONE;
    libxsmm_blasint xn = m, xk = k, xldb = lda, xldc = ldc;
    libxsmm_smmfunction full = NULL;
    for (int j0 = 0; j0 < n; j0 += panel) {
        int w = n - j0 < panel ? n - j0 : panel;
        libxsmm_smmfunction f = w == panel ? full : NULL;
        if (!f) {
            libxsmm_blasint xm = w, xlda = w;
            f = libxsmm_smmdispatch(xm, xn, xk, &xlda, &xldb, &xldc, &alpha, &beta, &flags, NULL);
            if (w == panel) full = f;
        }
        const float *p0 = packed + (long)j0 * k;
        if (f) {
            f(p0, A, C + j0);
        } else {  // no JIT kernel for this shape (not seen): plain loops
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < w; c++) {
                    float s = init ? C[(long)i * ldc + j0 + c] : 0;
                    for (int p = 0; p < k; p++) s += A[(long)i * lda + p] * p0[(long)p * w + c];
                    C[(long)i * ldc + j0 + c] = s;
                }
            }
        }
    }
}
static void xsmm_gemm_32(int m, int n, int k, const float *A, long lda, const float *packed, float *C, long ldc,
                         const float *init, const int32_t *ids, long ld_init) {
    xsmm_gemm(32, m, n, k, A, lda, packed, C, ldc, init, ids, ld_init);
}
static void xsmm_gemm_64(int m, int n, int k, const float *A, long lda, const float *packed, float *C, long ldc,
                         const float *init, const int32_t *ids, long ld_init) {
    xsmm_gemm(64, m, n, k, A, lda, packed, C, ldc, init, ids, ld_init);
}
#endif

struct kernel_entry {
    const char *name;
    int isa;
    int panel;
    charrnn_gemm_fn gemm;
};
#define MAX_KERNELS (CHARRNN_ISA_COUNT * CHARRNN_MAX_VARIANTS + 2)
static struct kernel_entry kernels[MAX_KERNELS];
static int kernel_count = 0;
static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;

static void list_kernels(void) {
    for (int isa = 0; isa < CHARRNN_ISA_COUNT; isa++) {
        if (!tables[isa]) continue;
        for (int v = 0; v < tables[isa]->variant_count; v++) {
            const struct charrnn_gemm_variant *var = &tables[isa]->variants[v];
            kernels[kernel_count++] = (struct kernel_entry){var->name, isa, var->panel, var->gemm};
        }
    }
#if CHARRNN_HAVE_LIBXSMM
    kernels[kernel_count++] = (struct kernel_entry){"libxsmm-32", -1, 32, xsmm_gemm_32};
    kernels[kernel_count++] = (struct kernel_entry){"libxsmm-64", -1, 64, xsmm_gemm_64};
#endif
}

static const struct kernel_entry *kernel_at(int kernel) {
    pthread_once(&kernels_once, list_kernels);
    return kernel >= 0 && kernel < kernel_count ? &kernels[kernel] : NULL;
}

int charrnn_gemm_kernel_count(void) {
    pthread_once(&kernels_once, list_kernels);
    return kernel_count;
}
const char *charrnn_gemm_kernel_name(int kernel) {
    const struct kernel_entry *e = kernel_at(kernel);
    return e ? e->name : "unknown";
}
int charrnn_gemm_kernel_isa(int kernel) {
    const struct kernel_entry *e = kernel_at(kernel);
    return e ? e->isa : -1;
}
int charrnn_gemm_kernel_panel(int kernel) {
    const struct kernel_entry *e = kernel_at(kernel);
    return e ? e->panel : 0;
}
int charrnn_gemm_kernel_available(int kernel) {
    const struct kernel_entry *e = kernel_at(kernel);
    return e && (e->isa < 0 || charrnn_isa_supported(e->isa));
}

const char *charrnn_libxsmm_version(void) {
#if CHARRNN_HAVE_LIBXSMM
    return LIBXSMM_VERSION;
#else
    return NULL;
#endif
}

void charrnn_pack_panels(int k, int n, const float *B, long ldb, int transposed, int panel, float *packed) {
    for (int j0 = 0; j0 < n; j0 += panel) {
        int w = n - j0 < panel ? n - j0 : panel;
        float *dst = packed + (long)j0 * k;
        if (!transposed) {
            for (int p = 0; p < k; p++) memcpy(dst + (long)p * w, B + (long)p * ldb + j0, (size_t)w * sizeof(float));
            continue;
        }
        // A transpose in blocks of 16 rows of k, so the block being written
        // (16 × w floats) stays in L1 while W's rows are read in order.
        for (int p0 = 0; p0 < k; p0 += 16) {
            int pe = k - p0 < 16 ? k : p0 + 16;
            for (int c = 0; c < w; c++) {
                const float *src = B + (long)(j0 + c) * ldb;
                for (int p = p0; p < pe; p++) dst[(long)p * w + c] = src[p];
            }
        }
    }
}

void charrnn_gemm_packed(int kernel, int m, int n, int k, const float *A, long lda, const float *packed, float *C,
                         long ldc, int accumulate) {
    kernel_at(kernel)->gemm(m, n, k, A, lda, packed, C, ldc, accumulate ? C : NULL, NULL, ldc);
}

void charrnn_gemm_packed_gather(int kernel, int m, int n, int k, const float *A, long lda, const float *packed,
                                float *C, long ldc, const float *table, const int32_t *ids) {
    kernel_at(kernel)->gemm(m, n, k, A, lda, packed, C, ldc, table, ids, n);
}
