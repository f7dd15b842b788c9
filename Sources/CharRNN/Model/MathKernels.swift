// Vectorised exp/sigmoid/tanh (SIMD16<Float>) and BLAS wrappers.
// The scalar `Real` versions (libm) are the answer key the tests use.
#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

public typealias F16x = SIMD16<Float>

@usableFromInline let expHi: Float = 88.0
@usableFromInline let expLo: Float = -87.3365447504
@usableFromInline let log2e: Float = 1.44269504088896341
@usableFromInline let ln2Hi: Float = 0.693359375
@usableFromInline let ln2Lo: Float = -2.12194440e-4
@usableFromInline let roundMagic: Float = 12582912.0  // 1.5 * 2^23

/// e^x for 16 lanes: range reduction x = n ln2 + r, |r| <= ln2/2, then a
/// degree-7 Taylor polynomial for e^r and 2^n through the exponent bits.
/// Relative error about 2e-7 over the clamped range. No masks or calls, so
/// it compiles to straight AVX-512 code when the target CPU has it.
@_transparent
public func simdExp(_ x: F16x) -> F16x {
    let xc = pointwiseMin(pointwiseMax(x, F16x(repeating: expLo)), F16x(repeating: expHi))
    // n = round(x * log2e) by the magic-number trick (no lane-wise rounding call).
    let t = xc * log2e + roundMagic
    let n = t - roundMagic
    let r = xc - n * ln2Hi - n * ln2Lo
    var p = F16x(repeating: 1.0 / 5040.0)
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    // 2^n: the low bits of t hold n + 0x400000 (from the magic number);
    // shift the integer n into the exponent field.
    let ti = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((ti &+ 127) &<< 23, to: F16x.self)
    return p * scale
}

/// 1 / (1 + e^-x)
@_transparent
public func simdSigmoid(_ x: F16x) -> F16x {
    1 / (1 + simdExp(-x))
}

/// tanh(x) as x·P(x²)/Q(x²), a rational approximation on [-7.9, 7.9]
/// (tanh is ±1 in Float beyond); good relative accuracy near 0 too, and
/// branch-free.
@_transparent
public func simdTanh(_ x: F16x) -> F16x {
    let xc = pointwiseMin(pointwiseMax(x, F16x(repeating: -7.90531110763549805)), F16x(repeating: 7.90531110763549805))
    let x2 = xc * xc
    var p = x2 * Float(-2.76076847742355e-16) + Float(2.00018790482477e-13)
    p = p * x2 + Float(-8.60467152213735e-11)
    p = p * x2 + Float(5.12229709037114e-08)
    p = p * x2 + Float(1.48572235717979e-05)
    p = p * x2 + Float(6.37261928875436e-04)
    p = p * x2 + Float(4.89352455891786e-03)
    p = p * xc
    var q = x2 * Float(1.19825839466702e-06) + Float(1.18534705686654e-04)
    q = q * x2 + Float(2.26843463243900e-03)
    q = q * x2 + Float(4.89352518554385e-03)
    return p / q
}

@inline(__always)
public func scalarSigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> F16x {
    UnsafeRawPointer(p).loadUnaligned(as: F16x.self)
}

@inline(__always)
func store16(_ v: F16x, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F16x.self)
}

/// Applies `simd` to full 16-lane chunks and `scalar` to the tail.
@inline(__always)
public func mapInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ simd: (F16x) -> F16x, _ scalar: (Float) -> Float) {
    var i = 0
    while i + 16 <= n {
        store16(simd(load16(p + i)), p + i)
        i += 16
    }
    if i < n {
        // Pad the tail into a full vector so the same SIMD code (and thus
        // the same rounding) applies to every element.
        var v = F16x(repeating: 0)
        for k in 0..<(n - i) { v[k] = p[i + k] }
        let r = simd(v)
        for k in 0..<(n - i) { p[i + k] = r[k] }
    }
    _ = scalar
}

// MARK: BLAS

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

/// Calls `body(j, n)` for 16-wide chunks of 0..<count, then once for the
/// tail (n < 16). Inlined, the full chunks see n == 16 as a constant, so
/// their loads and stores are plain vector moves.
@inline(__always)
public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
    var j = 0
    while j + 16 <= count {
        body(j, 16)
        j += 16
    }
    if j < count { body(j, count - j) }
}
