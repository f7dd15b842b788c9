// The OpenCL C kernels of the OpenCL backend, compiled once per context.
// Same formulas, and the same exp/tanh approximations, as Sources/CSupport/kernels.c.

/// Buffers are passed with element offsets (`o*`); one work-item per
/// element unless a kernel says otherwise. B = batch rows, H = hidden size.
let clKernelSource = #"""
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

// e^x as fast_exp in kernels.c: x = n ln2 + r, a degree-7 polynomial for
// e^r, 2^n through the exponent bits. The comparisons (not fmin/fmax) let
// NaN through, so a diverging run is still seen.
inline float fast_exp(float x) {
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
    int ni = as_int(t) - 0x4B400000;
    return p * as_float((ni + 127) << 23);
}

inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// tanh(x) = x P(x^2) / Q(x^2) on [-7.9053, 7.9053], as fast_tanh in kernels.c.
inline float fast_tanh(float x) {
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

// out[r, j] = (b1[j]) (+ b2[j]) (+ w[j, ids[oIds + r]] for a one-hot
// input), rows of `width`; one work-item per element. hasB1, hasB2 and V
// (the one-hot width) are 0 when unused.
__kernel void bias_rows(__global float *out, int oOut, __global const float *p, int oB1, int hasB1, int oB2, int hasB2,
                        int oW, int V, __global const int *ids, int oIds, int width, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int r = i / width, j = i - r * width;
    float b = hasB1 ? p[oB1 + j] : 0.0f;
    if (hasB2) b = b + p[oB2 + j];
    if (V > 0) b = b + p[oW + j * V + ids[oIds + r]];
    out[oOut + i] = b;
}

// out[oOut + r, e] = p[oTable + ids[oIds + r] * E + e] (embedding lookup).
__kernel void gather_rows(__global float *out, int oOut, __global const float *p, int oTable, __global const int *ids,
                          int oIds, int E, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int r = i / E, e = i - r * E;
    out[oOut + i] = p[oTable + ids[oIds + r] * E + e];
}

// LSTM forward for one timestep: gates (B, 4H) i,f,g,o pre-activations, to
// which bias (4H) is added, replaced by activations; c_next = f c_prev + i g;
// tanh_c; h_next = o tanh_c.
__kernel void lstm_forward(__global float *gates, int oG, __global const float *bias, __global float *c, int oCp, int oCn,
                           __global float *tanhC, int oTc, __global float *h, int oHn, int H, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / H, j = idx - b * H;
    __global float *g = gates + oG + b * 4 * H;
    float i = fast_sigmoid(g[j] + bias[j]), f = fast_sigmoid(g[H + j] + bias[H + j]);
    float gg = fast_tanh(g[2 * H + j] + bias[2 * H + j]), o = fast_sigmoid(g[3 * H + j] + bias[3 * H + j]);
    g[j] = i; g[H + j] = f; g[2 * H + j] = gg; g[3 * H + j] = o;
    float cn = f * c[oCp + idx] + i * gg;
    float t = fast_tanh(cn);
    c[oCn + idx] = cn; tanhC[oTc + idx] = t; h[oHn + idx] = o * t;
}

// LSTM backward for one timestep: d_pre (B, 4H) from the activations, the
// gradient from above plus the carried dh_next; dc_next updated in place.
__kernel void lstm_backward(__global const float *acts, int oA, __global const float *c, int oCp,
                            __global const float *tanhC, int oTc, __global const float *dAbove, int oDa,
                            __global const float *dhNext, __global float *dcNext, __global float *dPre, int oDp,
                            int H, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / H, j = idx - b * H;
    __global const float *a = acts + oA + b * 4 * H;
    __global float *d = dPre + oDp + b * 4 * H;
    float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j], t = tanhC[oTc + idx];
    float dh = dAbove[oDa + idx] + dhNext[idx];
    float dc = dcNext[idx] + dh * o * (1.0f - t * t);
    d[j] = dc * g * i * (1.0f - i);
    d[H + j] = dc * c[oCp + idx] * f * (1.0f - f);
    d[2 * H + j] = dc * i * (1.0f - g * g);
    d[3 * H + j] = dh * t * o * (1.0f - o);
    dcNext[idx] = dc * f;
}

