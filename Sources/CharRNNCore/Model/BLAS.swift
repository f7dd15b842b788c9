// BLAS wrappers (row-major). The element-wise math (exp, sigmoid, tanh,
// softmax, the cells' steps) is C in Sources/CSupport/kernels.c.
#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// C (M×N) = alpha · op(A) · op(B) + beta · C, all row-major.
@inline(__always)
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

/// y (M) = alpha · A (M×N row-major) · x + beta · y
@inline(__always)
public func gemv(m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                 x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(m), blasint(n), alpha, a, blasint(lda), x, 1, beta, y, 1)
}
