// Fused element-wise kernels for one timestep of LSTM/GRU/RNN (forward and
// backward) over `rows` batch rows, vector exp/sigmoid/tanh and softmax, the
// optimisers, and the per-step matrix products against packed weights; each
// built for AVX-512, AVX2 + FMA and a portable baseline and chosen at run
// time. H = hidden size; gate blocks are PyTorch's order.
#ifndef CHARRNN_KERNELS_H
#define CHARRNN_KERNELS_H

/// y[i] = e^x[i], sigmoid(x[i]), tanh(x[i]) (the same approximations the
/// kernels use; relative error within a few Float ulps).
void charrnn_vexp(const float *x, float *y, long n);
void charrnn_vsigmoid(const float *x, float *y, long n);
void charrnn_vtanh(const float *x, float *y, long n);

/// LSTM forward: gates (rows, 4H) hold pre-activations i,f,g,o, to which
/// bias (4H, or NULL) is added, and are replaced by activations; c_next = f*c_prev + i*g; tanh_c = tanh(c_next);
/// h_next = o*tanh_c. c_prev, c_next, tanh_c, h_next are (rows, H).
void charrnn_lstm_forward(float *gates, const float *bias, const float *c_prev, float *c_next, float *tanh_c,
                          float *h_next, long rows, long H);

/// LSTM backward: from activations, c_prev, tanh_c, the gradient from above
/// (d_above) plus the carried dh_next and dc_next, writes d_pre (rows, 4H),
/// the gradient of the pre-activations, and updates dc_next in place.
void charrnn_lstm_backward(const float *acts, const float *c_prev, const float *tanh_c,
                           const float *d_above, const float *dh_next, float *dc_next,
                           float *d_pre, long rows, long H);

/// GRU forward: xg (rows, 3H) = W_ih x, to which bias (3H: b_ih, or NULL) is
/// added, replaced by r,z,n; hg (rows, 3H)
/// = W_hh h + b_hh; h_next = (1-z)*n + z*h_prev.
void charrnn_gru_forward(float *xg, const float *bias, const float *hg, const float *h_prev, float *h_next,
                         long rows, long H);

/// GRU backward: writes d_x (rows, 3H) for W_ih x + b_ih and d_h (rows, 3H)
/// for W_hh h + b_hh; dh_next is replaced by dh*z (the direct path; the
/// caller adds d_h · W_hh).
void charrnn_gru_backward(const float *acts, const float *hg, const float *h_prev,
                          const float *d_above, float *dh_next, float *d_x, float *d_h,
                          long rows, long H);

/// RNN forward: pre (rows, H) replaced by tanh(pre + bias) (bias H or NULL),
/// also copied to h_next.
void charrnn_rnn_forward(float *pre, const float *bias, float *h_next, long rows, long H);

/// RNN backward: d_pre = (d_above + dh_next) * (1 - v^2).
void charrnn_rnn_backward(const float *acts, const float *d_above, const float *dh_next,
                          float *d_pre, long rows, long H);

#include <stdint.h>

/// out[r] = (bias ? bias : 0) + (table ? table[ids[r]] : 0) for r < rows;
/// rows of `width`.
void charrnn_bias_gather(float *out, const float *bias, const float *table, const int32_t *ids,
                         long rows, long width);
/// Adds bias (V, or NULL) to each row of the logits z (rows, V) and returns
/// the summed cross-entropy of their softmax against targets (in double);
/// with scale != 0 each row becomes (softmax - onehot(target)) * scale,
/// else it keeps the (biased) logits.
double charrnn_softmax_xent(float *z, const float *bias, const int32_t *targets, long rows, long V, float scale);
/// table[ids[r]] += src[r] for r < rows (in order); rows of `width`.
void charrnn_scatter_add(float *table, const float *src, const int32_t *ids, long rows, long width);
/// out[j] += sum over r of m[r*ld + j] for j < cols (a column block of a
/// matrix whose rows are `ld` apart).
void charrnn_add_column_sums_ld(const float *m, long rows, long cols, long ld, float *out);
/// table[ids[r]*ldt ..+width] += src[r*lds ..+width] (a column block).
void charrnn_scatter_add_ld(float *table, long ldt, const float *src, long lds, const int32_t *ids,
                            long rows, long width);
