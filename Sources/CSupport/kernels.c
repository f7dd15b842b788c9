// Fused element-wise kernels (see kernels.h). The cells' steps, exp/sigmoid/
// tanh and softmax work on explicit 16-lane vectors (branch-free helpers
// below); the simple loops are left to clang's vectoriser.
#include "kernels.h"
#include <stdint.h>
#include <math.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

// The 64-byte vectors pass between static functions of this file only, so
// the ABI note clang gives for them on targets without AVX-512 (the fuzz
// build) does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// ---- 16-lane vector math --------------------------------------------------------
// Written with clang's vector extension, so one source gives AVX-512 (one
// register), AVX2 (two) or SSE (four). Every element-wise kernel works in
// chunks of 16 through these helpers (a shorter last chunk is padded), so
// all lanes round alike.
typedef float charrnn_v16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t charrnn_i16 __attribute__((vector_size(64), aligned(4)));

static inline charrnn_v16 v16_load(const float *p) { return *(const charrnn_v16 *)p; }
static inline void v16_store(float *p, charrnn_v16 v) { *(charrnn_v16 *)p = v; }
static inline charrnn_v16 v16_splat(float x) { return (charrnn_v16){0} + x; }

/// The first n (1...16) floats at p; the other lanes 0.
static inline charrnn_v16 v16_load_n(const float *p, long n) {
    if (n == 16) return v16_load(p);
    charrnn_v16 v = {0};
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}
static inline void v16_store_n(float *p, charrnn_v16 v, long n) {
    if (n == 16) v16_store(p, v);
    else memcpy(p, &v, (size_t)n * sizeof(float));
}
/// p + j for j below n (1...16), else 0 (a bias that may be absent).
static inline charrnn_v16 v16_load_opt(const float *p, long j, long n) {
    return p ? v16_load_n(p + j, n) : v16_splat(0);
}

/// 1 / d: with AVX-512 the 14-bit estimate and one Newton step (error about
/// 2^-28 before rounding, so within an ulp) instead of a division, which
/// is the slowest instruction in these kernels.
static inline charrnn_v16 v16_recip(charrnn_v16 d) {
#ifdef __AVX512F__
    charrnn_v16 r = (charrnn_v16)_mm512_rcp14_ps((__m512)d);
    return r + r * (1.0f - d * r);
#else
    return 1.0f / d;
#endif
}

// e^x: x = n ln2 + r with |r| <= ln2/2 (n by the 1.5*2^23 rounding trick),
// a degree-7 Taylor polynomial for e^r, 2^n built in the exponent bits.
static inline charrnn_v16 v16_exp(charrnn_v16 x) {
    x = __builtin_elementwise_max(x, v16_splat(-87.3365447504f));
    x = __builtin_elementwise_min(x, v16_splat(88.0f));
    const float magic = 12582912.0f;
    charrnn_v16 t = x * 1.44269504088896341f + magic;
    charrnn_v16 n = t - magic;
    charrnn_v16 r = x - n * 0.693359375f - n * -2.12194440e-4f;
    charrnn_v16 p = v16_splat(1.0f / 5040.0f);
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    charrnn_i16 ni = (charrnn_i16)t - 0x4B400000;
    return p * (charrnn_v16)((ni + 127) << 23);
}

static inline charrnn_v16 v16_sigmoid(charrnn_v16 x) { return v16_recip(1.0f + v16_exp(-x)); }

// tanh(x) = x P(x^2) / Q(x^2) on [-7.9053, 7.9053] (±1 in float beyond).
static inline charrnn_v16 v16_tanh(charrnn_v16 x) {
    const float lim = 7.90531110763549805f;
    x = __builtin_elementwise_max(x, v16_splat(-lim));
    x = __builtin_elementwise_min(x, v16_splat(lim));
    charrnn_v16 x2 = x * x;
    charrnn_v16 p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    charrnn_v16 q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p * v16_recip(q);
}

