// Fused element-wise kernels (see kernels.h). The math helpers are inline,
// branch-free and use only +, *, /, min, max and bit casts, so the loops
// that call them vectorise.
#include "kernels.h"
#include <stdint.h>
#include <string.h>

static inline float bits_to_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t float_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

// e^x: x = n ln2 + r with |r| <= ln2/2 (n by the 1.5*2^23 rounding trick),
// a degree-7 Taylor polynomial for e^r, 2^n built in the exponent bits.
static inline float fast_exp(float x) {
    x = x < -87.3365447504f ? -87.3365447504f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f;
    float t = x * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t ni = float_to_bits(t) - 0x4B400000;
    return p * bits_to_float((ni + 127) << 23);
}

static inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// tanh(x) = x P(x^2) / Q(x^2) on [-7.9053, 7.9053] (±1 in float beyond).
static inline float fast_tanh(float x) {
    const float lim = 7.90531110763549805f;
    x = x < -lim ? -lim : x;
    x = x > lim ? lim : x;
    float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
}

void charrnn_vexp(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = fast_exp(x[i]);
}
void charrnn_vsigmoid(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = fast_sigmoid(x[i]);
}
void charrnn_vtanh(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = fast_tanh(x[i]);
}

// Each kernel works row by row through a helper whose pointer parameters are
// restrict (clang honours restrict on parameters), so the inner loop
// vectorises without runtime overlap checks.
#define VECTOR_LOOP _Pragma("clang loop vectorize(enable) vectorize_width(16) interleave_count(1)")

static inline void lstm_forward_row(float *restrict gi, float *restrict gf, float *restrict gg, float *restrict go,
                                    const float *restrict cp, float *restrict cn, float *restrict tc,
                                    float *restrict hn, long H) {
    VECTOR_LOOP
    for (long j = 0; j < H; j++) {
        float i = fast_sigmoid(gi[j]), f = fast_sigmoid(gf[j]);
        float g = fast_tanh(gg[j]), o = fast_sigmoid(go[j]);
        gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;
        float c = f * cp[j] + i * g;
        float t = fast_tanh(c);
        cn[j] = c; tc[j] = t; hn[j] = o * t;
    }
}

void charrnn_lstm_forward(float *gates, const float *c_prev, float *c_next, float *tanh_c,
                          float *h_next, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *g = gates + b * 4 * H;
        lstm_forward_row(g, g + H, g + 2 * H, g + 3 * H, c_prev + b * H, c_next + b * H,
                         tanh_c + b * H, h_next + b * H, H);
    }
}

static inline void lstm_backward_row(const float *restrict ai, const float *restrict af, const float *restrict ag,
                                     const float *restrict ao, const float *restrict cp, const float *restrict tc,
                                     const float *restrict da, const float *restrict dhn, float *restrict dcn,
                                     float *restrict di, float *restrict df, float *restrict dg, float *restrict dout,
                                     long H) {
    VECTOR_LOOP
    for (long j = 0; j < H; j++) {
        float i = ai[j], f = af[j], g = ag[j], o = ao[j], t = tc[j];
        float dh = da[j] + dhn[j];
        float dc = dcn[j] + dh * o * (1.0f - t * t);
        di[j] = dc * g * i * (1.0f - i);
        df[j] = dc * cp[j] * f * (1.0f - f);
        dg[j] = dc * i * (1.0f - g * g);
        dout[j] = dh * t * o * (1.0f - o);
        dcn[j] = dc * f;
    }
}

void charrnn_lstm_backward(const float *acts, const float *c_prev, const float *tanh_c,
                           const float *d_above, const float *dh_next, float *dc_next,
                           float *d_pre, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        const float *a = acts + b * 4 * H;
        float *d = d_pre + b * 4 * H;
        lstm_backward_row(a, a + H, a + 2 * H, a + 3 * H, c_prev + b * H, tanh_c + b * H, d_above + b * H,
                          dh_next + b * H, dc_next + b * H, d, d + H, d + 2 * H, d + 3 * H, H);
    }
}

static inline void gru_forward_row(float *restrict xr, float *restrict xz, float *restrict xn,
                                   const float *restrict hr, const float *restrict hz, const float *restrict hn,
                                   const float *restrict hp, float *restrict ho, long H) {
    VECTOR_LOOP
    for (long j = 0; j < H; j++) {
        float r = fast_sigmoid(xr[j] + hr[j]);
        float z = fast_sigmoid(xz[j] + hz[j]);
        float n = fast_tanh(xn[j] + r * hn[j]);
        xr[j] = r; xz[j] = z; xn[j] = n;
        ho[j] = (1.0f - z) * n + z * hp[j];
    }
}

