// The operations the OpenCL network is made of: each kernel of
// CLKernelSource.swift behind a typed Swift call, and the GEMM/GEMV of
// CLBlast (row-major, with the transposes the CPU code uses).
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore
import COpenCL
import CCLBlast

public typealias FloatBuf = CLBuffer<Float>
public typealias IntBuf = CLBuffer<Int32>
public typealias ByteBuf = CLBuffer<UInt8>

/// The compiled kernels of one context.
final class CLKernels {
    let biasRows, gatherRows: cl_kernel
    let lstmForward, lstmBackward, gruForward, gruBackward, rnnForward, rnnBackward: cl_kernel
    let dropoutMul, softmaxXent, reduceSum, columnSums, scatterColumns, scatterRows: cl_kernel
    let clip, rmsprop, adam: cl_kernel
    /// Work-group size of reduce_sum (a power of two).
    let reduceGroup: Int
    private var all: [cl_kernel] = []

    init(program: cl_program, device: cl_device_id, info: CLDeviceInfo) throws {
        var made: [cl_kernel] = []
        func make(_ name: String) throws -> cl_kernel {
            var status: cl_int = 0
            guard let k = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
                for k in made { clReleaseKernel(k) }
                throw CharRNNError("cannot create the OpenCL kernel \(name) on \(info.label): \(clErrorName(status))",
                                   hint: "try --device cpu; report this if it persists")
            }
            made.append(k)
            return k
        }
        biasRows = try make("bias_rows"); gatherRows = try make("gather_rows")
        lstmForward = try make("lstm_forward"); lstmBackward = try make("lstm_backward")
        gruForward = try make("gru_forward"); gruBackward = try make("gru_backward")
        rnnForward = try make("rnn_forward"); rnnBackward = try make("rnn_backward")
        dropoutMul = try make("dropout_mul"); softmaxXent = try make("softmax_xent")
        reduceSum = try make("reduce_sum"); columnSums = try make("column_sums")
        scatterColumns = try make("scatter_columns"); scatterRows = try make("scatter_rows")
        clip = try make("clip"); rmsprop = try make("rmsprop"); adam = try make("adam")
        all = made
        var maxGroup = 0
        _ = clGetKernelWorkGroupInfo(reduceSum, device, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                     MemoryLayout<Int>.size, &maxGroup, nil)
        var group = 1
        while group * 2 <= min(256, max(maxGroup, 1)) { group *= 2 }
        reduceGroup = group
    }

    func release() { for k in all { clReleaseKernel(k) } }
}

/// One kernel launch: arguments set in order as they are given (no
/// allocation), then `run` enqueues it. The first failing call is kept and
/// thrown by `run`.
struct KernelCall {
    let cl: CLContext
    let kernel: cl_kernel
    var index: cl_uint = 0
    var status: cl_int = CL_SUCCESS

    private func next(_ s: cl_int) -> KernelCall {
        var c = self
        if c.status == CL_SUCCESS { c.status = s }
        c.index += 1
        return c
    }

    func mem<T>(_ buffer: CLBuffer<T>) -> KernelCall {
        var v: cl_mem? = buffer.mem
        return next(clSetKernelArg(kernel, index, MemoryLayout<cl_mem>.size, &v))
    }

    func int(_ x: Int) -> KernelCall {
        precondition(x >= Int(Int32.min) && x <= Int(Int32.max), "kernel argument out of 32-bit range")
        var v = Int32(x)
        return next(clSetKernelArg(kernel, index, 4, &v))
    }

    func float(_ x: Float) -> KernelCall {
        var v = x
        return next(clSetKernelArg(kernel, index, 4, &v))
    }

    func local(bytes: Int) -> KernelCall {
        next(clSetKernelArg(kernel, index, bytes, nil))
    }

    /// Enqueues over `n` work-items, rounded up to a multiple of 64 (the
    /// kernels ignore the extra ones), or exactly `n` in groups of `local`.
    func run(_ n: Int, local: Int? = nil) throws {
        if n == 0 { return }
        try cl.check(status, "setting argument \(index) of a kernel")
        if var l = local {
            var global = n
            try cl.check(clEnqueueNDRangeKernel(cl.queue, kernel, 1, nil, &global, &l, 0, nil, nil), "running a kernel")
        } else {
            var global = (n + 63) / 64 * 64
            try cl.check(clEnqueueNDRangeKernel(cl.queue, kernel, 1, nil, &global, nil, 0, nil, nil), "running a kernel")
        }
    }
}

extension CLContext {
    func call(_ kernel: cl_kernel) -> KernelCall { KernelCall(cl: self, kernel: kernel) }