/// for each chunk of 16 (the last may be shorter) of 0..<count: j, n.
#define FOR_CHUNKS(count, j, n) \
    for (long j = 0, n = (count) < 16 ? (count) : 16; j < (count); j += 16, n = (count) - j < 16 ? (count) - j : 16)

void charrnn_vexp(const float *x, float *y, long n) {
    FOR_CHUNKS(n, j, w) v16_store_n(y + j, v16_exp(v16_load_n(x + j, w)), w);
}
void charrnn_vsigmoid(const float *x, float *y, long n) {
    FOR_CHUNKS(n, j, w) v16_store_n(y + j, v16_sigmoid(v16_load_n(x + j, w)), w);
}
void charrnn_vtanh(const float *x, float *y, long n) {
    FOR_CHUNKS(n, j, w) v16_store_n(y + j, v16_tanh(v16_load_n(x + j, w)), w);
}

// ---- Element-wise steps of the cells ---------------------------------------------

void charrnn_lstm_forward(float *gates, const float *bias, const float *c_prev, float *c_next, float *tanh_c,
                          float *h_next, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *gi = gates + b * 4 * H, *gf = gi + H, *gg = gf + H, *go = gg + H;
        const float *cp = c_prev + b * H;
        float *cn = c_next + b * H, *tc = tanh_c + b * H, *hn = h_next + b * H;
        FOR_CHUNKS(H, j, n) {
            charrnn_v16 i = v16_sigmoid(v16_load_n(gi + j, n) + v16_load_opt(bias, j, n));
            charrnn_v16 f = v16_sigmoid(v16_load_n(gf + j, n) + v16_load_opt(bias, H + j, n));
            charrnn_v16 g = v16_tanh(v16_load_n(gg + j, n) + v16_load_opt(bias, 2 * H + j, n));
            charrnn_v16 o = v16_sigmoid(v16_load_n(go + j, n) + v16_load_opt(bias, 3 * H + j, n));
            v16_store_n(gi + j, i, n); v16_store_n(gf + j, f, n);
            v16_store_n(gg + j, g, n); v16_store_n(go + j, o, n);
            charrnn_v16 c = f * v16_load_n(cp + j, n) + i * g;
            charrnn_v16 t = v16_tanh(c);
            v16_store_n(cn + j, c, n); v16_store_n(tc + j, t, n); v16_store_n(hn + j, o * t, n);
        }
    }
}

void charrnn_lstm_backward(const float *acts, const float *c_prev, const float *tanh_c,
                           const float *d_above, const float *dh_next, float *dc_next,
                           float *d_pre, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        const float *ai = acts + b * 4 * H, *af = ai + H, *ag = af + H, *ao = ag + H;
        float *di = d_pre + b * 4 * H, *df = di + H, *dg = df + H, *dout = dg + H;
        const float *cp = c_prev + b * H, *tc = tanh_c + b * H, *da = d_above + b * H, *dhn = dh_next + b * H;
        float *dcn = dc_next + b * H;
        FOR_CHUNKS(H, j, n) {
            charrnn_v16 i = v16_load_n(ai + j, n), f = v16_load_n(af + j, n);
            charrnn_v16 g = v16_load_n(ag + j, n), o = v16_load_n(ao + j, n), t = v16_load_n(tc + j, n);
            charrnn_v16 dh = v16_load_n(da + j, n) + v16_load_n(dhn + j, n);
            charrnn_v16 dc = v16_load_n(dcn + j, n) + dh * o * (1.0f - t * t);
            v16_store_n(di + j, dc * g * i * (1.0f - i), n);
            v16_store_n(df + j, dc * v16_load_n(cp + j, n) * f * (1.0f - f), n);
            v16_store_n(dg + j, dc * i * (1.0f - g * g), n);
            v16_store_n(dout + j, dh * t * o * (1.0f - o), n);
            v16_store_n(dcn + j, dc * f, n);
        }
    }
}