void charrnn_gru_forward(float *xg, const float *hg, const float *h_prev, float *h_next,
                         long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *x = xg + b * 3 * H;
        const float *h = hg + b * 3 * H;
        gru_forward_row(x, x + H, x + 2 * H, h, h + H, h + 2 * H, h_prev + b * H, h_next + b * H, H);
    }
}

static inline void gru_backward_row(const float *restrict ar, const float *restrict az, const float *restrict an,
                                    const float *restrict hn, const float *restrict hp, const float *restrict da,
                                    float *restrict dhn, float *restrict dxr, float *restrict dxz, float *restrict dxn,
                                    float *restrict dhr, float *restrict dhz, float *restrict dhnn, long H) {
    VECTOR_LOOP
    for (long j = 0; j < H; j++) {
        float r = ar[j], z = az[j], n = an[j];
        float dh = da[j] + dhn[j];
        float dn = dh * (1.0f - z) * (1.0f - n * n);
        float dz = dh * (hp[j] - n) * z * (1.0f - z);
        float dr = dn * hn[j] * r * (1.0f - r);
        dxr[j] = dr; dxz[j] = dz; dxn[j] = dn;
        dhr[j] = dr; dhz[j] = dz; dhnn[j] = dn * r;
        dhn[j] = dh * z;
    }
}

void charrnn_gru_backward(const float *acts, const float *hg, const float *h_prev,
                          const float *d_above, float *dh_next, float *d_x, float *d_h,
                          long rows, long H) {
    for (long b = 0; b < rows; b++) {
        const float *a = acts + b * 3 * H;
        float *x = d_x + b * 3 * H, *h = d_h + b * 3 * H;
        gru_backward_row(a, a + H, a + 2 * H, hg + b * 3 * H + 2 * H, h_prev + b * H, d_above + b * H,
                         dh_next + b * H, x, x + H, x + 2 * H, h, h + H, h + 2 * H, H);
    }
}

static inline void rnn_forward_row(float *restrict pre, float *restrict h_next, long n) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float v = fast_tanh(pre[i]);
        pre[i] = v;
        h_next[i] = v;
    }
}

void charrnn_rnn_forward(float *pre, float *h_next, long rows, long H) {
    rnn_forward_row(pre, h_next, rows * H);
}

static inline void rnn_backward_row(const float *restrict acts, const float *restrict d_above,
                                    const float *restrict dh_next, float *restrict d_pre, long n) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float v = acts[i];
        d_pre[i] = (d_above[i] + dh_next[i]) * (1.0f - v * v);
    }
}

void charrnn_rnn_backward(const float *acts, const float *d_above, const float *dh_next,
                          float *d_pre, long rows, long H) {
    rnn_backward_row(acts, d_above, dh_next, d_pre, rows * H);
}

void charrnn_bias_gather(float *out, const float *bias, const float *table, const int32_t *ids,
                         long rows, long width) {
    for (long r = 0; r < rows; r++) {
        float *restrict o = out + r * width;
        const float *restrict b = bias;
        if (table) {
            const float *restrict t = table + (long)ids[r] * width;
            VECTOR_LOOP
            for (long j = 0; j < width; j++) o[j] = b[j] + t[j];
        } else {
            memcpy(o, b, (size_t)width * sizeof(float));
        }
    }
}

static inline void add_row(float *restrict dst, const float *restrict src, long n) {
    VECTOR_LOOP
    for (long j = 0; j < n; j++) dst[j] += src[j];
}

void charrnn_scatter_add(float *table, const float *src, const int32_t *ids, long rows, long width) {
    for (long r = 0; r < rows; r++) add_row(table + (long)ids[r] * width, src + r * width, width);
}

void charrnn_add_column_sums(const float *m, long rows, long cols, float *out) {
    for (long r = 0; r < rows; r++) add_row(out, m + r * cols, cols);
}

void charrnn_mul(float *restrict y, const float *restrict m, long n) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) y[i] *= m[i];
}

void charrnn_mul_to(float *restrict y, const float *restrict x, const float *restrict m, long n) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) y[i] = x[i] * m[i];
}

void charrnn_clip(float *restrict g, long n, float limit) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float v = g[i];
        v = v < -limit ? -limit : v;
        g[i] = v > limit ? limit : v;
    }
}

void charrnn_rmsprop(float *restrict x, const float *restrict g, float *restrict m, long n,
                     float lr, float a, float eps) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        float mi = a * m[i] + (1.0f - a) * gi * gi;
        m[i] = mi;
        x[i] -= lr * gi / (__builtin_sqrtf(mi) + eps);
    }
}

