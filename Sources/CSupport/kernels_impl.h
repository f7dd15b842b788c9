// The element-wise kernels and the packed per-step products, written once
// and compiled once per instruction set: the file that includes this one
// defines VL (the set's vector width in floats: 16 AVX-512, 8 AVX2 + FMA,
// 4 SSE2 or NEON; the products' register tiles are made of such vectors),
// ISA_NAME (its name), K(name) (the name with its suffix) and, for AVX-512,
// KERNELS_AVX512, and sets the target under a `#pragma clang attribute`.
// The clang vector extension turns the same source into each set's
// instructions. What each function does: include/kernels.h. Every
// element-wise kernel works in chunks of EW = 16 floats through the helpers
// below (a shorter last chunk is padded), so all lanes round alike.
#include <math.h>
#include <stdint.h>
#include <string.h>

/// The element-wise kernels work on 16 floats at a time on every set
/// (one AVX-512 register, two AVX2 ones, four SSE2/NEON ones): their long
/// polynomial chains are latency-bound, and two or four independent
/// chains per chunk keep the FMA units busy where one would stall.
#define EW 16
typedef float K(vec) __attribute__((vector_size(EW * 4), aligned(4)));
typedef int32_t K(ivec) __attribute__((vector_size(EW * 4), aligned(4)));
typedef float K(evec) __attribute__((ext_vector_type(EW)));
#define VEC K(vec)
#define IVEC K(ivec)

static inline VEC K(load)(const float *p) { return *(const VEC *)p; }
static inline void K(store)(float *p, VEC v) { *(VEC *)p = v; }
static inline VEC K(splat)(float x) { return (VEC)(K(evec))x; }

/// The first n (1...EW) floats at p; the other lanes 0.
static inline VEC K(load_n)(const float *p, long n) {
    if (n == EW) return K(load)(p);
    VEC v = K(splat)(0);
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}
static inline void K(store_n)(float *p, VEC v, long n) {
    if (n == EW) K(store)(p, v);
    else memcpy(p, &v, (size_t)n * sizeof(float));
}
/// p + j for j below n (1...EW), else 0 (a bias that may be absent).
static inline VEC K(load_opt)(const float *p, long j, long n) { return p ? K(load_n)(p + j, n) : K(splat)(0); }

/// 1 / d. With AVX-512 the 14-bit estimate and one Newton step (error
/// about 2^-28 before rounding, so within an ulp) instead of a division,
/// the slowest instruction in these kernels.
static inline VEC K(recip)(VEC d) {
#if defined(KERNELS_AVX512)
    VEC r = (VEC)_mm512_rcp14_ps((__m512)d);
    return r + r * (1.0f - d * r);
#else
    return 1.0f / d;
#endif
}

// e^x: x = n ln2 + r with |r| <= ln2/2 (n by the 1.5*2^23 rounding trick),
// a degree-7 Taylor polynomial for e^r, 2^n built in the exponent bits.
static inline VEC K(exp)(VEC x) {
    x = __builtin_elementwise_max(x, K(splat)(-87.3365447504f));
    x = __builtin_elementwise_min(x, K(splat)(88.0f));
    const float magic = 12582912.0f;
    VEC t = x * 1.44269504088896341f + magic;
    VEC n = t - magic;
    VEC r = x - n * 0.693359375f - n * -2.12194440e-4f;
    VEC p = K(splat)(1.0f / 5040.0f);
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    IVEC ni = (IVEC)t - 0x4B400000;
    return p * (VEC)((ni + 127) << 23);
}

static inline VEC K(sigmoid)(VEC x) { return K(recip)(1.0f + K(exp)(-x)); }

// tanh(x) = x P(x^2) / Q(x^2) on [-7.9053, 7.9053] (±1 in float beyond).
static inline VEC K(tanh)(VEC x) {
    const float lim = 7.90531110763549805f;
    x = __builtin_elementwise_max(x, K(splat)(-lim));
    x = __builtin_elementwise_min(x, K(splat)(lim));
    VEC x2 = x * x;
    VEC p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    VEC q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p * K(recip)(q);
}

/// for each chunk of EW (the last may be shorter) of 0..<count: j, n.
#define FOR_CHUNKS(count, j, n) \
    for (long j = 0, n = (count) < EW ? (count) : EW; j < (count); j += EW, n = (count) - j < EW ? (count) - j : EW)