void charrnn_gru_forward(float *xg, const float *bias, const float *hg, const float *h_prev, float *h_next,
                         long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *xr = xg + b * 3 * H, *xz = xr + H, *xn = xz + H;
        const float *hr = hg + b * 3 * H, *hz = hr + H, *hn = hz + H, *hp = h_prev + b * H;
        float *ho = h_next + b * H;
        FOR_CHUNKS(H, j, n) {
            charrnn_v16 r = v16_sigmoid(v16_load_n(xr + j, n) + v16_load_opt(bias, j, n) + v16_load_n(hr + j, n));
            charrnn_v16 z = v16_sigmoid(v16_load_n(xz + j, n) + v16_load_opt(bias, H + j, n) + v16_load_n(hz + j, n));
            charrnn_v16 nn = v16_tanh(v16_load_n(xn + j, n) + v16_load_opt(bias, 2 * H + j, n) + r * v16_load_n(hn + j, n));
            v16_store_n(xr + j, r, n); v16_store_n(xz + j, z, n); v16_store_n(xn + j, nn, n);
            v16_store_n(ho + j, (1.0f - z) * nn + z * v16_load_n(hp + j, n), n);
        }
    }
}

void charrnn_gru_backward(const float *acts, const float *hg, const float *h_prev,
                          const float *d_above, float *dh_next, float *d_x, float *d_h,
                          long rows, long H) {
    for (long b = 0; b < rows; b++) {
        const float *ar = acts + b * 3 * H, *az = ar + H, *an = az + H;
        const float *hn = hg + b * 3 * H + 2 * H, *hp = h_prev + b * H, *da = d_above + b * H;
        float *dhn = dh_next + b * H;
        float *dxr = d_x + b * 3 * H, *dxz = dxr + H, *dxn = dxz + H;
        float *dhr = d_h + b * 3 * H, *dhz = dhr + H, *dhnn = dhz + H;
        FOR_CHUNKS(H, j, n) {
            charrnn_v16 r = v16_load_n(ar + j, n), z = v16_load_n(az + j, n), nn = v16_load_n(an + j, n);
            charrnn_v16 dh = v16_load_n(da + j, n) + v16_load_n(dhn + j, n);
            charrnn_v16 dn = dh * (1.0f - z) * (1.0f - nn * nn);
            charrnn_v16 dz = dh * (v16_load_n(hp + j, n) - nn) * z * (1.0f - z);
            charrnn_v16 dr = dn * v16_load_n(hn + j, n) * r * (1.0f - r);
            v16_store_n(dxr + j, dr, n); v16_store_n(dxz + j, dz, n); v16_store_n(dxn + j, dn, n);
            v16_store_n(dhr + j, dr, n); v16_store_n(dhz + j, dz, n); v16_store_n(dhnn + j, dn * r, n);
            v16_store_n(dhn + j, dh * z, n);
        }
    }
}

void charrnn_rnn_forward(float *pre, const float *bias, float *h_next, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *p = pre + b * H, *hn = h_next + b * H;
        FOR_CHUNKS(H, j, n) {
            charrnn_v16 v = v16_tanh(v16_load_n(p + j, n) + v16_load_opt(bias, j, n));
            v16_store_n(p + j, v, n); v16_store_n(hn + j, v, n);
        }
    }
}

void charrnn_rnn_backward(const float *acts, const float *d_above, const float *dh_next,
                          float *d_pre, long rows, long H) {
    FOR_CHUNKS(rows * H, j, n) {
        charrnn_v16 v = v16_load_n(acts + j, n);
        v16_store_n(d_pre + j, (v16_load_n(d_above + j, n) + v16_load_n(dh_next + j, n)) * (1.0f - v * v), n);
    }
}

#define VECTOR_LOOP _Pragma("clang loop vectorize(enable) vectorize_width(16) interleave_count(1)")

