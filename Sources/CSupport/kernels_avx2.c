// The kernels of kernels_impl.h for AVX2 + FMA (8 floats a vector, 16
// registers): tiles of 16 columns × 5, 4 or 6 rows and 32 × 3 (the first is
// the default where the plan is not measured).
#if defined(__x86_64__)
#include "kernels_table.h"
#include <immintrin.h>
#pragma clang diagnostic ignored "-Wpsabi"
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define KBLOCK 512
#define VL 8
#define ISA_NAME "avx2"
#define K(name) name##_avx2
#include "kernels_impl.h"
DEFINE_TILES(1) DEFINE_TILES(2) DEFINE_TILES(4)
DEFINE_GEMM(2, 5) DEFINE_GEMM(2, 4) DEFINE_GEMM(2, 6) DEFINE_GEMM(4, 3)
KERNEL_TABLE(VARIANT(2, 5, 16), VARIANT(2, 4, 16), VARIANT(2, 6, 16), VARIANT(4, 3, 32));
#pragma clang attribute pop
#endif
