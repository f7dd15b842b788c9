// The OpenCL backend against the CPU one (the reference): every kernel and
// GEMM on random inputs, then whole training runs, sampling, evaluation and
// resuming across devices. Skipped, with a message, when no OpenCL device
// is present (install pocl-opencl-icd to run them on a CPU).
//
// Tolerances: GEMM/GEMV 1e-5 relative to the largest magnitude of the
// result (the summation order differs); element-wise kernels 1e-5 relative
// (they use the same exp/tanh approximations as the CPU); training losses
// 1e-4 relative at every one of 50 steps; argmax samples identical.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import CSupport
import Foundation
import XCTest

/// The OpenCL context the tests use, or a skip saying why there is none.
func openCLContext() throws -> CLContext {
    do {
        return try CLContext.shared(.automatic)
    } catch let e as CharRNNError {
        throw XCTSkip("no OpenCL device, so the OpenCL tests do not run: \(e)")
    }
}

/// max |a - b| / max(max |b|, floor) — normwise relative difference.
func normwiseDifference(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    precondition(a.count == b.count)
    var diff: Float = 0, size: Float = floor
    for i in 0..<a.count {
        diff = max(diff, abs(a[i] - b[i]))
        size = max(size, abs(b[i]))
    }
    return diff / size
}

/// max over elements of |a - b| / max(|b|, floor).
func elementwiseDifference(_ a: [Float], _ b: [Float], floor: Float = 1e-3) -> Float {
    precondition(a.count == b.count)
    var worst: Float = 0
    for i in 0..<a.count {
        if a[i] == b[i] { continue }
        worst = max(worst, abs(a[i] - b[i]) / max(abs(b[i]), floor))
    }
    return worst
}

final class OpenCLTests: XCTestCase {
    var rng = SplitMix64(seed: 2024)

