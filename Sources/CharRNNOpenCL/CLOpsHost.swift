// Each OpenCL op with host arrays in and out (upload, run, read back), so
// that the tests can compare every kernel against the CPU's on random
// inputs (reached with @testable import). Not for speed: every call
// allocates and synchronises.
import CharRNNCore
import COpenCL

struct OpenCLOpRunner {
    let cl: CLContext
    var ops: CLOps { CLOps(cl: cl) }

    init(context: CLContext) { cl = context }

    func up(_ values: [Float], _ name: String = "a test input") throws -> FloatBuf {
        let b = try FloatBuf(cl, count: values.count, name: name)
        try b.write(values)
        return b
    }

    func up(_ values: [Int32]) throws -> IntBuf {
        let b = try IntBuf(cl, count: values.count, name: "test ids")
        try b.write(values)
        return b
    }

    /// C (M×N) = alpha·op(A)·op(B) + beta·C, row-major, as BLAS.swift's gemm.
    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, a: [Float], lda: Int,
                     b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) throws -> [Float] {
        let (da, db, dc) = (try up(a), try up(b), try up(c))
        try cl.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: da, lda: lda, b: db, ldb: ldb,
                    beta: beta, c: dc, ldc: ldc)
        return try dc.read()
    }

    /// y = alpha·A·x + beta·y (A is M×N row-major).
    func gemv(m: Int, n: Int, a: [Float], x: [Float], beta: Float, y: [Float]) throws -> [Float] {
        let (da, dx, dy) = (try up(a), try up(x), try up(y))
        try cl.gemv(m: m, n: n, a: da, lda: n, x: dx, beta: beta, y: dy)
        return try dy.read()
    }

    /// rows × width of (p[bias1+j]) (+ p[bias2+j]) (+ p[weight + j·V + ids[r]]).
    func biasRows(params: [Float], bias1: Int?, bias2: Int?, oneHot: (weight: Int, V: Int)?, ids: [Int32],
                         width: Int) throws -> [Float] {
        let out = try FloatBuf(cl, count: ids.count * width, name: "out")
        try ops.biasRows(out, 0, params: try up(params), bias1: bias1, bias2: bias2, oneHot: oneHot, ids: try up(ids),
                         rows: ids.count, width: width)
        return try out.read()
    }

    /// Rows of an embedding table: p[table + ids[r]·E ..+E].
    func gatherRows(params: [Float], table: Int, ids: [Int32], width: Int) throws -> [Float] {
        let out = try FloatBuf(cl, count: ids.count * width, name: "out")
        try ops.gatherRows(out, 0, params: try up(params), table: table, ids: try up(ids), 0, rows: ids.count, width: width)
        return try out.read()
    }

    /// LSTM step forward: (activations, c_next, tanh_c, h_next).
    func lstmForward(gates: [Float], bias: [Float], cPrev: [Float], rows: Int, H: Int) throws -> ([Float], [Float], [Float], [Float]) {
        let g = try up(gates), c = try up(cPrev + [Float](repeating: 0, count: rows * H))
        let tc = try FloatBuf(cl, count: rows * H, name: "tc"), h = try FloatBuf(cl, count: rows * H, name: "h")
        try ops.lstmForward(gates: g, 0, bias: try up(bias), c: c, cPrev: 0, cNext: rows * H, tanhC: tc, 0, h: h, hNext: 0,
                            rows: rows, H: H)
        return (try g.read(), try c.read(count: rows * H, at: rows * H), try tc.read(), try h.read())
    }

    /// LSTM step backward: (d_pre, dc_next after).
    func lstmBackward(acts: [Float], cPrev: [Float], tanhC: [Float], dAbove: [Float], dhNext: [Float],
                             dcNext: [Float], rows: Int, H: Int) throws -> ([Float], [Float]) {
        let dp = try FloatBuf(cl, count: rows * 4 * H, name: "dp"), dc = try up(dcNext)
        try ops.lstmBackward(acts: try up(acts), 0, c: try up(cPrev), cPrev: 0, tanhC: try up(tanhC), 0, dAbove: try up(dAbove), 0,
                             dhNext: try up(dhNext), dcNext: dc, dPre: dp, 0, rows: rows, H: H)
        return (try dp.read(), try dc.read())
    }

    /// GRU step forward: (activations r,z,n, h_next).
    func gruForward(xg: [Float], bias: [Float], hg: [Float], hPrev: [Float], rows: Int, H: Int) throws -> ([Float], [Float]) {
        let x = try up(xg), h = try up(hPrev + [Float](repeating: 0, count: rows * H))
        try ops.gruForward(xg: x, 0, bias: try up(bias), hg: try up(hg), 0, h: h, hPrev: 0, hNext: rows * H, rows: rows, H: H)
        return (try x.read(), try h.read(count: rows * H, at: rows * H))
    }

    /// GRU step backward: (d_x, d_h, dh_next after).
    func gruBackward(acts: [Float], hg: [Float], hPrev: [Float], dAbove: [Float], dhNext: [Float],
                            rows: Int, H: Int) throws -> ([Float], [Float], [Float]) {
        let dx = try FloatBuf(cl, count: rows * 3 * H, name: "dx"), dh = try FloatBuf(cl, count: rows * 3 * H, name: "dh")
        let dn = try up(dhNext)
        try ops.gruBackward(acts: try up(acts), 0, hg: try up(hg), 0, h: try up(hPrev), hPrev: 0, dAbove: try up(dAbove), 0,
                            dhNext: dn, dX: dx, 0, dH: dh, 0, rows: rows, H: H)
        return (try dx.read(), try dh.read(), try dn.read())
    }

    /// RNN step forward: (activations, h_next).
    func rnnForward(pre: [Float], bias: [Float], rows: Int, H: Int) throws -> ([Float], [Float]) {
        let p = try up(pre), h = try FloatBuf(cl, count: pre.count, name: "h")
        try ops.rnnForward(pre: p, 0, bias: try up(bias), h: h, hNext: 0, rows: rows, H: H)
        return (try p.read(), try h.read())
    }

    /// RNN step backward: d_pre.
    func rnnBackward(acts: [Float], dAbove: [Float], dhNext: [Float]) throws -> [Float] {
        let dp = try FloatBuf(cl, count: acts.count, name: "dp")
        try ops.rnnBackward(acts: try up(acts), 0, dAbove: try up(dAbove), 0, dhNext: try up(dhNext), dPre: dp, 0, count: acts.count)
        return try dp.read()
    }

    /// x · (keep[i] ? scale : 0).
    func dropout(_ x: [Float], keep: [Bool], scale: Float) throws -> [Float] {
        let m = try ByteBuf(cl, count: keep.count, name: "mask")
        try m.write(keep.map { $0 ? 1 : 0 })
        let y = try FloatBuf(cl, count: x.count, name: "y")
        try ops.dropoutMul(y, 0, try up(x), 0, mask: m, 0, scale: scale, count: x.count)
        return try y.read()
    }

    /// Summed softmax cross-entropy (reduced on the device) and, with a
    /// gradient scale, the gradient in place of the logits.
    func softmaxCrossEntropy(logits: [Float], targets: [Int32], classes V: Int, gradientScale: Float?) throws -> (Double, [Float]) {
        let z = try up(logits), loss = try FloatBuf(cl, count: targets.count, name: "loss"), sum = try FloatBuf(cl, count: 2, name: "sum")
        try ops.softmaxXent(z, targets: try up(targets), rowLoss: loss, rows: targets.count, classes: V, gradientScale: gradientScale)
        try ops.reduceSum(loss, count: targets.count, into: sum)
        let s = try sum.read()
        return (Double(s[0]) + Double(s[1]), try z.read())
    }

    /// out[j] + Σ_r m[r·ld + j].
    func columnSums(_ m: [Float], ld: Int, rows: Int, cols: Int, into out: [Float]) throws -> [Float] {
        let o = try up(out)
        try ops.columnSums(try up(m), 0, ld: ld, rows: rows, cols: cols, into: o, 0)
        return try o.read()
    }

    /// w (GH×V) with w[j, ids[r]] += d[r, j].
    func scatterColumns(_ w: [Float], V: Int, _ d: [Float], GH: Int, ids: [Int32]) throws -> [Float] {
        let dw = try up(w)
        try ops.scatterColumns(dw, 0, V: V, try up(d), GH: GH, ids: try up(ids), rows: ids.count)
        return try dw.read()
    }

    /// table with table[ids[r]] += src[r] (rows of E).
    func scatterRows(_ table: [Float], _ src: [Float], width E: Int, ids: [Int32]) throws -> [Float] {
        let t = try up(table)
        try ops.scatterRows(t, 0, try up(src), width: E, ids: try up(ids), rows: ids.count)
        return try t.read()
    }

    func clip(_ g: [Float], limit: Float) throws -> [Float] {
        let d = try up(g)
        try ops.clip(d, limit: limit, count: g.count)
        return try d.read()
    }

    /// One RMSprop step: (x, m) after.
    func rmsprop(x: [Float], g: [Float], m: [Float], lr: Float, decay: Float, eps: Float) throws -> ([Float], [Float]) {
        let (dx, dm) = (try up(x), try up(m))
        try ops.rmsprop(dx, try up(g), dm, lr: lr, decay: decay, eps: eps, count: x.count)
        return (try dx.read(), try dm.read())
    }

    /// One Adam step: (x, m, v) after.
    func adam(x: [Float], g: [Float], m: [Float], v: [Float], stepSize: Float, beta1: Float, beta2: Float,
                     c2root: Float, eps: Float) throws -> ([Float], [Float], [Float]) {
        let (dx, dm, dv) = (try up(x), try up(m), try up(v))
        try ops.adam(dx, try up(g), dm, dv, stepSize: stepSize, beta1: beta1, beta2: beta2, c2root: c2root, eps: eps, count: x.count)
        return (try dx.read(), try dm.read(), try dv.read())
    }

    /// Builds extra OpenCL C source on this device and throws its build
    /// log on failure (tests of the error path).
    func compile(_ source: String) throws {
        let program = try CLContext.build(source: source, options: "", context: cl.context, device: cl.device, info: cl.info)
        clReleaseProgram(program)
    }

    /// Allocates (and releases) a buffer of `bytes`: the allocation errors.
    func allocate(bytes: Int, name: String) throws {
        _ = try CLBuffer<UInt8>(cl, count: bytes, name: name)
    }
}