static void K(vexp)(const float *x, float *y, long n) {
    FOR_CHUNKS(n, j, w) K(store_n)(y + j, K(exp)(K(load_n)(x + j, w)), w);
}
static void K(vsigmoid)(const float *x, float *y, long n) {
    FOR_CHUNKS(n, j, w) K(store_n)(y + j, K(sigmoid)(K(load_n)(x + j, w)), w);
}
static void K(vtanh)(const float *x, float *y, long n) {
    FOR_CHUNKS(n, j, w) K(store_n)(y + j, K(tanh)(K(load_n)(x + j, w)), w);
}

// ---- Element-wise steps of the cells ---------------------------------------------

static void K(lstm_forward)(float *gates, const float *bias, const float *c_prev, float *c_next, float *tanh_c,
                            float *h_next, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *gi = gates + b * 4 * H, *gf = gi + H, *gg = gf + H, *go = gg + H;
        const float *cp = c_prev + b * H;
        float *cn = c_next + b * H, *tc = tanh_c + b * H, *hn = h_next + b * H;
        FOR_CHUNKS(H, j, n) {
            VEC i = K(sigmoid)(K(load_n)(gi + j, n) + K(load_opt)(bias, j, n));
            VEC f = K(sigmoid)(K(load_n)(gf + j, n) + K(load_opt)(bias, H + j, n));
            VEC g = K(tanh)(K(load_n)(gg + j, n) + K(load_opt)(bias, 2 * H + j, n));
            VEC o = K(sigmoid)(K(load_n)(go + j, n) + K(load_opt)(bias, 3 * H + j, n));
            K(store_n)(gi + j, i, n); K(store_n)(gf + j, f, n);
            K(store_n)(gg + j, g, n); K(store_n)(go + j, o, n);
            VEC c = f * K(load_n)(cp + j, n) + i * g;
            VEC t = K(tanh)(c);
            K(store_n)(cn + j, c, n); K(store_n)(tc + j, t, n); K(store_n)(hn + j, o * t, n);
        }
    }
}

static void K(lstm_backward)(const float *acts, const float *c_prev, const float *tanh_c, const float *d_above,
                             const float *dh_next, float *dc_next, float *d_pre, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        const float *ai = acts + b * 4 * H, *af = ai + H, *ag = af + H, *ao = ag + H;
        float *di = d_pre + b * 4 * H, *df = di + H, *dg = df + H, *dout = dg + H;
        const float *cp = c_prev + b * H, *tc = tanh_c + b * H, *da = d_above + b * H, *dhn = dh_next + b * H;
        float *dcn = dc_next + b * H;
        FOR_CHUNKS(H, j, n) {
            VEC i = K(load_n)(ai + j, n), f = K(load_n)(af + j, n);
            VEC g = K(load_n)(ag + j, n), o = K(load_n)(ao + j, n), t = K(load_n)(tc + j, n);
            VEC dh = K(load_n)(da + j, n) + K(load_n)(dhn + j, n);
            VEC dc = K(load_n)(dcn + j, n) + dh * o * (1.0f - t * t);
            K(store_n)(di + j, dc * g * i * (1.0f - i), n);
            K(store_n)(df + j, dc * K(load_n)(cp + j, n) * f * (1.0f - f), n);
            K(store_n)(dg + j, dc * i * (1.0f - g * g), n);
            K(store_n)(dout + j, dh * t * o * (1.0f - o), n);
            K(store_n)(dcn + j, dc * f, n);
        }
    }
}

static void K(gru_forward)(float *xg, const float *bias, const float *hg, const float *h_prev, float *h_next,
                           long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *xr = xg + b * 3 * H, *xz = xr + H, *xn = xz + H;
        const float *hr = hg + b * 3 * H, *hz = hr + H, *hn = hz + H, *hp = h_prev + b * H;
        float *ho = h_next + b * H;
        FOR_CHUNKS(H, j, n) {
            VEC r = K(sigmoid)(K(load_n)(xr + j, n) + K(load_opt)(bias, j, n) + K(load_n)(hr + j, n));
            VEC z = K(sigmoid)(K(load_n)(xz + j, n) + K(load_opt)(bias, H + j, n) + K(load_n)(hz + j, n));
            VEC nn = K(tanh)(K(load_n)(xn + j, n) + K(load_opt)(bias, 2 * H + j, n) + r * K(load_n)(hn + j, n));
            K(store_n)(xr + j, r, n); K(store_n)(xz + j, z, n); K(store_n)(xn + j, nn, n);
            K(store_n)(ho + j, (1.0f - z) * nn + z * K(load_n)(hp + j, n), n);
        }
    }
}