// GRU forward: xg (B, 3H) = W_ih x, to which bias (3H: b_ih) is added,
// replaced by r,z,n; hg (B, 3H) = W_hh h + b_hh; h_next = (1 - z) n + z h_prev.
__kernel void gru_forward(__global float *xg, int oX, __global const float *bias, __global const float *hg, int oHg,
                          __global float *h, int oHp, int oHn, int H, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / H, j = idx - b * H;
    __global float *x = xg + oX + b * 3 * H;
    __global const float *hh = hg + oHg + b * 3 * H;
    float r = fast_sigmoid(x[j] + bias[j] + hh[j]);
    float z = fast_sigmoid(x[H + j] + bias[H + j] + hh[H + j]);
    float nn = fast_tanh(x[2 * H + j] + bias[2 * H + j] + r * hh[2 * H + j]);
    x[j] = r; x[H + j] = z; x[2 * H + j] = nn;
    h[oHn + idx] = (1.0f - z) * nn + z * h[oHp + idx];
}

// GRU backward: d_x (B, 3H) for W_ih x + b_ih, d_h (B, 3H) for W_hh h + b_hh;
// dh_next replaced by dh z (the caller adds d_h W_hh).
__kernel void gru_backward(__global const float *acts, int oA, __global const float *hg, int oHg,
                           __global const float *h, int oHp, __global const float *dAbove, int oDa,
                           __global float *dhNext, __global float *dX, int oDx, __global float *dH, int oDh,
                           int H, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / H, j = idx - b * H;
    __global const float *a = acts + oA + b * 3 * H;
    float r = a[j], z = a[H + j], nn = a[2 * H + j];
    float hn = hg[oHg + b * 3 * H + 2 * H + j];
    float dh = dAbove[oDa + idx] + dhNext[idx];
    float dn = dh * (1.0f - z) * (1.0f - nn * nn);
    float dz = dh * (h[oHp + idx] - nn) * z * (1.0f - z);
    float dr = dn * hn * r * (1.0f - r);
    __global float *x = dX + oDx + b * 3 * H;
    __global float *y = dH + oDh + b * 3 * H;
    x[j] = dr; x[H + j] = dz; x[2 * H + j] = dn;
    y[j] = dr; y[H + j] = dz; y[2 * H + j] = dn * r;
    dhNext[idx] = dh * z;
}

// RNN forward: pre replaced by tanh(pre + bias) (bias H), also written to h_next.
__kernel void rnn_forward(__global float *pre, int oP, __global const float *bias, __global float *h, int oHn, int H, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = fast_tanh(pre[oP + i] + bias[i % H]);
    pre[oP + i] = v;
    h[oHn + i] = v;
}

// RNN backward: d_pre = (d_above + dh_next) (1 - v^2).
__kernel void rnn_backward(__global const float *acts, int oA, __global const float *dAbove, int oDa,
                           __global const float *dhNext, __global float *dPre, int oDp, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = acts[oA + i];
    dPre[oDp + i] = (dAbove[oDa + i] + dhNext[i]) * (1.0f - v * v);
}

// y[i] = x[i] * m[i] with m = mask ? scale : 0 (dropout; the mask bytes are
// drawn on the host). In place (y == x) for the backward pass.
__kernel void dropout_mul(__global float *y, int oY, __global const float *x, int oX,
                          __global const uchar *mask, int oM, float scale, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float m = mask[oM + i] ? scale : 0.0f;
    y[oY + i] = x[oX + i] * m;
}

