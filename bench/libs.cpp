// bench/libs.cpp — the kernel libraries Debian offers, timed on the work
// that rnn-train's CPU backend does (`make bench-libs`, bench/libs.sh):
//
//   products  one step's matrix product of a layer, M rows (25: one of two
//             threads' share of a batch of 50; 50: one thread), for LSTM
//             H = 128 and 512, forward (M×4H×H) and backward (M×H×4H):
//             charrnn's own packed kernels (the best variant), libxsmm's JIT
//             kernels over the same panels, OpenBLAS and BLIS (each called
//             per step, so each packs the weights again every call).
//   dnnl      oneDNN's fused LSTM (the engine of PyTorch's CPU LSTM): a
//             2-layer LSTM's forward_training and backward over batch 50,
//             50 steps, one-hot input of 65, weights reordered from
//             PyTorch's layout every iteration as training would (they
//             change each step); ms per iteration and chars/s.
//
// Built three times, one library per binary (BLIS and OpenBLAS export the
// same BLAS symbols): -DWITH_OURS (ours, libxsmm, OpenBLAS), -DWITH_BLIS,
// -DWITH_DNNL. One JSON line per figure; the best of several interleaved
// rounds.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static double seconds(std::chrono::steady_clock::time_point a) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

struct Shape {
    int m, n, k;
    const char *what;
};
static const Shape shapes[] = {
    {25, 512, 128, "LSTM 128 forward"}, {25, 128, 512, "LSTM 128 backward"},
    {25, 2048, 512, "LSTM 512 forward"}, {25, 512, 2048, "LSTM 512 backward"},
    {50, 512, 128, "LSTM 128 forward"}, {50, 2048, 512, "LSTM 512 forward"},
};

static std::vector<float> random_floats(size_t n, unsigned seed) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return v;
}

/// Best seconds per call of `run` over interleaved rounds (the caller
/// interleaves by calling this per round).
template <typename F> static double time_calls(F run, int reps) {
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; r++) run();
    return seconds(t0) / reps;
}

static void report(const Shape &s, const char *lib, double t) {
    double flops = 2.0 * s.m * s.n * s.k;
    std::printf("{\"kind\": \"product\", \"shape\": \"%dx%dx%d\", \"what\": \"%s\", \"library\": \"%s\", "
                "\"us\": %.1f, \"gflops\": %.1f}\n",
                s.m, s.n, s.k, s.what, lib, t * 1e6, flops / t / 1e9);
}

#if defined(WITH_OURS)
extern "C" {
#include "kernels.h"
#include <cblas.h>
}
int main() {
    for (const Shape &s : shapes) {
        auto a = random_floats((size_t)s.m * s.k, 1), w = random_floats((size_t)s.n * s.k, 2);
        std::vector<float> c((size_t)s.m * s.n);
        int nk = charrnn_gemm_kernel_count();
        std::vector<std::vector<float>> packed(nk);
        std::vector<double> best(nk + 1, 1e30);
        for (int k = 0; k < nk; k++) {
            if (!charrnn_gemm_kernel_available(k)) continue;
            packed[k].resize((size_t)s.n * s.k);
            // W is n×k (PyTorch's layout): the product takes W^T.
            charrnn_pack_panels(s.k, s.n, w.data(), s.k, 1, charrnn_gemm_kernel_panel(k), packed[k].data());
        }
        int reps = s.n * s.k > 300000 ? 3 : 30;
        for (int round = 0; round < 15; round++) {
            for (int k = 0; k < nk; k++) {
                if (packed[k].empty()) continue;
                double t = time_calls([&] { charrnn_gemm_packed(k, s.m, s.n, s.k, a.data(), s.k, packed[k].data(), c.data(), s.n, 0); }, reps);
                if (t < best[k]) best[k] = t;
            }
            double t = time_calls([&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.m, s.n, s.k, 1, a.data(), s.k, w.data(), s.k, 0, c.data(), s.n);
            }, reps);
            if (t < best[nk]) best[nk] = t;
        }
        // Ours: the fastest of our own variants (the planner picks per shape).
        int own = -1;
        for (int k = 0; k < nk; k++) {
            if (packed[k].empty()) continue;
            if (std::strncmp(charrnn_gemm_kernel_name(k), "libxsmm", 7) == 0) {
                report(s, charrnn_gemm_kernel_name(k), best[k]);
            } else if (charrnn_gemm_kernel_isa(k) == charrnn_isa_best() && (own < 0 || best[k] < best[own])) {
                own = k;
            }
        }
        if (own >= 0) report(s, (std::string("charrnn ") + charrnn_gemm_kernel_name(own)).c_str(), best[own]);
        report(s, "OpenBLAS per step", best[nk]);
    }
}
#elif defined(WITH_BLIS)
#include <blis.h>
int main() {
    for (const Shape &s : shapes) {
        auto a = random_floats((size_t)s.m * s.k, 1), w = random_floats((size_t)s.n * s.k, 2);
        std::vector<float> c((size_t)s.m * s.n);
        float one = 1, zero = 0;
        int reps = s.n * s.k > 300000 ? 3 : 30;
        double best = 1e30;
        for (int round = 0; round < 15; round++) {
            // C (m×n, row-major) = A (m×k) · W^T, W n×k row-major: W^T has
            // row stride 1 and column stride k.
            double t = time_calls([&] {
                bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, s.m, s.n, s.k, &one, a.data(), s.k, 1, w.data(), 1, s.k,
                          &zero, c.data(), s.n, 1);
            }, reps);
            if (t < best) best = t;
        }
        report(s, "BLIS per step", best);
    }
}
#elif defined(WITH_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