static void K(gru_backward)(const float *acts, const float *hg, const float *h_prev, const float *d_above,
                            float *dh_next, float *d_x, float *d_h, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        const float *ar = acts + b * 3 * H, *az = ar + H, *an = az + H;
        const float *hn = hg + b * 3 * H + 2 * H, *hp = h_prev + b * H, *da = d_above + b * H;
        float *dhn = dh_next + b * H;
        float *dxr = d_x + b * 3 * H, *dxz = dxr + H, *dxn = dxz + H;
        float *dhr = d_h + b * 3 * H, *dhz = dhr + H, *dhnn = dhz + H;
        FOR_CHUNKS(H, j, n) {
            VEC r = K(load_n)(ar + j, n), z = K(load_n)(az + j, n), nn = K(load_n)(an + j, n);
            VEC dh = K(load_n)(da + j, n) + K(load_n)(dhn + j, n);
            VEC dn = dh * (1.0f - z) * (1.0f - nn * nn);
            VEC dz = dh * (K(load_n)(hp + j, n) - nn) * z * (1.0f - z);
            VEC dr = dn * K(load_n)(hn + j, n) * r * (1.0f - r);
            K(store_n)(dxr + j, dr, n); K(store_n)(dxz + j, dz, n); K(store_n)(dxn + j, dn, n);
            K(store_n)(dhr + j, dr, n); K(store_n)(dhz + j, dz, n); K(store_n)(dhnn + j, dn * r, n);
            K(store_n)(dhn + j, dh * z, n);
        }
    }
}

static void K(rnn_forward)(float *pre, const float *bias, float *h_next, long rows, long H) {
    for (long b = 0; b < rows; b++) {
        float *p = pre + b * H, *hn = h_next + b * H;
        FOR_CHUNKS(H, j, n) {
            VEC v = K(tanh)(K(load_n)(p + j, n) + K(load_opt)(bias, j, n));
            K(store_n)(p + j, v, n); K(store_n)(hn + j, v, n);
        }
    }
}

static void K(rnn_backward)(const float *acts, const float *d_above, const float *dh_next, float *d_pre, long rows,
                            long H) {
    FOR_CHUNKS(rows * H, j, n) {
        VEC v = K(load_n)(acts + j, n);
        K(store_n)(d_pre + j, (K(load_n)(d_above + j, n) + K(load_n)(dh_next + j, n)) * (1.0f - v * v), n);
    }
}

#define VECTOR_LOOP _Pragma("clang loop vectorize(enable) interleave_count(1)")

static void K(bias_gather)(float *out, const float *bias, const float *table, const int32_t *ids, long rows,
                           long width) {
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

static double K(softmax_xent)(float *z, const float *bias, const int32_t *targets, long rows, long V, float scale) {
    double total = 0;
    for (long r = 0; r < rows; r++) {
        float *row = z + r * V;
        VEC mx = K(splat)(-__builtin_inff());
        FOR_CHUNKS(V, j, n) {
            VEC v = K(load_n)(row + j, n) + K(load_opt)(bias, j, n);
            if (bias) K(store_n)(row + j, v, n);
            if (n < EW) {
                VEC pad = K(splat)(-__builtin_inff());
                memcpy(&pad, &v, (size_t)n * sizeof(float));
                v = pad;
            }
            mx = __builtin_elementwise_max(mx, v);
        }
        float m = mx[0];
        for (int k = 1; k < EW; k++) m = mx[k] > m ? mx[k] : m;
        float target = row[targets[r]];
        VEC sums = K(splat)(0);
        FOR_CHUNKS(V, j, n) {
            VEC e = K(exp)(K(load_n)(row + j, n) - m);
            if (n < EW) {
                VEC cut = K(splat)(0);
                memcpy(&cut, &e, (size_t)n * sizeof(float));
                e = cut;
            }
            if (scale != 0) K(store_n)(row + j, e, n);
            sums += e;
        }
        float sum = 0;
        for (int k = 0; k < EW; k++) sum += sums[k];
        total += (double)m + log((double)sum) - (double)target;
        if (scale != 0) {
            float s = scale / sum;
            FOR_CHUNKS(V, j, n) K(store_n)(row + j, K(load_n)(row + j, n) * s, n);
            row[targets[r]] -= scale;
        }
    }
    return total;
}

static inline void K(add_row)(float *restrict dst, const float *restrict src, long n) {
    VECTOR_LOOP
    for (long j = 0; j < n; j++) dst[j] += src[j];
}

static void K(scatter_add)(float *table, const float *src, const int32_t *ids, long rows, long width) {
    for (long r = 0; r < rows; r++) K(add_row)(table + (long)ids[r] * width, src + r * width, width);
}

static void K(add_column_sums_ld)(const float *m, long rows, long cols, long ld, float *out) {
    for (long r = 0; r < rows; r++) K(add_row)(out, m + r * ld, cols);
}

static void K(scatter_add_ld)(float *table, long ldt, const float *src, long lds, const int32_t *ids, long rows,
                              long width) {
    for (long r = 0; r < rows; r++) K(add_row)(table + (long)ids[r] * ldt, src + r * lds, width);
}

static void K(mul)(float *restrict y, const float *restrict m, long n) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) y[i] *= m[i];
}