void charrnn_bias_gather(float *out, const float *bias, const float *table, const int32_t *ids,
                         long rows, long width) {
    for (long r = 0; r < rows; r++) {
        float *restrict o = out + r * width;
        const float *restrict b = bias;
        const float *restrict t = table ? table + (long)ids[r] * width : NULL;
        if (b && t) {
            VECTOR_LOOP
            for (long j = 0; j < width; j++) o[j] = b[j] + t[j];
        } else if (b || t) {
            memcpy(o, b ? b : t, (size_t)width * sizeof(float));
        } else {
            memset(o, 0, (size_t)width * sizeof(float));
        }
    }
}

double charrnn_softmax_xent(float *z, const float *bias, const int32_t *targets, long rows, long V, float scale) {
    double total = 0;
    for (long r = 0; r < rows; r++) {
        float *row = z + r * V;
        charrnn_v16 mx = v16_splat(-__builtin_inff());
        FOR_CHUNKS(V, j, n) {
            charrnn_v16 v = v16_load_n(row + j, n) + v16_load_opt(bias, j, n);
            if (bias) v16_store_n(row + j, v, n);
            if (n < 16) {
                charrnn_v16 pad = v16_splat(-__builtin_inff());
                memcpy(&pad, &v, (size_t)n * sizeof(float));
                v = pad;
            }
            mx = __builtin_elementwise_max(mx, v);
        }
        float m = mx[0];
        for (int k = 1; k < 16; k++) m = mx[k] > m ? mx[k] : m;
        float target = row[targets[r]];
        charrnn_v16 sums = v16_splat(0);
        FOR_CHUNKS(V, j, n) {
            charrnn_v16 e = v16_exp(v16_load_n(row + j, n) - m);
            if (n < 16) {
                charrnn_v16 cut = v16_splat(0);
                memcpy(&cut, &e, (size_t)n * sizeof(float));
                e = cut;
            }
            if (scale != 0) v16_store_n(row + j, e, n);
            sums += e;
        }
        float sum = 0;
        for (int k = 0; k < 16; k++) sum += sums[k];
        total += (double)m + log((double)sum) - (double)target;
        if (scale != 0) {
            float s = scale / sum;
            FOR_CHUNKS(V, j, n) v16_store_n(row + j, v16_load_n(row + j, n) * s, n);
            row[targets[r]] -= scale;
        }
    }
    return total;
}

static inline void add_row(float *restrict dst, const float *restrict src, long n) {
    VECTOR_LOOP
    for (long j = 0; j < n; j++) dst[j] += src[j];
}