int main(int argc, char **argv) {
    int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const int B = 50, T = 50, V = 65, G = 4, L = 2;
    for (int H : {128, 512}) {
        // One primitive per layer (as PyTorch does), layer 1's input one-hot.
        struct Layer {
            lstm_forward::primitive_desc fwd;
            lstm_backward::primitive_desc bwd;
            memory src, dst, w_layer_user, w_iter_user, w_layer, w_iter, bias, ws;
            memory diff_src, diff_dst, diff_w_layer, diff_w_iter, diff_bias, w_layer_bwd, w_iter_bwd;
            memory diff_w_layer_user, diff_w_iter_user;
        };
        std::vector<Layer> layers;
        for (int l = 0; l < L; l++) {
            int In = l == 0 ? V : H;
            memory::desc src_md({T, B, In}, dt::f32, tag::tnc), dst_md({T, B, H}, dt::f32, tag::tnc);
            memory::desc wl_any({1, 1, In, G, H}, dt::f32, tag::any), wi_any({1, 1, H, G, H}, dt::f32, tag::any);
            memory::desc bias_md({1, 1, G, H}, dt::f32, tag::ldgo);
            memory::desc none;
            lstm_forward::desc fd(prop_kind::forward_training, rnn_direction::unidirectional_left2right, src_md, none, none,
                                  wl_any, wi_any, bias_md, dst_md, none, none);
            auto fpd = lstm_forward::primitive_desc(fd, eng);
            lstm_backward::desc bd(prop_kind::backward, rnn_direction::unidirectional_left2right, src_md, none, none, wl_any,
                                   wi_any, bias_md, dst_md, none, none, src_md, none, none, wl_any, wi_any, bias_md, dst_md,
                                   none, none);
            auto bpd = lstm_backward::primitive_desc(bd, eng, fpd);
            Layer y{fpd, bpd};
            y.src = memory(src_md, eng);
            y.dst = memory(dst_md, eng);
            // The weights as training keeps them (PyTorch's gate rows): ldgoi.
            y.w_layer_user = memory({{1, 1, In, G, H}, dt::f32, tag::ldgoi}, eng);
            y.w_iter_user = memory({{1, 1, H, G, H}, dt::f32, tag::ldgoi}, eng);
            y.w_layer = memory(fpd.weights_layer_desc(), eng);
            y.w_iter = memory(fpd.weights_iter_desc(), eng);
            y.w_layer_bwd = memory(bpd.weights_layer_desc(), eng);
            y.w_iter_bwd = memory(bpd.weights_iter_desc(), eng);
            y.bias = memory(bias_md, eng);
            y.ws = memory(fpd.workspace_desc(), eng);
            y.diff_src = memory(src_md, eng);
            y.diff_dst = memory(dst_md, eng);
            y.diff_w_layer = memory(bpd.diff_weights_layer_desc(), eng);
            y.diff_w_iter = memory(bpd.diff_weights_iter_desc(), eng);
            y.diff_w_layer_user = memory({{1, 1, In, G, H}, dt::f32, tag::ldgoi}, eng);
            y.diff_w_iter_user = memory({{1, 1, H, G, H}, dt::f32, tag::ldgoi}, eng);
            y.diff_bias = memory(bias_md, eng);
            auto fill = [](memory &m, unsigned seed) {
                auto v = random_floats(m.get_desc().get_size() / 4, seed);
                std::memcpy(m.get_data_handle(), v.data(), v.size() * 4);
            };
            fill(y.w_layer_user, 3 + l); fill(y.w_iter_user, 5 + l); fill(y.bias, 7 + l); fill(y.src, 9 + l);
            fill(y.diff_dst, 11 + l);
            layers.push_back(std::move(y));
        }
        auto iteration = [&] {
            for (auto &y : layers) {  // forward: weights reordered (they change every step)
                reorder(y.w_layer_user, y.w_layer).execute(strm, y.w_layer_user, y.w_layer);
                reorder(y.w_iter_user, y.w_iter).execute(strm, y.w_iter_user, y.w_iter);
                lstm_forward(y.fwd).execute(strm, {{DNNL_ARG_SRC_LAYER, y.src}, {DNNL_ARG_WEIGHTS_LAYER, y.w_layer},
                                                   {DNNL_ARG_WEIGHTS_ITER, y.w_iter}, {DNNL_ARG_BIAS, y.bias},
                                                   {DNNL_ARG_DST_LAYER, y.dst}, {DNNL_ARG_WORKSPACE, y.ws}});
            }
            for (int l = L - 1; l >= 0; l--) {
                auto &y = layers[l];
                reorder(y.w_layer_user, y.w_layer_bwd).execute(strm, y.w_layer_user, y.w_layer_bwd);
                reorder(y.w_iter_user, y.w_iter_bwd).execute(strm, y.w_iter_user, y.w_iter_bwd);
                std::memset(y.diff_w_layer.get_data_handle(), 0, y.diff_w_layer.get_desc().get_size());
                std::memset(y.diff_w_iter.get_data_handle(), 0, y.diff_w_iter.get_desc().get_size());
                std::memset(y.diff_bias.get_data_handle(), 0, y.diff_bias.get_desc().get_size());
                lstm_backward(y.bwd).execute(strm, {{DNNL_ARG_SRC_LAYER, y.src}, {DNNL_ARG_WEIGHTS_LAYER, y.w_layer_bwd},
                                                    {DNNL_ARG_WEIGHTS_ITER, y.w_iter_bwd}, {DNNL_ARG_BIAS, y.bias},
                                                    {DNNL_ARG_DST_LAYER, y.dst}, {DNNL_ARG_DIFF_DST_LAYER, y.diff_dst},
                                                    {DNNL_ARG_WORKSPACE, y.ws}, {DNNL_ARG_DIFF_SRC_LAYER, y.diff_src},
                                                    {DNNL_ARG_DIFF_WEIGHTS_LAYER, y.diff_w_layer},
                                                    {DNNL_ARG_DIFF_WEIGHTS_ITER, y.diff_w_iter},
                                                    {DNNL_ARG_DIFF_BIAS, y.diff_bias}});
                reorder(y.diff_w_layer, y.diff_w_layer_user).execute(strm, y.diff_w_layer, y.diff_w_layer_user);
                reorder(y.diff_w_iter, y.diff_w_iter_user).execute(strm, y.diff_w_iter, y.diff_w_iter_user);
            }
            strm.wait();
        };
        iteration();  // warm-up
        double best = 1e30;
        int rounds = H >= 512 ? 5 : 15;
        for (int r = 0; r < rounds; r++) {
            auto t0 = std::chrono::steady_clock::now();
            iteration();
            double t = seconds(t0);
            if (t < best) best = t;
        }
        std::printf("{\"kind\": \"lstm\", \"library\": \"oneDNN %d.%d.%d\", \"rnn_size\": %d, \"threads\": %d, "
                    "\"ms_per_iter\": %.1f, \"chars_per_sec\": %.0f}\n",
                    dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, H, threads, best * 1e3,
                    B * T / best);
    }
}
#endif