/// y[i] *= m[i]
void charrnn_mul(float *y, const float *m, long n);
/// y[i] = x[i] * m[i]
void charrnn_mul_to(float *y, const float *x, const float *m, long n);
/// g[i] = clamp(g[i], -limit, limit)
void charrnn_clip(float *g, long n, float limit);
/// RMSprop: m = a m + (1-a) g^2; x -= lr g / (sqrt(m) + eps).
void charrnn_rmsprop(float *x, const float *g, float *m, long n, float lr, float a, float eps);
/// Adam with bias correction folded into step_size = lr / (1 - b1^t) and
/// c2root = sqrt(1 - b2^t).
void charrnn_adam(float *x, const float *g, float *m, float *v, long n, float step_size,
                  float b1, float b2, float c2root, float eps);

// ---- Instruction sets ------------------------------------------------------------
// Every kernel exists for each instruction set below (built from one source,
// kernels_impl.h); the element-wise ones run the set chosen with
// charrnn_use_isa, by default the best this CPU supports.
enum { CHARRNN_ISA_PORTABLE = 0, CHARRNN_ISA_AVX2 = 1, CHARRNN_ISA_AVX512 = 2, CHARRNN_ISA_COUNT = 3 };
/// "portable", "avx2", "avx512".
const char *charrnn_isa_name(int isa);
/// 1 when the set is built in and this CPU runs it.
int charrnn_isa_supported(int isa);
/// The best set this CPU runs.
int charrnn_isa_best(void);
/// The set the element-wise kernels use from now on (must be supported).
void charrnn_use_isa(int isa);
int charrnn_isa_in_use(void);

// ---- Per-step products against packed weights ----------------------------------
// Kernels for C (m×n) = A (m×k) · B with B packed once into column panels:
// the register-tile variants of every instruction set, and libxsmm's JIT
// kernels over the same panels where libxsmm is built in. A kernel is named
// by its index, 0 ..< charrnn_gemm_kernel_count().
int charrnn_gemm_kernel_count(void);
/// "avx2-16x5" (set, panel columns × tile rows), "libxsmm-32" (panel columns).
const char *charrnn_gemm_kernel_name(int kernel);
/// Its instruction set (CHARRNN_ISA_*), or -1 for a library's kernel.
int charrnn_gemm_kernel_isa(int kernel);
/// Columns per panel: what charrnn_pack_panels needs.
int charrnn_gemm_kernel_panel(int kernel);
/// 1 when this CPU runs it.
int charrnn_gemm_kernel_available(int kernel);
/// The libxsmm version built in, or NULL.
const char *charrnn_libxsmm_version(void);

/// Packs B (k×n, row-major; with `transposed`, B = W^T for W n×k with row
/// stride ldb) into panels of `panel` columns (the last may be narrower),
/// each panel's k rows contiguous (k·n floats).
void charrnn_pack_panels(int k, int n, const float *B, long ldb, int transposed, int panel, float *packed);
/// C (m×n, ldc) = A (m×k, lda) · B, plus C's old value with accumulate != 0;
/// B packed by charrnn_pack_panels with the kernel's panel width; n a
/// multiple of 16.
void charrnn_gemm_packed(int kernel, int m, int n, int k, const float *A, long lda, const float *packed, float *C,
                         long ldc, int accumulate);
/// C (m×n, ldc) = table[ids[i]] (rows of n) + A · B, B packed as above: a
/// product that starts from gathered rows (one-hot input projections).
void charrnn_gemm_packed_gather(int kernel, int m, int n, int k, const float *A, long lda, const float *packed,
                                float *C, long ldc, const float *table, const int32_t *ids);

#endif