    /// C (M×N) = alpha · op(A) · op(B) + beta · C, row-major, through CLBlast.
    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
              a: FloatBuf, _ aOffset: Int = 0, lda: Int, b: FloatBuf, _ bOffset: Int = 0, ldb: Int,
              beta: Float, c: FloatBuf, _ cOffset: Int = 0, ldc: Int) throws {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // CLBlast refuses k = 0; C = beta C.
            precondition(beta == 0 || beta == 1)
            if beta == 0 { for r in 0..<m { try c.zero(count: n, at: cOffset + r * ldc) } }
            return
        }
        let status = CLBlastSgemm(CLBlastLayoutRowMajor, transA ? CLBlastTransposeYes : CLBlastTransposeNo,
                                  transB ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha,
                                  a.mem, aOffset, lda, b.mem, bOffset, ldb, beta, c.mem, cOffset, ldc, &queue, nil)
        if status != CLBlastSuccess { throw blasFailure(status, "SGEMM \(m)×\(n)×\(k)") }
    }

    /// y (M) = alpha · A (M×N row-major) · x + beta · y, through CLBlast.
    func gemv(m: Int, n: Int, alpha: Float = 1, a: FloatBuf, _ aOffset: Int = 0, lda: Int,
              x: FloatBuf, _ xOffset: Int = 0, beta: Float, y: FloatBuf, _ yOffset: Int = 0) throws {
        if m == 0 || n == 0 { return }
        let status = CLBlastSgemv(CLBlastLayoutRowMajor, CLBlastTransposeNo, m, n, alpha, a.mem, aOffset, lda,
                                  x.mem, xOffset, 1, beta, y.mem, yOffset, 1, &queue, nil)
        if status != CLBlastSuccess { throw blasFailure(status, "SGEMV \(m)×\(n)") }
    }

    func blasFailure(_ status: CLBlastStatusCode, _ what: String) -> CharRNNError {
        let raw = status.rawValue
        if raw > -1000 { return failure(cl_int(raw), "CLBlast \(what)") }
        return CharRNNError("CLBlast \(what) failed on \(info.label) (CLBlast status \(raw))",
                            hint: "try --device cpu; report this with 'rnn-ckpt devices' output")
    }
}

/// Typed wrappers, one per kernel, with each buffer followed by its offset
/// in elements (the kernels' argument order).
struct CLOps {
    let cl: CLContext
    var k: CLKernels { cl.kernels }

    /// out[r, j] = (p[b1 + j]) (+ p[b2 + j]) (+ p[w + j·V + ids[idsAt + r]]) for rows × width.
    func biasRows(_ out: FloatBuf, _ oOut: Int, params p: FloatBuf, bias1: Int?, bias2: Int?, oneHot: (weight: Int, V: Int)?,
                  ids: IntBuf, _ idsAt: Int = 0, rows: Int, width: Int) throws {
        try cl.call(k.biasRows).mem(out).int(oOut).mem(p).int(bias1 ?? 0).int(bias1 == nil ? 0 : 1)
            .int(bias2 ?? 0).int(bias2 == nil ? 0 : 1).int(oneHot?.weight ?? 0).int(oneHot?.V ?? 0).mem(ids).int(idsAt)
            .int(width).int(rows * width).run(rows * width)
    }

    /// out[oOut + r, e] = p[table + ids[idsAt + r]·E + e] (embedding lookup).
    func gatherRows(_ out: FloatBuf, _ oOut: Int, params p: FloatBuf, table: Int, ids: IntBuf, _ idsAt: Int, rows: Int,
                    width E: Int) throws {
        try cl.call(k.gatherRows).mem(out).int(oOut).mem(p).int(table).mem(ids).int(idsAt).int(E).int(rows * E).run(rows * E)
    }

    func lstmForward(gates: FloatBuf, _ oG: Int, bias: FloatBuf, c: FloatBuf, cPrev oCp: Int, cNext oCn: Int, tanhC: FloatBuf,
                     _ oTc: Int, h: FloatBuf, hNext oHn: Int, rows: Int, H: Int) throws {
        try cl.call(k.lstmForward).mem(gates).int(oG).mem(bias).mem(c).int(oCp).int(oCn).mem(tanhC).int(oTc).mem(h).int(oHn)
            .int(H).int(rows * H).run(rows * H)
    }

    func lstmBackward(acts: FloatBuf, _ oA: Int, c: FloatBuf, cPrev oCp: Int, tanhC: FloatBuf, _ oTc: Int,
                      dAbove: FloatBuf, _ oDa: Int, dhNext: FloatBuf, dcNext: FloatBuf, dPre: FloatBuf, _ oDp: Int,
                      rows: Int, H: Int) throws {
        try cl.call(k.lstmBackward).mem(acts).int(oA).mem(c).int(oCp).mem(tanhC).int(oTc).mem(dAbove).int(oDa)
            .mem(dhNext).mem(dcNext).mem(dPre).int(oDp).int(H).int(rows * H).run(rows * H)
    }

    func gruForward(xg: FloatBuf, _ oX: Int, bias: FloatBuf, hg: FloatBuf, _ oHg: Int, h: FloatBuf, hPrev oHp: Int,
                    hNext oHn: Int, rows: Int, H: Int) throws {
        try cl.call(k.gruForward).mem(xg).int(oX).mem(bias).mem(hg).int(oHg).mem(h).int(oHp).int(oHn).int(H).int(rows * H)
            .run(rows * H)
    }

