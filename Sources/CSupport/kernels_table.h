// The kernels one instruction set provides: kernels_impl.h is compiled once
// per instruction set (kernels_avx512.c, kernels_avx2.c, kernels_portable.c)
// into one of these tables, and kernels.c calls through the table chosen
// for the running CPU. Signatures as in include/kernels.h.
#ifndef CHARRNN_KERNELS_TABLE_H
#define CHARRNN_KERNELS_TABLE_H

#include <stdint.h>

/// C (m×n, ldc) = init + A (m×k, lda) · B, B packed in panels of the
/// variant's width by charrnn_pack_panels. Row i of init is
/// init + (ids ? ids[i] : i) · ld_init; no init: 0. n a multiple of the
/// vector width.
typedef void (*charrnn_gemm_fn)(int m, int n, int k, const float *A, long lda, const float *packed, float *C,
                                long ldc, const float *init, const int32_t *ids, long ld_init);

/// A register-tile shape of the packed product: `rows` rows of A times a
/// panel of `panel` columns per step of k.
struct charrnn_gemm_variant {
    const char *name;
    int panel;
    int rows;
    charrnn_gemm_fn gemm;
};

#define CHARRNN_MAX_VARIANTS 4

struct charrnn_kernel_table {
    const char *isa;
    int lanes;
    void (*vexp)(const float *, float *, long);
    void (*vsigmoid)(const float *, float *, long);
    void (*vtanh)(const float *, float *, long);
    void (*lstm_forward)(float *, const float *, const float *, float *, float *, float *, long, long);
    void (*lstm_backward)(const float *, const float *, const float *, const float *, const float *, float *, float *,
                          long, long);
    void (*gru_forward)(float *, const float *, const float *, const float *, float *, long, long);
    void (*gru_backward)(const float *, const float *, const float *, const float *, float *, float *, float *, long,
                         long);
    void (*rnn_forward)(float *, const float *, float *, long, long);
    void (*rnn_backward)(const float *, const float *, const float *, float *, long, long);
    double (*softmax_xent)(float *, const float *, const int32_t *, long, long, float);
    void (*bias_gather)(float *, const float *, const float *, const int32_t *, long, long);
    void (*scatter_add)(float *, const float *, const int32_t *, long, long);
    void (*add_column_sums_ld)(const float *, long, long, long, float *);
    void (*scatter_add_ld)(float *, long, const float *, long, const int32_t *, long, long);
    void (*mul)(float *, const float *, long);
    void (*mul_to)(float *, const float *, const float *, long);
    void (*clip)(float *, long, float);
    void (*rmsprop)(float *, const float *, float *, long, float, float, float);
    void (*adam)(float *, const float *, float *, float *, long, float, float, float, float, float);
    int variant_count;
    struct charrnn_gemm_variant variants[CHARRNN_MAX_VARIANTS];
};

extern const struct charrnn_kernel_table charrnn_kernels_portable;
#if defined(__x86_64__)
extern const struct charrnn_kernel_table charrnn_kernels_avx2;
extern const struct charrnn_kernel_table charrnn_kernels_avx512;
#endif

#endif
