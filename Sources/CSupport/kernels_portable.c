// The kernels of kernels_impl.h for any CPU, with the compiler's baseline
// vectors of 4 floats (SSE2 on x86-64, NEON on arm64; no FMA on a plain
// x86-64 build): tiles of 8 columns × 5 rows and 16 × 3.
#include "kernels_table.h"
// The 64-byte element-wise vectors pass between static functions of this file only.
#pragma clang diagnostic ignored "-Wpsabi"
#define KBLOCK 256
#define VL 4
#define ISA_NAME "portable"
#define K(name) name##_portable
#include "kernels_impl.h"
DEFINE_TILES(1) DEFINE_TILES(2) DEFINE_TILES(4)
DEFINE_GEMM(2, 5) DEFINE_GEMM(4, 3)
KERNEL_TABLE(VARIANT(2, 5, 8), VARIANT(4, 3, 16));