    func gruBackward(acts: FloatBuf, _ oA: Int, hg: FloatBuf, _ oHg: Int, h: FloatBuf, hPrev oHp: Int, dAbove: FloatBuf, _ oDa: Int,
                     dhNext: FloatBuf, dX: FloatBuf, _ oDx: Int, dH: FloatBuf, _ oDh: Int, rows: Int, H: Int) throws {
        try cl.call(k.gruBackward).mem(acts).int(oA).mem(hg).int(oHg).mem(h).int(oHp).mem(dAbove).int(oDa).mem(dhNext)
            .mem(dX).int(oDx).mem(dH).int(oDh).int(H).int(rows * H).run(rows * H)
    }

    func rnnForward(pre: FloatBuf, _ oP: Int, bias: FloatBuf, h: FloatBuf, hNext oHn: Int, rows: Int, H: Int) throws {
        try cl.call(k.rnnForward).mem(pre).int(oP).mem(bias).mem(h).int(oHn).int(H).int(rows * H).run(rows * H)
    }

    func rnnBackward(acts: FloatBuf, _ oA: Int, dAbove: FloatBuf, _ oDa: Int, dhNext: FloatBuf, dPre: FloatBuf, _ oDp: Int, count n: Int) throws {
        try cl.call(k.rnnBackward).mem(acts).int(oA).mem(dAbove).int(oDa).mem(dhNext).mem(dPre).int(oDp).int(n).run(n)
    }

    /// y = x · (mask ? scale : 0); y may be x.
    func dropoutMul(_ y: FloatBuf, _ oY: Int, _ x: FloatBuf, _ oX: Int, mask: ByteBuf, _ oM: Int, scale: Float, count n: Int) throws {
        try cl.call(k.dropoutMul).mem(y).int(oY).mem(x).int(oX).mem(mask).int(oM).float(scale).int(n).run(n)
    }

    /// Row losses of softmax cross-entropy; with a scale, z becomes its gradient.
    func softmaxXent(_ z: FloatBuf, targets: IntBuf, rowLoss: FloatBuf, rows: Int, classes V: Int, gradientScale: Float?) throws {
        try cl.call(k.softmaxXent).mem(z).mem(targets).mem(rowLoss).int(V).float(gradientScale ?? 0)
            .int(gradientScale == nil ? 0 : 1).int(rows).run(rows)
    }

    /// out[0] + out[1] = the sum of x[0..<n).
    func reduceSum(_ x: FloatBuf, count n: Int, into out: FloatBuf) throws {
        let group = k.reduceGroup
        try cl.call(k.reduceSum).mem(x).int(n).mem(out).local(bytes: group * 8).run(group, local: group)
    }

    /// out[j] += Σ_r m[oM + r·ld + j] for j < cols.
    func columnSums(_ m: FloatBuf, _ oM: Int, ld: Int, rows: Int, cols: Int, into out: FloatBuf, _ oOut: Int) throws {
        try cl.call(k.columnSums).mem(m).int(oM).int(ld).int(rows).mem(out).int(oOut).int(cols).run(cols)
    }

    /// w[j, ids[r]] += d[r, j]: the weight gradient of a one-hot input.
    func scatterColumns(_ w: FloatBuf, _ oW: Int, V: Int, _ d: FloatBuf, GH: Int, ids: IntBuf, rows: Int) throws {
        try cl.call(k.scatterColumns).mem(w).int(oW).int(V).mem(d).int(GH).mem(ids).int(rows).run(GH)
    }

    /// table[ids[r], e] += src[r, e]: the embedding gradient.
    func scatterRows(_ table: FloatBuf, _ oT: Int, _ src: FloatBuf, width E: Int, ids: IntBuf, rows: Int) throws {
        try cl.call(k.scatterRows).mem(table).int(oT).mem(src).int(E).mem(ids).int(rows).run(E)
    }

    func clip(_ g: FloatBuf, limit: Float, count n: Int) throws {
        try cl.call(k.clip).mem(g).float(limit).int(n).run(n)
    }

    func rmsprop(_ x: FloatBuf, _ g: FloatBuf, _ m: FloatBuf, lr: Float, decay a: Float, eps: Float, count n: Int) throws {
        try cl.call(k.rmsprop).mem(x).mem(g).mem(m).float(lr).float(a).float(eps).int(n).run(n)
    }

    func adam(_ x: FloatBuf, _ g: FloatBuf, _ m: FloatBuf, _ v: FloatBuf, stepSize: Float, beta1: Float, beta2: Float,
              c2root: Float, eps: Float, count n: Int) throws {
        try cl.call(k.adam).mem(x).mem(g).mem(m).mem(v).float(stepSize).float(beta1).float(beta2).float(c2root)
            .float(eps).int(n).run(n)
    }
}
