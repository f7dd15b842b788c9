// The kernels of kernels_impl.h for AVX-512 (16 floats a vector, 32
// registers): tiles of 64 columns × 5 or 6 rows and 32 × 8.
#if defined(__x86_64__)
#include "kernels_table.h"
#include <immintrin.h>
// The 64-byte vectors pass between static functions of this file only.
#pragma clang diagnostic ignored "-Wpsabi"
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), apply_to = function)
#define KBLOCK 128
#define VL 16
#define KERNELS_AVX512 1
#define ISA_NAME "avx512"
#define K(name) name##_avx512
#include "kernels_impl.h"
DEFINE_TILES(1) DEFINE_TILES(2) DEFINE_TILES(4)
DEFINE_GEMM(4, 5) DEFINE_GEMM(4, 6) DEFINE_GEMM(2, 8)
KERNEL_TABLE(VARIANT(4, 5, 64), VARIANT(4, 6, 64), VARIANT(2, 8, 32));
#pragma clang attribute pop
#endif