void charrnn_adam(float *restrict x, const float *restrict g, float *restrict m, float *restrict v, long n,
                  float step_size, float b1, float b2, float c2root, float eps) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        x[i] -= step_size * mi / (__builtin_sqrtf(vi) / c2root + eps);
    }
}

void charrnn_add_column_sums_ld(const float *m, long rows, long cols, long ld, float *out) {
    for (long r = 0; r < rows; r++) add_row(out, m + r * ld, cols);
}

void charrnn_scatter_add_ld(float *table, long ldt, const float *src, long lds, const int32_t *ids,
                            long rows, long width) {
    for (long r = 0; r < rows; r++) add_row(table + (long)ids[r] * ldt, src + r * lds, width);
}

// ---- Recurrent products against weights packed once per iteration ------------
// OpenBLAS packs B on every call; for the per-step products (a batch's rows
// times W_hh, 50 steps × 2 directions per layer and iteration) that repacks
// the same unchanged weights 100 times an iteration, as costly as the
// products themselves at H = 512. Here W_hh is packed once per forward and
// once per backward into panels of 64 columns (each panel's k rows
// contiguous, so it streams from L2 without cache-set conflicts), and a
// 5- or 4-row × 64-column register tile (20 or 16 accumulators) multiplies
// against it.
typedef float charrnn_v16 __attribute__((vector_size(64), aligned(4)));

static inline charrnn_v16 v16_load(const float *p) { return *(const charrnn_v16 *)p; }
static inline void v16_store(float *p, charrnn_v16 v) { *(charrnn_v16 *)p = v; }

void charrnn_pack_panels(int k, int n, const float *B, long ldb, int transposed, float *packed) {
    for (int j0 = 0; j0 < n; j0 += 64) {
        int w = n - j0 < 64 ? n - j0 : 64;
        float *panel = packed + (long)j0 * k;
        for (int p = 0; p < k; p++) {
            for (int c = 0; c < w; c++) {
                panel[(long)p * w + c] = transposed ? B[(long)(j0 + c) * ldb + p] : B[(long)p * ldb + j0 + c];
            }
        }
    }
}