static void K(mul_to)(float *restrict y, const float *restrict x, const float *restrict m, long n) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) y[i] = x[i] * m[i];
}

static void K(clip)(float *restrict g, long n, float limit) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float v = g[i];
        v = v < -limit ? -limit : v;
        g[i] = v > limit ? limit : v;
    }
}

static void K(rmsprop)(float *restrict x, const float *restrict g, float *restrict m, long n, float lr, float a,
                       float eps) {
    VECTOR_LOOP
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        float mi = a * m[i] + (1.0f - a) * gi * gi;
        m[i] = mi;
        x[i] -= lr * gi / (__builtin_sqrtf(mi) + eps);
    }
}

static void K(adam)(float *restrict x, const float *restrict g, float *restrict m, float *restrict v, long n,
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

// ---- Per-step products against weights packed once per pass ------------------
// OpenBLAS packs B on every call; for the per-step products (a batch's rows
// times W_hh, every timestep of every layer, forward and backward) that
// repacks the same unchanged weights at every step. Here the weights are
// packed once per pass into panels of P columns (each panel's k rows
// contiguous), and a tile of MR rows × NV vectors (P = NV·VL) is kept in
// registers while k runs, in blocks of KBLOCK rows (a panel's block is
// reused across the row tiles from L1 or L2). Each C element is one sequence of
// multiply-adds in the order of k whatever the tile, so the shapes give
// the same results.

typedef float K(gvec) __attribute__((vector_size(VL * 4), aligned(4)));
typedef float K(gevec) __attribute__((ext_vector_type(VL)));
#define GVEC K(gvec)
static inline GVEC K(gload)(const float *p) { return *(const GVEC *)p; }
static inline void K(gstore)(float *p, GVEC v) { *(GVEC *)p = v; }
static inline GVEC K(gsplat)(float x) { return (GVEC)(K(gevec))x; }
/// x broadcast from memory (one load instruction).
static inline GVEC K(gbcast)(const float *p) { return (GVEC)(K(gevec))*p; }

/// One tile: C (MR rows, NV vectors; rows ldc apart) = init rows (or 0) +
/// A (MR rows, lda apart) · b (k rows, bs apart). The smaller of the two
/// operand sets is held in registers: NV vectors of b or MR broadcasts of
/// A, beside the MR·NV accumulators.
#define DEFINE_TILE(NV, MR)                                                                                          \
    static __attribute__((noinline)) void K(tile_##NV##_##MR)(int k, const float *A, long lda, const float *b,      \
                                                              long bs, float *C, long ldc,                          \
                                                              const float *const *init) {                           \
        GVEC acc[MR][NV];                                                                                             \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++)                                             \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++)                                         \
                acc[r][v] = init[r] ? K(gload)(init[r] + v * VL) : K(gsplat)(0);                                      \
        for (int p = 0; p < k; p++, b += bs) {                                                                       \
            if (NV < MR) {                                                                                           \
                GVEC bv[NV];                                                                                          \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) bv[v] = K(gload)(b + v * VL);        \
                _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                                   \
                    GVEC a = K(gbcast)(A + r * lda + p);                                                               \
                    _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) acc[r][v] += a * bv[v];         \
                }                                                                                                    \
            } else {                                                                                                 \
                GVEC av[MR];                                                                                          \
                _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) av[r] = K(gbcast)(A + r * lda + p);  \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) {                                   \
                    GVEC bv = K(gload)(b + v * VL);                                                                    \
                    _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) acc[r][v] += av[r] * bv;        \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++)                                             \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) K(gstore)(C + r * ldc + v * VL, acc[r][v]); \
    }
#define DEFINE_TILES(NV)                                                                                             \
    DEFINE_TILE(NV, 1) DEFINE_TILE(NV, 2) DEFINE_TILE(NV, 3) DEFINE_TILE(NV, 4)                                      \
    DEFINE_TILE(NV, 5) DEFINE_TILE(NV, 6) DEFINE_TILE(NV, 7) DEFINE_TILE(NV, 8)