// Softmax cross-entropy, one work-item per row of z (rows, V): loss[r] =
// max + log(sum exp(z - max)) - z[target]; with grad, z is replaced by
// (softmax - onehot) * scale.
__kernel void softmax_xent(__global float *z, __global const int *targets, __global float *loss,
                           int V, float scale, int grad, int rows) {
    int r = get_global_id(0);
    if (r >= rows) return;
    __global float *row = z + (long)r * V;
    int target = targets[r];
    float zt = row[target];
    float mx = -INFINITY;
    for (int v = 0; v < V; v++) mx = fmax(mx, row[v]);
    float sum = 0.0f;
    for (int v = 0; v < V; v++) {
        float e = fast_exp(row[v] - mx);
        if (grad) row[v] = e;
        sum += e;
    }
    loss[r] = (float)((acc_t)mx + log((acc_t)sum) - (acc_t)zt);
    if (grad) {
        float s = scale / sum;
        for (int v = 0; v < V; v++) row[v] *= s;
        row[target] -= scale;
    }
}

// out[0] + out[1] = sum of x[0..n) (two floats: a double's worth of the
// total without needing doubles on the host side). One work-group of a
// power-of-two size; the order is fixed, so the result is deterministic.
__kernel void reduce_sum(__global const float *x, int n, __global float *out, __local acc_t *scratch) {
    int l = get_local_id(0), size = get_local_size(0);
    acc_t s = 0;
    for (int i = l; i < n; i += size) s += (acc_t)x[i];
    scratch[l] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = size / 2; width > 0; width /= 2) {
        if (l < width) scratch[l] += scratch[l + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) {
        acc_t total = scratch[0];
        float hi = (float)total;
        out[0] = hi;
        out[1] = (float)(total - (acc_t)hi);
    }
}

// out[j] += sum over r of m[r * ld + j] for j < cols, rows in order (one
// work-item per column).
__kernel void column_sums(__global const float *m, int oM, int ld, int rows, __global float *out, int oOut, int cols) {
    int j = get_global_id(0);
    if (j >= cols) return;
    float s = out[oOut + j];
    for (int r = 0; r < rows; r++) s += m[oM + r * ld + j];
    out[oOut + j] = s;
}

// One-hot weight gradient: w[j, ids[r]] += d[r, j] (w is (GH, V), d (rows,
// GH)); one work-item per j, rows in order.
__kernel void scatter_columns(__global float *w, int oW, int V, __global const float *d, int GH,
                              __global const int *ids, int rows) {
    int j = get_global_id(0);
    if (j >= GH) return;
    __global float *wj = w + oW + j * V;
    for (int r = 0; r < rows; r++) wj[ids[r]] += d[r * GH + j];
}

// Embedding gradient: table[ids[r], e] += src[r, e]; one work-item per e,
// rows in order.
__kernel void scatter_rows(__global float *table, int oT, __global const float *src, int E,
                           __global const int *ids, int rows) {
    int e = get_global_id(0);
    if (e >= E) return;
    for (int r = 0; r < rows; r++) table[oT + ids[r] * E + e] += src[r * E + e];
}

// g = clamp(g, -limit, limit) (NaN stays NaN).
__kernel void clip(__global float *g, float limit, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = g[i];
    v = v < -limit ? -limit : v;
    g[i] = v > limit ? limit : v;
}

// RMSprop: m = a m + (1 - a) g^2; x -= lr g / (sqrt(m) + eps).
__kernel void rmsprop(__global float *x, __global const float *g, __global float *m, float lr, float a, float eps, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    float mi = a * m[i] + (1.0f - a) * gi * gi;
    m[i] = mi;
    x[i] -= lr * gi / (sqrt(mi) + eps);
}

// Adam, bias correction folded into stepSize = lr / (1 - b1^t) and c2root = sqrt(1 - b2^t).
__kernel void adam(__global float *x, __global const float *g, __global float *m, __global float *v,
                   float stepSize, float b1, float b2, float c2root, float eps, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    x[i] -= stepSize * mi / (sqrt(vi) / c2root + eps);
}
"""#