// C (m×n) += A (m×k) · B, B packed by charrnn_pack_panels; n a multiple of 16.
void charrnn_gemm_packed(int m, int n, int k, const float *A, long lda, const float *packed, float *C, long ldc) {
    for (int j0 = 0; j0 < n; j0 += 64) {
        int w = n - j0 < 64 ? n - j0 : 64;
        const float *panel = packed + (long)j0 * k;
        if (w == 64) {
            int i = 0;
            // 5 rows (20 accumulators): batches of 50 and 25 rows leave none over.
            for (; i + 5 <= m; i += 5) {
                float *c0 = C + (long)i * ldc + j0, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc, *c4 = c3 + ldc;
                charrnn_v16 a00 = v16_load(c0), a01 = v16_load(c0 + 16), a02 = v16_load(c0 + 32), a03 = v16_load(c0 + 48);
                charrnn_v16 a10 = v16_load(c1), a11 = v16_load(c1 + 16), a12 = v16_load(c1 + 32), a13 = v16_load(c1 + 48);
                charrnn_v16 a20 = v16_load(c2), a21 = v16_load(c2 + 16), a22 = v16_load(c2 + 32), a23 = v16_load(c2 + 48);
                charrnn_v16 a30 = v16_load(c3), a31 = v16_load(c3 + 16), a32 = v16_load(c3 + 32), a33 = v16_load(c3 + 48);
                charrnn_v16 a40 = v16_load(c4), a41 = v16_load(c4 + 16), a42 = v16_load(c4 + 32), a43 = v16_load(c4 + 48);
                const float *r0 = A + (long)i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda;
                const float *b = panel;
                for (int p = 0; p < k; p++, b += 64) {
                    charrnn_v16 b0 = v16_load(b), b1 = v16_load(b + 16), b2 = v16_load(b + 32), b3 = v16_load(b + 48);
                    float x0 = r0[p], x1 = r1[p], x2 = r2[p], x3 = r3[p], x4 = r4[p];
                    a00 += x0 * b0; a01 += x0 * b1; a02 += x0 * b2; a03 += x0 * b3;
                    a10 += x1 * b0; a11 += x1 * b1; a12 += x1 * b2; a13 += x1 * b3;
                    a20 += x2 * b0; a21 += x2 * b1; a22 += x2 * b2; a23 += x2 * b3;
                    a30 += x3 * b0; a31 += x3 * b1; a32 += x3 * b2; a33 += x3 * b3;
                    a40 += x4 * b0; a41 += x4 * b1; a42 += x4 * b2; a43 += x4 * b3;
                }
                v16_store(c0, a00); v16_store(c0 + 16, a01); v16_store(c0 + 32, a02); v16_store(c0 + 48, a03);
                v16_store(c1, a10); v16_store(c1 + 16, a11); v16_store(c1 + 32, a12); v16_store(c1 + 48, a13);
                v16_store(c2, a20); v16_store(c2 + 16, a21); v16_store(c2 + 32, a22); v16_store(c2 + 48, a23);
                v16_store(c3, a30); v16_store(c3 + 16, a31); v16_store(c3 + 32, a32); v16_store(c3 + 48, a33);
                v16_store(c4, a40); v16_store(c4 + 16, a41); v16_store(c4 + 32, a42); v16_store(c4 + 48, a43);
            }
            for (; i + 4 <= m; i += 4) {
                float *c0 = C + (long)i * ldc + j0, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
                charrnn_v16 a00 = v16_load(c0), a01 = v16_load(c0 + 16), a02 = v16_load(c0 + 32), a03 = v16_load(c0 + 48);
                charrnn_v16 a10 = v16_load(c1), a11 = v16_load(c1 + 16), a12 = v16_load(c1 + 32), a13 = v16_load(c1 + 48);
                charrnn_v16 a20 = v16_load(c2), a21 = v16_load(c2 + 16), a22 = v16_load(c2 + 32), a23 = v16_load(c2 + 48);
                charrnn_v16 a30 = v16_load(c3), a31 = v16_load(c3 + 16), a32 = v16_load(c3 + 32), a33 = v16_load(c3 + 48);
                const float *r0 = A + (long)i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
                const float *b = panel;
                for (int p = 0; p < k; p++, b += 64) {
                    charrnn_v16 b0 = v16_load(b), b1 = v16_load(b + 16), b2 = v16_load(b + 32), b3 = v16_load(b + 48);
                    float x0 = r0[p], x1 = r1[p], x2 = r2[p], x3 = r3[p];
                    a00 += x0 * b0; a01 += x0 * b1; a02 += x0 * b2; a03 += x0 * b3;
                    a10 += x1 * b0; a11 += x1 * b1; a12 += x1 * b2; a13 += x1 * b3;
                    a20 += x2 * b0; a21 += x2 * b1; a22 += x2 * b2; a23 += x2 * b3;
                    a30 += x3 * b0; a31 += x3 * b1; a32 += x3 * b2; a33 += x3 * b3;
                }
                v16_store(c0, a00); v16_store(c0 + 16, a01); v16_store(c0 + 32, a02); v16_store(c0 + 48, a03);
                v16_store(c1, a10); v16_store(c1 + 16, a11); v16_store(c1 + 32, a12); v16_store(c1 + 48, a13);
                v16_store(c2, a20); v16_store(c2 + 16, a21); v16_store(c2 + 32, a22); v16_store(c2 + 48, a23);
                v16_store(c3, a30); v16_store(c3 + 16, a31); v16_store(c3 + 32, a32); v16_store(c3 + 48, a33);
            }
            for (; i < m; i++) {
                float *c0 = C + (long)i * ldc + j0;
                charrnn_v16 a00 = v16_load(c0), a01 = v16_load(c0 + 16), a02 = v16_load(c0 + 32), a03 = v16_load(c0 + 48);
                const float *r0 = A + (long)i * lda, *b = panel;
                for (int p = 0; p < k; p++, b += 64) {
                    float x0 = r0[p];
                    a00 += x0 * v16_load(b); a01 += x0 * v16_load(b + 16); a02 += x0 * v16_load(b + 32); a03 += x0 * v16_load(b + 48);
                }
                v16_store(c0, a00); v16_store(c0 + 16, a01); v16_store(c0 + 32, a02); v16_store(c0 + 48, a03);
            }
        } else {
            // A narrower last panel (16, 32 or 48 columns): 16 at a time.
            for (int q = 0; q < w; q += 16) {
                for (int i = 0; i < m; i++) {
                    float *c0 = C + (long)i * ldc + j0 + q;
                    charrnn_v16 acc = v16_load(c0);
                    const float *r0 = A + (long)i * lda, *b = panel + q;
                    for (int p = 0; p < k; p++, b += w) acc += r0[p] * v16_load(b);
                    v16_store(c0, acc);
                }
            }
        }
    }
}