    func random(_ n: Int, _ scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) }
    }

    func randomIDs(_ n: Int, below v: Int) -> [Int32] {
        (0..<n).map { _ in Int32.random(in: 0..<Int32(v), using: &rng) }
    }

    // MARK: devices and errors

    func testDeviceNamesParse() {
        XCTAssertEqual(ComputeDevice(parsing: "cpu"), .cpu)
        XCTAssertEqual(ComputeDevice(parsing: "opencl"), .openCL(.automatic))
        XCTAssertEqual(ComputeDevice(parsing: "opencl:2"), .openCL(.flat(2)))
        XCTAssertEqual(ComputeDevice(parsing: "opencl:1.0"), .openCL(.indexed(platform: 1, device: 0)))
        for bad in ["", "gpu", "opencl:", "opencl:x", "opencl:1.", "opencl:.1", "opencl:1.2.3", "opencl:-1", "OpenCL", "cpu:0"] {
            XCTAssertNil(ComputeDevice(parsing: bad), bad)
        }
        XCTAssertEqual(ComputeDevice.openCL(.indexed(platform: 0, device: 1)).description, "opencl:0.1")
    }

    func testDevicesAreListed() throws {
        let context = try openCLContext()
        let all = try OpenCLDevices.list()
        XCTAssertFalse(all.isEmpty)
        XCTAssertTrue(all.contains { $0.selector == context.info.selector })
        for d in all {
            XCTAssertGreaterThan(d.computeUnits, 0, d.label)
            XCTAssertGreaterThan(d.globalMemory, 0, d.label)
            XCTAssertGreaterThan(d.maxAllocation, 0, d.label)
        }
    }

    func testMissingDevicesAreClearErrors() throws {
        _ = try openCLContext()
        let count = try OpenCLDevices.list().count
        assertThrowsCharRNNError(["opencl:\(count + 5)", "no such OpenCL device", "rnn-ckpt devices"]) {
            try CLContext(.flat(count + 5))
        }
        assertThrowsCharRNNError(["opencl:99.0", "no OpenCL platform 99", "rnn-ckpt devices"]) {
            try CLContext(.indexed(platform: 99, device: 0))
        }
        assertThrowsCharRNNError(["opencl:0.99", "has no device 99"]) {
            try CLContext(.indexed(platform: 0, device: 99))
        }
    }

    func testKernelBuildFailureShowsTheLog() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        XCTAssertNoThrow(try runner.compile("__kernel void fine(__global float *x) { x[0] = 1.0f; }"))
        print("OpenCLTests: a compiler error about 'undeclared_thing' may follow; it is expected (a deliberately broken kernel)")
        assertThrowsCharRNNError(["did not build", "build log", "undeclared_thing"]) {
            try runner.compile("__kernel void broken(__global float *x) { x[0] = undeclared_thing; }")
        }
    }

    func testAllocationFailureNamesDeviceAndSize() throws {
        let context = try openCLContext()
        let runner = OpenCLOpRunner(context: context)
        let tooBig = context.info.maxAllocation + (1 << 20)
        assertThrowsCharRNNError(["cannot allocate", formatBytes(tooBig), "a test buffer", context.info.selector, "at most"]) {
            try runner.allocate(bytes: tooBig, name: "a test buffer")
        }
        // A network whose activations cannot fit: the error names the buffer.
        let config = ModelConfig(cell: .lstm, rnnSize: 64, numLayers: 1, embeddingSize: 0, dropout: 0, vocabSize: 10)
        var r = RNG(seed: 1)
        let params = initialParameters(ParamLayout(config), rng: &r)
        let batch = context.info.maxAllocation / (4 * 256 * 4) + 1
        assertThrowsCharRNNError(["cannot allocate", "the gates of layer 1", context.info.selector]) {
            try CLTrainingBackend(context: context, config: config, batch: batch, seqLength: 4, params: params,
                                  optimizer: Optimizer(kind: .rmsprop, count: params.count, decayRate: 0.95))
        }
    }

    // MARK: every op against the CPU

    func testGemmMatchesOpenBLAS() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        // (m, n, k) with every transpose the network uses; small and large
        // (CLBlast takes different kernels for them), with offsets via ld.
        for (m, n, k) in [(5, 7, 3), (8, 96, 24), (50, 512, 128), (300, 65, 200)] {
            for (ta, tb) in [(false, true), (false, false), (true, false)] {
                for beta: Float in [0, 1] {
                    let lda = ta ? m : k, ldb = tb ? k : n
                    let a = random((ta ? k : m) * lda), b = random((tb ? n : k) * ldb), c = random(m * n)
                    var expected = c
                    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                        expected.withUnsafeMutableBufferPointer { pc in
                            gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                 beta: beta, c: pc.baseAddress!, ldc: n)
                        }
                    } }
                    let got = try runner.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                              beta: beta, c: c, ldc: n)
                    XCTAssertLessThan(normwiseDifference(got, expected), 1e-5, "gemm \(m)×\(n)×\(k) ta=\(ta) tb=\(tb) beta=\(beta)")
                }
            }
        }
    }

    func testGemvMatchesOpenBLAS() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        for (m, n) in [(3, 5), (512, 128), (65, 300)] {
            let a = random(m * n), x = random(n), y = random(m)
            var expected = y
            a.withUnsafeBufferPointer { pa in x.withUnsafeBufferPointer { px in expected.withUnsafeMutableBufferPointer { py in
                gemv(m: m, n: n, a: pa.baseAddress!, lda: n, x: px.baseAddress!, beta: 1, y: py.baseAddress!)
            } } }
            XCTAssertLessThan(normwiseDifference(try runner.gemv(m: m, n: n, a: a, x: x, beta: 1, y: y), expected), 1e-5, "gemv \(m)×\(n)")
        }
    }

    func testBiasAndGatherKernels() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        let (rows, width, V) = (37, 24, 11)
        // params: b1 (width), b2 (width), W (width × V)
        let params = random(2 * width + width * V)
        let ids = randomIDs(rows, below: V)
        for (useB2, oneHot) in [(false, false), (true, false), (false, true), (true, true)] {
            // The CPU's way: bias = b1 (+ b2) first, W^T rows gathered.
            var bias = Array(params[0..<width])
            if useB2 { for j in 0..<width { bias[j] += params[width + j] } }
            var wt = [Float](repeating: 0, count: V * width)
            for j in 0..<width { for v in 0..<V { wt[v * width + j] = params[2 * width + j * V + v] } }
            var expected = [Float](repeating: 0, count: rows * width)
            expected.withUnsafeMutableBufferPointer { o in
                wt.withUnsafeBufferPointer { t in
                    charrnn_bias_gather(o.baseAddress!, bias, oneHot ? t.baseAddress! : nil, ids, rows, width)
                }
            }
            let got = try runner.biasRows(params: params, bias1: 0, bias2: useB2 ? width : nil,
                                          oneHot: oneHot ? (2 * width, V) : nil, ids: ids, width: width)
            XCTAssertEqual(got, expected, "bias b2=\(useB2) oneHot=\(oneHot)")
        }
        // Embedding lookup.
        let E = 6
        let table = random(3 + V * E)
        let gathered = try runner.gatherRows(params: table, table: 3, ids: ids, width: E)
        for r in 0..<rows { XCTAssertEqual(Array(gathered[(r * E)..<((r + 1) * E)]), Array(table[(3 + Int(ids[r]) * E)..<(3 + (Int(ids[r]) + 1) * E)])) }
    }

    func testCellKernelsMatchTheCPU() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        let (rows, H) = (7, 33)   // odd sizes: tails and partial work-groups
        // The OpenCL kernels use the CPU's polynomials; a build of the C
        // kernels without FMA (TARGET_CPU=x86-64) rounds differently by up
        // to ~3e-5 on these inputs. A wrong formula differs by ~0.1.
        let cellTolerance: Float = 1e-4
        // LSTM forward and backward.
        let gates = random(rows * 4 * H, 4), cPrev = random(rows * H, 2), bias4 = random(4 * H)
        var acts = gates, cNext = [Float](repeating: 0, count: rows * H), tanhC = cNext, hNext = cNext
        charrnn_lstm_forward(&acts, bias4, cPrev, &cNext, &tanhC, &hNext, rows, H)
        let (gActs, gC, gT, gH) = try runner.lstmForward(gates: gates, bias: bias4, cPrev: cPrev, rows: rows, H: H)
        for (name, got, want) in [("acts", gActs, acts), ("c", gC, cNext), ("tanh c", gT, tanhC), ("h", gH, hNext)] {
            XCTAssertLessThan(elementwiseDifference(got, want), cellTolerance, "lstm forward \(name)")
        }
        let dAbove = random(rows * H), dhNext = random(rows * H), dcNext = random(rows * H)
        var dPre = [Float](repeating: 0, count: rows * 4 * H), dc = dcNext
        charrnn_lstm_backward(acts, cPrev, tanhC, dAbove, dhNext, &dc, &dPre, rows, H)
        let (gdPre, gdc) = try runner.lstmBackward(acts: acts, cPrev: cPrev, tanhC: tanhC, dAbove: dAbove, dhNext: dhNext,
                                                   dcNext: dcNext, rows: rows, H: H)
        XCTAssertLessThan(elementwiseDifference(gdPre, dPre), cellTolerance, "lstm backward d_pre")
        XCTAssertLessThan(elementwiseDifference(gdc, dc), cellTolerance, "lstm backward dc")

        // GRU forward and backward.
        let xg = random(rows * 3 * H, 3), hg = random(rows * 3 * H, 3), hPrev = random(rows * H), bias3 = random(3 * H)
        var gruActs = xg, gruH = [Float](repeating: 0, count: rows * H)
        charrnn_gru_forward(&gruActs, bias3, hg, hPrev, &gruH, rows, H)
        let (gGruActs, gGruH) = try runner.gruForward(xg: xg, bias: bias3, hg: hg, hPrev: hPrev, rows: rows, H: H)
        XCTAssertLessThan(elementwiseDifference(gGruActs, gruActs), cellTolerance, "gru forward acts")
        XCTAssertLessThan(elementwiseDifference(gGruH, gruH), cellTolerance, "gru forward h")
        var dX = [Float](repeating: 0, count: rows * 3 * H), dHH = dX, dn = dhNext
        charrnn_gru_backward(gruActs, hg, hPrev, dAbove, &dn, &dX, &dHH, rows, H)
        let (gdX, gdHH, gdn) = try runner.gruBackward(acts: gruActs, hg: hg, hPrev: hPrev, dAbove: dAbove, dhNext: dhNext, rows: rows, H: H)
        XCTAssertLessThan(elementwiseDifference(gdX, dX), cellTolerance, "gru backward d_x")
        XCTAssertLessThan(elementwiseDifference(gdHH, dHH), cellTolerance, "gru backward d_h")
        XCTAssertLessThan(elementwiseDifference(gdn, dn), cellTolerance, "gru backward dh_next")

        // RNN forward and backward.
        let pre = random(rows * H, 3), bias1 = random(H)
        var rnnActs = pre, rnnH = [Float](repeating: 0, count: rows * H)
        charrnn_rnn_forward(&rnnActs, bias1, &rnnH, rows, H)
        let (gRnnActs, gRnnH) = try runner.rnnForward(pre: pre, bias: bias1, rows: rows, H: H)
        XCTAssertLessThan(elementwiseDifference(gRnnActs, rnnActs), cellTolerance, "rnn forward")
        XCTAssertLessThan(elementwiseDifference(gRnnH, rnnH), cellTolerance, "rnn forward h")
        var rnnD = [Float](repeating: 0, count: rows * H)
        charrnn_rnn_backward(rnnActs, dAbove, dhNext, &rnnD, rows, H)
        XCTAssertLessThan(elementwiseDifference(try runner.rnnBackward(acts: rnnActs, dAbove: dAbove, dhNext: dhNext), rnnD), cellTolerance, "rnn backward")

        // Saturated inputs and NaN: the clamps match and NaN gets through.
        let extreme: [Float] = [-200, -90, -8, 0, 8, 90, 200, .nan]
        let (satActs, _) = try runner.rnnForward(pre: extreme, bias: [Float](repeating: 0, count: extreme.count), rows: 1,
                                                 H: extreme.count)
        var cpuSat = extreme, cpuSatH = extreme
        charrnn_rnn_forward(&cpuSat, nil, &cpuSatH, 1, extreme.count)
        for (a, b) in zip(satActs.prefix(7), cpuSat.prefix(7)) { XCTAssertEqual(a, b, accuracy: 1e-6, "saturated") }
        XCTAssertTrue(satActs[7].isNaN)
    }

    func testDropoutSoftmaxAndReductions() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        // Dropout: x · (keep ? scale : 0), as charrnn_mul_to with the CPU's mask values.
        let x = random(1000)
        let keep = (0..<1000).map { _ in Bool.random(using: &rng) }
        let scale: Float = 1 / 0.7
        let mask = keep.map { $0 ? scale : 0 }
        var expected = [Float](repeating: 0, count: 1000)
        charrnn_mul_to(&expected, x, mask, 1000)
        XCTAssertEqual(try runner.dropout(x, keep: keep, scale: scale), expected)

        // Softmax cross-entropy: summed loss (reduced on the device) and gradient.
        for (rows, V) in [(1, 5), (37, 65), (400, 200)] {
            let logits = random(rows * V, 6), targets = randomIDs(rows, below: V)
            var cpu = logits
            let cpuLoss = cpu.withUnsafeMutableBufferPointer { z in
                charrnn_softmax_xent(z.baseAddress!, nil, targets, rows, V, 1 / Float(rows))
            }
            let (loss, grad) = try runner.softmaxCrossEntropy(logits: logits, targets: targets, classes: V, gradientScale: 1 / Float(rows))
            XCTAssertEqual(loss, cpuLoss, accuracy: 1e-5 * abs(cpuLoss), "loss \(rows)×\(V)")
            XCTAssertLessThan(normwiseDifference(grad, cpu), 1e-5, "gradient \(rows)×\(V)")
            let (lossOnly, untouched) = try runner.softmaxCrossEntropy(logits: logits, targets: targets, classes: V, gradientScale: nil)
            XCTAssertEqual(lossOnly, cpuLoss, accuracy: 1e-5 * abs(cpuLoss))
            XCTAssertEqual(untouched, logits, "no gradient: the logits stay")
        }

        // Column sums of a column block (rows in order, as the CPU).
        let (rows, cols, ld) = (53, 19, 23)
        let m = random(rows * ld), start = random(cols)
        var sums = start
        charrnn_add_column_sums_ld(m, rows, cols, ld, &sums)
        XCTAssertEqual(try runner.columnSums(m, ld: ld, rows: rows, cols: cols, into: start), sums)
    }

    func testScatterKernelsMatchTheCPU() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        let (rows, GH, V, E) = (61, 20, 9, 7)
        let ids = randomIDs(rows, below: V)
        // One-hot weight gradient (GH × V) from d (rows × GH), the CPU's way: through W^T.
        let d = random(rows * GH)
        var wt = [Float](repeating: 0, count: V * GH)
        charrnn_scatter_add_ld(&wt, GH, d, GH, ids, rows, GH)
        var expected = [Float](repeating: 0, count: GH * V)
        for j in 0..<GH { for v in 0..<V { expected[j * V + v] += wt[v * GH + j] } }
        XCTAssertEqual(try runner.scatterColumns([Float](repeating: 0, count: GH * V), V: V, d, GH: GH, ids: ids), expected)
        // Embedding gradient.
        let src = random(rows * E), table = random(V * E)
        var t = table
        charrnn_scatter_add(&t, src, ids, rows, E)
        XCTAssertEqual(try runner.scatterRows(table, src, width: E, ids: ids), t)
    }

    func testClipAndOptimisersMatchTheCPU() throws {
        let runner = OpenCLOpRunner(context: try openCLContext())
        let n = 1001
        var g = random(n, 10)
        g[0] = .nan
        var clipped = g
        charrnn_clip(&clipped, n, 5)
        let got = try runner.clip(g, limit: 5)
        XCTAssertTrue(got[0].isNaN, "NaN stays NaN")
        XCTAssertEqual(Array(got.dropFirst()), Array(clipped.dropFirst()))

        let x = random(n), grad = random(n, 5), m = random(n).map { abs($0) }, v = random(n).map { abs($0) }
        var cx = x, cm = m
        charrnn_rmsprop(&cx, grad, &cm, n, 2e-3, 0.95, 1e-8)
        let (rx, rm) = try runner.rmsprop(x: x, g: grad, m: m, lr: 2e-3, decay: 0.95, eps: 1e-8)
        XCTAssertLessThan(elementwiseDifference(rx, cx), 1e-5, "rmsprop x")
        XCTAssertLessThan(elementwiseDifference(rm, cm), 1e-5, "rmsprop m")

        var ax = x, am = m, av = v
        charrnn_adam(&ax, grad, &am, &av, n, 2e-3 / 0.1, 0.9, 0.999, 0.0316, 1e-8)
        let (gx, gm, gv) = try runner.adam(x: x, g: grad, m: m, v: v, stepSize: 2e-3 / 0.1, beta1: 0.9, beta2: 0.999, c2root: 0.0316, eps: 1e-8)
        XCTAssertLessThan(elementwiseDifference(gx, ax), 1e-5, "adam x")
        XCTAssertLessThan(elementwiseDifference(gm, am), 1e-5, "adam m")
        XCTAssertLessThan(elementwiseDifference(gv, av), 1e-5, "adam v")
    }

    // MARK: the whole network

    /// One forward and backward from the same weights on both backends:
    /// loss, gradients and carried state agree.
    func testOneStepLossAndGradientsMatchTheCPU() throws {
        let context = try openCLContext()
        // Odd sizes too (H = 23: masks of 2·45·23 bytes, not whole words).
        for (cell, embedding, dropout, H) in [(CellKind.lstm, 0, 0.0, 24), (.gru, 0, 0.3, 23), (.rnn, 5, 0.0, 24), (.lstm, 6, 0.25, 23)] {
            let config = ModelConfig(cell: cell, rnnSize: H, numLayers: 2, embeddingSize: embedding, dropout: dropout, vocabSize: 13)
            var r = RNG(seed: 7)
            let params = initialParameters(ParamLayout(config), rng: &r)
            let (B, T) = (5, 9)
            let optimizer = Optimizer(kind: .rmsprop, count: params.count, decayRate: 0.95)
            let cpu = CPUTrainingBackend(network: Network(config: config, batch: B, seqLength: T), params: params, optimizer: optimizer)
            let cl = try CLTrainingBackend(context: context, config: config, batch: B, seqLength: T, params: params, optimizer: optimizer)
            let state = (0..<2).map { _ in random(B * H, 0.5) }
            try cpu.setCarriedState(h: state, c: Array(state.reversed()))
            try cl.setCarriedState(h: state, c: Array(state.reversed()))
            for step in 0..<2 {
                let x = randomIDs(B * T, below: 13), y = randomIDs(B * T, below: 13)
                var r1 = RNG(seed: UInt64(step)), r2 = RNG(seed: UInt64(step))
                let lossCPU = try cpu.lossAndGradients(inputs: x, targets: y, rng: &r1)
                let lossCL = try cl.lossAndGradients(inputs: x, targets: y, rng: &r2)
                let what = "\(cell) embedding \(embedding) dropout \(dropout) step \(step)"
                XCTAssertEqual(lossCL, lossCPU, accuracy: 1e-5 * lossCPU, what)
                XCTAssertEqual(r1, r2, "the same dropout draws")
                XCTAssertLessThan(normwiseDifference(try cl.gradients(), try cpu.gradients()), 1e-4, "gradients \(what)")
                let onCPU = try cpu.carriedState(), onCL = try cl.carriedState()
                for k in 0..<2 {
                    XCTAssertLessThan(normwiseDifference(onCL.h[k], onCPU.h[k]), 1e-5, "state h \(what)")
                    if cell == .lstm { XCTAssertLessThan(normwiseDifference(onCL.c[k], onCPU.c[k]), 1e-5, "state c \(what)") }
                }
                try cpu.update(gradClip: 5, learningRate: 2e-3)
                try cl.update(gradClip: 5, learningRate: 2e-3)
                // RMSprop's first steps divide each gradient by its own size, so
                // a tiny gradient's rounding shows in its update: 1e-4 here.
                XCTAssertLessThan(normwiseDifference(try cl.parameters(), try cpu.parameters()), 1e-4, "weights after update \(what)")
            }
            XCTAssertEqual(try cl.optimizerState().step, 2)
        }
    }

    func trainOptions(_ dir: String, cell: CellKind) -> TrainOptions {
        var o = TrainOptions()
        o.batchSize = 8
        o.seqLength = 16
        o.checkpointDir = dir
        o.savefile = cell.rawValue
        o.evalValEvery = 25
        o.maxIterations = 50
        o.threads = 1
        return o
    }

    /// 50 iterations of each cell type from the same initial weights: the
    /// losses agree to 1e-4 relative at every step, and so do the
    /// validation losses and the final weights.
    func testFiftyTrainingStepsMatchTheCPU() throws {
        _ = try openCLContext()
        let data = syntheticCorpus(12_000)
        let cases: [(CellKind, Int, Double, OptimizerKind)] = [
            (.lstm, 0, 0.2, .rmsprop), (.gru, 0, 0.2, .rmsprop), (.rnn, 0, 0.2, .rmsprop), (.lstm, 8, 0.1, .adam),
        ]
        for (cell, embedding, dropout, optimizer) in cases {
            let config = ModelConfig(cell: cell, rnnSize: 32, numLayers: 2, embeddingSize: embedding, dropout: dropout,
                                     vocabSize: data.vocab.count)
            var runs: [(SilentReporter, Trainer)] = []
            for device in [ComputeDevice.cpu, .openCL(.automatic)] {
                let dir = temporaryDirectory()
                defer { try? FileManager.default.removeItem(atPath: dir) }
                var o = trainOptions(dir, cell: cell)
                o.optimizer = optimizer
                let reporter = SilentReporter()
                let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "synthetic",
                                          options: o, engine: try makeEngine(device), reporter: reporter)
                XCTAssertEqual(try trainer.run(), .finished)
                runs.append((reporter, trainer))
            }
            let what = "\(cell), embedding \(embedding), dropout \(dropout), \(optimizer)"
            let (cpu, cl) = (runs[0].0, runs[1].0)
            XCTAssertEqual(cpu.trainLosses.count, 50)
            XCTAssertEqual(cl.trainLosses.count, 50)
            for (i, (a, b)) in zip(cpu.trainLosses, cl.trainLosses).enumerated() {
                XCTAssertEqual(b, a, accuracy: 1e-4 * a, "\(what): loss at iteration \(i + 1)")
            }
            XCTAssertEqual(cpu.validations.count, 2)
            for (a, b) in zip(cpu.validations, cl.validations) { XCTAssertEqual(b, a, accuracy: 1e-4 * a, "\(what): val loss") }
            XCTAssertLessThan(cpu.trainLosses.last!, cpu.trainLosses.first! - 0.3, "\(what): it learns")
            XCTAssertLessThan(normwiseDifference(runs[1].1.params, runs[0].1.params), 1e-3, "\(what): final weights")
            XCTAssertEqual(runs[1].1.optimizer.step, 50)
        }
    }

    /// A trained LSTM: argmax samples of 200 characters are identical on
    /// both devices, the per-step logits agree, and so does `evaluate`.
    func testSamplingAndEvaluationMatchTheCPU() throws {
        let context = try openCLContext()
        let data = syntheticCorpus(12_000)
        for (cell, embedding) in [(CellKind.lstm, 0), (.gru, 6), (.rnn, 0)] {
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var o = trainOptions(dir, cell: cell)
            o.maxIterations = 400
            o.learningRate = 5e-3
            o.evalValEvery = 1000
            let config = ModelConfig(cell: cell, rnnSize: 32, numLayers: 2, embeddingSize: embedding, dropout: 0, vocabSize: data.vocab.count)
            let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "synthetic",
                                      options: o, reporter: SilentReporter())
            _ = try trainer.run()
            let ckpt = try Checkpoint.load(path: trainer.lastCheckpoint!)
            // Argmax (random words make it loop, which is fine) and a seeded
            // sample at temperature 1 (varied text; the logits differ by ~1e-7,
            // far too little to move a draw).
            var argmaxOptions = SamplingOptions()
            argmaxOptions.length = 200
            argmaxOptions.argmax = true
            argmaxOptions.prime = "the cat ".unicodeScalars.map { Int32(ckpt.vocab.id(of: $0.value)!) }
            var seeded = SamplingOptions()
            seeded.length = 200
            seeded.seed = 11
            for (name, options) in [("argmax", argmaxOptions), ("seeded", seeded)] {
                var texts: [[UInt8]] = []
                for device in [ComputeDevice.cpu, .openCL(.automatic)] {
                    let sink = MemorySink()
                    let generator = try Generator(checkpoint: ckpt, engine: try makeEngine(device))
                    XCTAssertEqual(try generator.generate(options, to: sink), 200)
                    texts.append(sink.bytes)
                }
                XCTAssertEqual(String(decoding: texts[1], as: UTF8.self), String(decoding: texts[0], as: UTF8.self), "\(cell): \(name) samples")
                XCTAssertGreaterThanOrEqual(Set(texts[0]).count, name == "argmax" ? 3 : 8, "\(cell): \(String(decoding: texts[0], as: UTF8.self))")
            }

            // Step by step logits and state.
            let cpu = try XCTUnwrap(try CPUEngine().stepper(config: ckpt.config, params: ckpt.params, streams: 1, threads: 1)
                                    as? CPURunner)
            let cl = try XCTUnwrap(try CLEngine(.automatic).stepper(config: ckpt.config, params: ckpt.params, streams: 1, threads: 1)
                                   as? NetworkRunner<CLNetworkOps>)
            _ = context
            for token in [1, 5, 2, 2, 7, 0, 3] {
                let a = Array(try cpu.step([Int32(token)])), b = Array(try cl.step([Int32(token)]))
                XCTAssertLessThan(normwiseDifference(b, a), 1e-5, "\(cell): logits")
            }
            XCTAssertLessThan(normwiseDifference(try cl.network.carriedState().h[1], try cpu.network.carriedState().h[1]), 1e-5)

            // Evaluation in chunks (256, 256, then a shorter one).
            let ids = (0..<600).map { _ in Int32.random(in: 0..<Int32(data.vocab.count), using: &rng) }
            let onCPU = try evaluate(checkpoint: ckpt, ids: ids, skipped: 0)
            let onCL = try evaluate(checkpoint: ckpt, ids: ids, skipped: 0, engine: try CLEngine(.automatic))
            XCTAssertEqual(onCL.loss, onCPU.loss, accuracy: 1e-5 * onCPU.loss, "\(cell): eval")
            XCTAssertEqual(onCL.predictions, 599)
        }
    }

    /// Checkpoints do not depend on the device: a run saved on one device
    /// continues on the other as it would have on the first.
    func testResumeAcrossDevices() throws {
        _ = try openCLContext()
        let data = syntheticCorpus(8_000)
        for (first, second) in [(ComputeDevice.cpu, ComputeDevice.openCL(.automatic)), (.openCL(.automatic), .cpu)] {
            for (cell, optimizer) in [(CellKind.lstm, OptimizerKind.rmsprop), (.gru, .adam)] {
                let config = ModelConfig(cell: cell, rnnSize: 24, numLayers: 2, embeddingSize: 0, dropout: 0.2, vocabSize: data.vocab.count)
                let what = "\(first) then \(second), \(cell), \(optimizer)"
                // Straight through on the first device.
                let dirA = temporaryDirectory(), dirB = temporaryDirectory()
                defer { try? FileManager.default.removeItem(atPath: dirA); try? FileManager.default.removeItem(atPath: dirB) }
                var o = trainOptions(dirA, cell: cell)
                o.optimizer = optimizer
                o.maxIterations = 40
                o.evalValEvery = 20
                let straight = SilentReporter()
                let a = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "s", options: o,
                                    engine: try makeEngine(first), reporter: straight)
                _ = try a.run()
                // Half on the first device, the rest on the second.
                var half = o
                half.checkpointDir = dirB
                half.maxIterations = 20
                let b1 = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "s", options: half,
                                     engine: try makeEngine(first), reporter: SilentReporter())
                _ = try b1.run()
                let saved = try Checkpoint.load(path: b1.lastCheckpoint!)
                var rest = saved.options
                rest.maxIterations = 40
                let resumed = SilentReporter()
                let b2 = try Trainer(config: saved.config, vocab: data.vocab, tokens: data.tokens, tokensName: "s", options: rest,
                                     resume: saved, engine: try makeEngine(second), reporter: resumed)
                _ = try b2.run()
                XCTAssertEqual(b2.progress.iteration, 40, what)
                XCTAssertEqual(resumed.trainLosses.count, 20, what)
                for (i, (x, y)) in zip(straight.trainLosses.suffix(20), resumed.trainLosses).enumerated() {
                    XCTAssertEqual(y, x, accuracy: 1e-4 * x, "\(what): loss at iteration \(21 + i)")
                }
                XCTAssertEqual(resumed.validations.last!, straight.validations.last!, accuracy: 1e-4 * straight.validations.last!, what)
                XCTAssertLessThan(normwiseDifference(b2.params, a.params), 1e-3, "\(what): weights")
                XCTAssertEqual(b2.optimizer.step, 40, what)
                XCTAssertEqual(b2.progress.rng, a.progress.rng, "\(what): the same RNG stream")
            }
        }
    }
}

/// The engine of a device, as the tools make it.
func makeEngine(_ device: ComputeDevice) throws -> ComputeEngine {
    switch device {
    case .cpu: return CPUEngine()
    case .openCL(let selector): return try CLEngine(selector)
    }
}