/// Calls the tile of `mr` rows (1...8) for NV vectors.
#define TILE_SWITCH(NV)                                                                                              \
    switch (mr) {                                                                                                    \
    case 1: K(tile_##NV##_1)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    case 2: K(tile_##NV##_2)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    case 3: K(tile_##NV##_3)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    case 4: K(tile_##NV##_4)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    case 5: K(tile_##NV##_5)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    case 6: K(tile_##NV##_6)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    case 7: K(tile_##NV##_7)(kk, a, lda, b, bs, c, ldc, starts); break;                                              \
    default: K(tile_##NV##_8)(kk, a, lda, b, bs, c, ldc, starts); break;                                             \
    }

// KBLOCK (rows of k per block) comes from the instruction set's file:
// where a panel's whole k streams from L2 fast enough (AVX2's 32-column
// panels), large blocks save reloading the tile's C; AVX-512's 64-column
// panels gained from 128.
/// The product over panels of NV·VL columns with row tiles of MR (a last
/// narrower panel, a multiple of VL wide, one vector at a time; leftover
/// rows with a smaller tile). See charrnn_gemm_fn.
#define DEFINE_GEMM(NV, MR)                                                                                          \
    static void K(gemm_##NV##_##MR)(int m, int n, int k, const float *A, long lda, const float *packed, float *C,   \
                                    long ldc, const float *init, const int32_t *ids, long ld_init) {                \
        const int P = NV * VL;                                                                                       \
        /* The rows shared evenly among the fewest tiles of at most MR: 25 rows  \
           of MR = 3 as 3,3,3,3,3,3,3,2,2, not ...,3,1 (a 1-row tile waits on   \
           its few accumulators' latency). */                                                                        \
        const int tiles = (m + MR - 1) / MR, rows_base = tiles ? m / tiles : 0, rows_extra = tiles ? m % tiles : 0;   \
        int mr = 0;                                                                                                  \
        int k0 = 0;                                                                                                  \
        do { /* at least once, so that k = 0 still writes C = init */                                               \
            int kk = k - k0 < KBLOCK ? k - k0 : KBLOCK;                                                              \
            for (int j0 = 0; j0 < n; j0 += P) {                                                                      \
                int w = n - j0 < P ? n - j0 : P;                                                                     \
                const float *panel = packed + (long)j0 * k + (long)k0 * w;                                           \
                long bs = w;                                                                                         \
                for (int q = 0; q < w; q += (w == P ? P : VL)) {                                                     \
                    const float *b = panel + q;                                                                      \
                    for (int tile = 0, i = 0; i < m; i += mr, tile++) {                                              \
                        mr = rows_base + (tile < rows_extra);                                                        \
                        const float *starts[8];                                                                      \
                        for (int r = 0; r < mr; r++)                                                                 \
                            starts[r] = init ? init + (ids ? (long)ids[i + r] : (long)(i + r)) * ld_init + j0 + q    \
                                             : NULL;                                                                 \
                        const float *a = A + (long)i * lda + k0;                                                     \
                        float *c = C + (long)i * ldc + j0 + q;                                                       \
                        if (w == P) { TILE_SWITCH(NV) } else { TILE_SWITCH(1) }                                     \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
            init = C; ids = NULL; ld_init = ldc; /* the next blocks add to C */                                     \
            k0 += KBLOCK;                                                                                            \
        } while (k0 < k);                                                                                            \
    }

/// A table entry: named by instruction set, panel columns (COLS = NV·VL,
/// spelt out) and tile rows, e.g. "avx2-16x5".
#define VARIANT(NV, MR, COLS) {ISA_NAME "-" #COLS "x" #MR, (NV) * VL, MR, K(gemm_##NV##_##MR)}

#define KERNEL_TABLE(...)                                                                                            \
    const struct charrnn_kernel_table K(charrnn_kernels) = {                                                         \
        ISA_NAME, VL, K(vexp), K(vsigmoid), K(vtanh), K(lstm_forward), K(lstm_backward), K(gru_forward),             \
        K(gru_backward), K(rnn_forward), K(rnn_backward), K(softmax_xent), K(bias_gather), K(scatter_add),           \
        K(add_column_sums_ld), K(scatter_add_ld), K(mul), K(mul_to), K(clip), K(rmsprop), K(adam),                   \
        sizeof((struct charrnn_gemm_variant[]){__VA_ARGS__}) / sizeof(struct charrnn_gemm_variant), {__VA_ARGS__}}