void charrnn_scatter_add(float *table, const float *src, const int32_t *ids, long rows, long width) {
    for (long r = 0; r < rows; r++) add_row(table + (long)ids[r] * width, src + r * width, width);
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

// C (m×n) (+)= A (m×k) · B, B packed by charrnn_pack_panels; n a multiple of 16.
// Row i's accumulators start from init + (ids ? ids[i] : i) · ld_init, or
// from 0 without init.
// Rows k0..<k0+k of the packed panels (each kfull rows long).
static void gemm_packed_block(int m, int n, int k, int kfull, int k0, const float *A, long lda, const float *packed,
                              float *C, long ldc, const float *init, const int32_t *ids, long ld_init) {
#define START(r) (init ? init + (ids ? (long)ids[i + (r)] : (long)(i + (r))) * ld_init + j0 : NULL)
#define LOADC(s, off) ((s) ? v16_load((s) + (off)) : v16_splat(0))
    for (int j0 = 0; j0 < n; j0 += 64) {
        int w = n - j0 < 64 ? n - j0 : 64;
        const float *panel = packed + (long)j0 * kfull + (long)k0 * w;
        if (w == 64) {
            int i = 0;
            // 5 rows (20 accumulators): batches of 50 and 25 rows leave none over.
            for (; i + 5 <= m; i += 5) {
                float *c0 = C + (long)i * ldc + j0, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc, *c4 = c3 + ldc;
                const float *s0 = START(0), *s1 = START(1), *s2 = START(2), *s3 = START(3), *s4 = START(4);
                charrnn_v16 a00 = LOADC(s0, 0), a01 = LOADC(s0, 16), a02 = LOADC(s0, 32), a03 = LOADC(s0, 48);
                charrnn_v16 a10 = LOADC(s1, 0), a11 = LOADC(s1, 16), a12 = LOADC(s1, 32), a13 = LOADC(s1, 48);
                charrnn_v16 a20 = LOADC(s2, 0), a21 = LOADC(s2, 16), a22 = LOADC(s2, 32), a23 = LOADC(s2, 48);
                charrnn_v16 a30 = LOADC(s3, 0), a31 = LOADC(s3, 16), a32 = LOADC(s3, 32), a33 = LOADC(s3, 48);
                charrnn_v16 a40 = LOADC(s4, 0), a41 = LOADC(s4, 16), a42 = LOADC(s4, 32), a43 = LOADC(s4, 48);
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
                const float *s0 = START(0), *s1 = START(1), *s2 = START(2), *s3 = START(3);
                charrnn_v16 a00 = LOADC(s0, 0), a01 = LOADC(s0, 16), a02 = LOADC(s0, 32), a03 = LOADC(s0, 48);
                charrnn_v16 a10 = LOADC(s1, 0), a11 = LOADC(s1, 16), a12 = LOADC(s1, 32), a13 = LOADC(s1, 48);
                charrnn_v16 a20 = LOADC(s2, 0), a21 = LOADC(s2, 16), a22 = LOADC(s2, 32), a23 = LOADC(s2, 48);
                charrnn_v16 a30 = LOADC(s3, 0), a31 = LOADC(s3, 16), a32 = LOADC(s3, 32), a33 = LOADC(s3, 48);
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
                const float *s0 = START(0);
                charrnn_v16 a00 = LOADC(s0, 0), a01 = LOADC(s0, 16), a02 = LOADC(s0, 32), a03 = LOADC(s0, 48);
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
                    const float *s0 = START(0);
                    charrnn_v16 acc = LOADC(s0, q);
                    const float *r0 = A + (long)i * lda, *b = panel + q;
                    for (int p = 0; p < k; p++, b += w) acc += r0[p] * v16_load(b);
                    v16_store(c0, acc);
                }
            }
        }
    }
}
#undef LOADC
#undef START

// In blocks of KBLOCK rows of k, so that a panel's block (64 × 128 floats,
// 32 KB) stays in L1 while every row tile of A uses it; a whole panel of a
// long k (W_hh at H = 512, or backward's 4H) would be read from L2 by each.
#define KBLOCK 128
static void gemm_packed(int m, int n, int k, const float *A, long lda, const float *packed, float *C, long ldc,
                        const float *init, const int32_t *ids, long ld_init) {
    int k0 = 0;
    do {  // at least once, so that k = 0 still writes C = init
        int kk = k - k0 < KBLOCK ? k - k0 : KBLOCK;
        gemm_packed_block(m, n, kk, k, k0, A + k0, lda, packed, C, ldc, init, ids, ld_init);
        init = C; ids = NULL; ld_init = ldc;  // the next blocks add to C
        k0 += KBLOCK;
    } while (k0 < k);
}

void charrnn_gemm_packed(int m, int n, int k, const float *A, long lda, const float *packed, float *C, long ldc,
                         int accumulate) {
    gemm_packed(m, n, k, A, lda, packed, C, ldc, accumulate ? C : NULL, NULL, ldc);
}

void charrnn_gemm_packed_gather(int m, int n, int k, const float *A, long lda, const float *packed, float *C, long ldc,
                                const float *table, const int32_t *ids) {
    gemm_packed(m, n, k, A, lda, packed, C, ldc, table, ids, n);
}
