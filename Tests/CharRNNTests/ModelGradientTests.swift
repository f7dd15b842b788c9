// Gradients of the reference model against central finite differences (in
// Double), and the fast Float network against the reference.
import XCTest
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import CSupport

final class ModelGradientTests: XCTestCase {
    struct Case {
        var cell: CellKind
        var embedding: Int
        var dropout: Double
        var layers: Int
    }

    static let cases: [Case] = CellKind.allCases.flatMap { cell in
        [Case(cell: cell, embedding: 0, dropout: 0, layers: 2),
         Case(cell: cell, embedding: 3, dropout: 0, layers: 1),
         Case(cell: cell, embedding: 0, dropout: 0.3, layers: 2),
         Case(cell: cell, embedding: 16, dropout: 0.2, layers: 2)]
    }

    func randomState(_ count: Int, _ rng: inout RNG) -> [Double] {
        (0..<count).map { _ in rng.uniform() - 0.5 }
    }

    /// A random mask with zeros and 1/(1-p), fixed for the check.
    func randomMask(_ count: Int, p: Double, _ rng: inout RNG) -> [Double] {
        (0..<count).map { _ in rng.uniform() < p ? 0 : 1 / (1 - p) }
    }

    func testReferenceGradientsMatchFiniteDifferences() {
        for c in Self.cases {
            let V = 5, H = 4, B = 2, T = 3
            let config = ModelConfig(cell: c.cell, rnnSize: H, numLayers: c.layers, embeddingSize: c.embedding,
                                     dropout: c.dropout, vocabSize: V)
            let model = ReferenceModel<Double>(config: config)
            var rng = RNG(seed: 7)
            // Larger weights than the default init so every path matters.
            let params = (0..<model.layout.total).map { _ in (rng.uniform() - 0.5) * 1.2 }
            let inputs = (0..<(T * B)).map { _ in rng.below(V) }
            let targets = (0..<(T * B)).map { _ in rng.below(V) }
            let h0 = (0..<c.layers).map { _ in randomState(B * H, &rng) }
            let c0 = (0..<c.layers).map { _ in randomState(B * H, &rng) }
            let masks = c.dropout > 0 ? (0..<c.layers).map { _ in randomMask(T * B * H, p: c.dropout, &rng) } : nil
            let result = model.run(params: params, inputs: inputs, targets: targets, batch: B, h0: h0, c0: c0, masks: masks)
            var worst = 0.0
            var worstName = ""
            let eps = 1e-5
            for view in model.layout.views {
                for i in view.offset..<(view.offset + view.count) {
                    var plus = params, minus = params
                    plus[i] += eps
                    minus[i] -= eps
                    let lp = model.run(params: plus, inputs: inputs, targets: targets, batch: B, h0: h0, c0: c0, masks: masks, backward: false).loss
                    let lm = model.run(params: minus, inputs: inputs, targets: targets, batch: B, h0: h0, c0: c0, masks: masks, backward: false).loss
                    let numeric = (lp - lm) / (2 * eps)
                    let analytic = result.gradient[i]
                    // Central differences carry about 1e-11 absolute error here, so
                    // gradients below 1e-5 are compared against that floor.
                    let rel = abs(numeric - analytic) / max(abs(numeric) + abs(analytic), 1e-5)
                    if rel > worst { worst = rel; worstName = "\(view.name)[\(i - view.offset)] numeric \(numeric) analytic \(analytic)" }
                }
            }
            XCTAssertLessThan(worst, 1e-5, "\(c): worst relative error at \(worstName)")
            // Some gradient must be non-trivial, else the check proves nothing.
            XCTAssertGreaterThan(result.gradient.map(abs).max()!, 1e-3)
        }
    }

    /// Plans that together take every path: each packed kernel this CPU
    /// runs (with its instruction set's element-wise kernels), OpenBLAS step
    /// by step and over all steps, and a mix (recurrent packed, inputs by
    /// OpenBLAS over all steps).
    static func testPlans(_ config: ModelConfig) -> [KernelPlan] {
        var plans = PackedKernels.available.map { KernelPlan.uniform(.packed($0), config: config) }
        plans.append(KernelPlan.uniform(.blasWhole, config: config))
        plans.append(KernelPlan.uniform(.blasStep, config: config))
        var mixed = KernelPlan.standard(config: config)
        for k in mixed.layers.indices {
            mixed.layers[k].forwardInput = .blasWhole
            mixed.layers[k].backwardInput = .blasWhole
        }
        plans.append(mixed)
        return plans
    }

    func testFastNetworkMatchesReference() {
        defer { charrnn_use_isa(charrnn_isa_best()) }
        for c in Self.cases {
            // H a multiple of 16 takes the packed per-step products: full
            // and narrow panels, tiles of every row count and leftover rows
            // (B = 4, 5, 6, 9, 11); other H take OpenBLAS for what does not fit.
            for (H, V, B) in [(4, 5, 3), (37, 23, 3), (16, 7, 5), (48, 9, 6), (64, 5, 5), (32, 6, 4), (16, 5, 11), (32, 7, 9)] {
                let config = ModelConfig(cell: c.cell, rnnSize: H, numLayers: c.layers, embeddingSize: c.embedding,
                                         dropout: c.dropout, vocabSize: V)
                for plan in Self.testPlans(config) {
                    charrnn_use_isa(plan.isa)
                    checkAgainstReference(c, config: config, batch: B, plan: plan)
                }
            }
        }
    }

    /// One training forward and backward of the fast network under `plan`
    /// against the Double reference: loss, gradients and final state.
    func checkAgainstReference(_ c: Case, config: ModelConfig, batch B: Int, plan: KernelPlan) {
        let T = 4, H = config.rnnSize, V = config.vocabSize
        let layout = ParamLayout(config)
        var rng = RNG(seed: 11)
        let params = (0..<layout.total).map { _ in Float(rng.uniform() - 0.5) * 0.8 }
        let inputs = (0..<(T * B)).map { _ in Int32(rng.below(V)) }
        let targets = (0..<(T * B)).map { _ in Int32(rng.below(V)) }
        let net = Network(config: config, batch: B, seqLength: T, plan: plan)
        let label = "\(c) H=\(H) B=\(B) \(plan.layers[0].forwardRecurrent)/\(plan.layers.last!.forwardInput) \(String(cString: charrnn_isa_name(plan.isa)))"
        for k in 0..<c.layers {
            net.stateH[k] = (0..<(B * H)).map { _ in Float(rng.uniform() - 0.5) }
            net.stateC[k] = (0..<(B * H)).map { _ in Float(rng.uniform() - 0.5) }
        }
        let h0 = net.stateH.map { $0.map(Double.init) }
        let c0 = net.stateC.map { $0.map(Double.init) }
        var grads = [Float](repeating: 0, count: layout.total)
        var dropRng = RNG(seed: 5)
        let loss = params.withUnsafeBufferPointer { p in
            inputs.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { y in
                    net.forward(params: p.baseAddress!, inputs: x.baseAddress!, targets: y.baseAddress!,
                                training: true, rng: &dropRng)
                }
            }
        }
        params.withUnsafeBufferPointer { p in
            grads.withUnsafeMutableBufferPointer { g in net.backward(params: p.baseAddress!, grads: g.baseAddress!) }
        }
        let masks = c.dropout > 0 ? (0..<c.layers).map { net.dropoutMask(layer: $0)!.map(Double.init) } : nil
        if c.dropout > 0 {
            let zeros = masks!.flatMap { $0 }.filter { $0 == 0 }.count
            XCTAssertGreaterThan(zeros, 0, "dropout should drop something")
        }
        let ref = ReferenceModel<Double>(config: config).run(
            params: params.map(Double.init), inputs: inputs.map(Int.init), targets: targets.map(Int.init),
            batch: B, h0: h0, c0: c0, masks: masks)
        XCTAssertEqual(loss, ref.loss, accuracy: 1e-5 * abs(ref.loss), "\(label): loss")
        let scale = ref.gradient.map(abs).max()!
        var worst = 0.0
        for i in 0..<layout.total {
            let err = abs(Double(grads[i]) - ref.gradient[i]) / max(abs(ref.gradient[i]), scale * 1e-2)
            worst = max(worst, err)
        }
        XCTAssertLessThan(worst, 1e-5 * 10, "\(label): gradient relative error")
        var worstState = 0.0
        for k in 0..<c.layers {
            for i in 0..<(B * H) {
                worstState = max(worstState, abs(Double(net.stateH[k][i]) - ref.finalH[k][i]))
                if c.cell == .lstm { worstState = max(worstState, abs(Double(net.stateC[k][i]) - ref.finalC[k][i])) }
            }
        }
        XCTAssertLessThan(worstState, 1e-5, "\(label): final state")
    }

    func testSequenceInTwoChunksEqualsWhole() {
        for cell in CellKind.allCases {
            let V = 7, H = 20, B = 2, T = 6
            let config = ModelConfig(cell: cell, rnnSize: H, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: V)
            let layout = ParamLayout(config)
            var rng = RNG(seed: 3)
            let params = initialParameters(layout, rng: &rng)
            // Time-major tokens for the whole sequence.
            let inputs = (0..<(T * B)).map { _ in Int32(rng.below(V)) }
            let targets = (0..<(T * B)).map { _ in Int32(rng.below(V)) }
            let whole = Network(config: config, batch: B, seqLength: T)
            let half = Network(config: config, batch: B, seqLength: T / 2)
            var r = RNG(seed: 1)
            let lossWhole = whole.forward(params: params, inputs: inputs, targets: targets, training: false, rng: &r)
            let logitsWhole = whole.copyLogits()
            let n = (T / 2) * B
            let l1 = half.forward(params: params, inputs: Array(inputs[0..<n]), targets: Array(targets[0..<n]), training: false, rng: &r)
            let logits1 = half.copyLogits()
            let l2 = half.forward(params: params, inputs: Array(inputs[n...]), targets: Array(targets[n...]), training: false, rng: &r)
            let logits2 = half.copyLogits()
            XCTAssertEqual(lossWhole, (l1 + l2) / 2, accuracy: 1e-6, "\(cell)")
            let chunked = logits1 + logits2
            for i in 0..<logitsWhole.count { XCTAssertEqual(logitsWhole[i], chunked[i], accuracy: 1e-5, "\(cell) logit \(i)") }
            // BLAS may round differently for a different row count: 1e-6, not bitwise.
            for k in 0..<2 {
                for i in 0..<(B * H) { XCTAssertEqual(whole.stateH[k][i], half.stateH[k][i], accuracy: 1e-6, "\(cell): final state") }
            }
        }
    }

    /// Splitting the work over threads must not change the numbers.
    func testThreadsGiveTheSameLossAndGradients() {
        for cell in CellKind.allCases {
            for embedding in [0, 5] {
                let V = 9, H = 21, B = 5, T = 4
                let config = ModelConfig(cell: cell, rnnSize: H, numLayers: 2, embeddingSize: embedding, dropout: 0.25, vocabSize: V)
                let layout = ParamLayout(config)
                var rng = RNG(seed: 21)
                let params = (0..<layout.total).map { _ in Float(rng.uniform() - 0.5) }
                let inputs = (0..<(T * B)).map { _ in Int32(rng.below(V)) }
                let targets = (0..<(T * B)).map { _ in Int32(rng.below(V)) }
                var results: [(Double, [Float], [[Float]])] = []
                for threads in [1, 2, 3] {
                    let net = Network(config: config, batch: B, seqLength: T, threads: threads)
                    var dropRng = RNG(seed: 4)
                    var grads = [Float](repeating: 0, count: layout.total)
                    var loss = 0.0
                    for _ in 0..<2 {  // two minibatches: the carried state matters too
                        loss = net.forward(params: params, inputs: inputs, targets: targets, training: true, rng: &dropRng)
                        params.withUnsafeBufferPointer { p in
                            grads.withUnsafeMutableBufferPointer { net.backward(params: p.baseAddress!, grads: $0.baseAddress!) }
                        }
                    }
                    results.append((loss, grads, net.stateH))
                }
                for r in results.dropFirst() {
                    XCTAssertEqual(r.0, results[0].0, accuracy: 1e-6 * abs(results[0].0), "\(cell) e=\(embedding): loss")
                    let scale = results[0].1.map(abs).max()!
                    for i in 0..<layout.total {
                        XCTAssertEqual(r.1[i], results[0].1[i], accuracy: 1e-5 * scale, "\(cell) e=\(embedding): gradient \(i)")
                    }
                    XCTAssertEqual(r.2.flatMap { $0 }.count, results[0].2.flatMap { $0 }.count)
                    for (a, b) in zip(r.2.flatMap { $0 }, results[0].2.flatMap { $0 }) { XCTAssertEqual(a, b, accuracy: 1e-5) }  // BLAS rounds by block shape
                }
            }
        }
    }

    /// charrnn_softmax_xent against a Double computation: the loss, the
    /// gradient (with a scale) or the biased logits (without), for widths
    /// below, at and above a 16-lane chunk.
    func testSoftmaxCrossEntropyKernel() {
        defer { charrnn_use_isa(charrnn_isa_best()) }
        for isa in supportedISAs {
            charrnn_use_isa(isa)
            checkSoftmaxCrossEntropy(isa: String(cString: charrnn_isa_name(isa)))
        }
    }

    func checkSoftmaxCrossEntropy(isa: String) {
        var rng = RNG(seed: 4)
        for V in [1, 5, 16, 37, 65] {
            let rows = 6
            let z0 = (0..<(rows * V)).map { _ in Float(rng.uniform() * 16 - 8) }
            let bias = (0..<V).map { _ in Float(rng.uniform() * 2 - 1) }
            let targets = (0..<rows).map { _ in Int32(Int(rng.uniform() * Double(V)) % V) }
            for withBias in [false, true] {
                for scale: Float in [0, 0.25] {
                    var z = z0
                    let loss = z.withUnsafeMutableBufferPointer {
                        charrnn_softmax_xent($0.baseAddress!, withBias ? bias : nil, targets, rows, V, scale)
                    }
                    var want = 0.0
                    for r in 0..<rows {
                        let row = (0..<V).map { Double(z0[r * V + $0]) + (withBias ? Double(bias[$0]) : 0) }
                        let mx = row.max()!
                        let sum = row.reduce(0) { $0 + Foundation.exp($1 - mx) }
                        want += mx + Foundation.log(sum) - row[Int(targets[r])]
                        for v in 0..<V {
                            let expect = scale == 0 ? row[v]
                                : (Foundation.exp(row[v] - mx) / sum - (v == Int(targets[r]) ? 1 : 0)) * Double(scale)
                            XCTAssertEqual(Double(z[r * V + v]), expect, accuracy: 1e-6, "\(isa) V \(V) bias \(withBias) scale \(scale)")
                        }
                    }
                    XCTAssertEqual(loss, want, accuracy: 1e-5 * abs(want) + 1e-6, "\(isa) V \(V) bias \(withBias)")
                }
            }
        }
    }

    /// The vector exp, tanh and sigmoid of every instruction set this CPU
    /// runs against libm.
    func testSimdMathMatchesLibm() {
        defer { charrnn_use_isa(charrnn_isa_best()) }
        for isa in supportedISAs {
            charrnn_use_isa(isa)
            checkMathAgainstLibm(isa: String(cString: charrnn_isa_name(isa)))
        }
    }

    func checkMathAgainstLibm(isa: String) {
        var rng = RNG(seed: 9)
        func scalarSigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
        // The C kernels' versions (what training and sampling use).
        var xs = (0..<100_000).map { _ in Float(rng.uniform() * 40 - 20) * (rng.uniform() < 0.2 ? 0.001 : 1) }
        xs += [0, -0, 1e-30, -1e-30, 87, -87, 100, -100]
        var ce = [Float](repeating: 0, count: xs.count), ct = ce, cs = ce
        charrnn_vexp(xs, &ce, xs.count)
        charrnn_vtanh(xs, &ct, xs.count)
        charrnn_vsigmoid(xs, &cs, xs.count)
        var worstC: (Float, Float, Float) = (0, 0, 0)
        for (i, x) in xs.enumerated() {
            let e = expf(min(x, 88)), t = tanhf(x), s = scalarSigmoid(x)
            if e > 1e-37 { worstC.0 = max(worstC.0, abs(ce[i] - e) / e) }
            if t != 0 { worstC.1 = max(worstC.1, abs(ct[i] - t) / abs(t)) } else { XCTAssertEqual(ct[i], 0) }
            if s > 1e-37 { worstC.2 = max(worstC.2, abs(cs[i] - s) / s) }
        }
        XCTAssertLessThan(worstC.0, 4 * Float.ulpOfOne, "\(isa) exp")
        XCTAssertLessThan(worstC.1, 8 * Float.ulpOfOne, "\(isa) tanh")
        XCTAssertLessThan(worstC.2, 8 * Float.ulpOfOne, "\(isa) sigmoid")
    }
}

/// The instruction sets this CPU runs (their kernels are all tested).
var supportedISAs: [Int32] { (0..<CHARRNN_ISA_COUNT).map { Int32($0) }.filter { charrnn_isa_supported($0) != 0 } }

extension Network {
    /// Convenience for tests: arrays instead of pointers.
    func forward(params: [Float], inputs: [Int32], targets: [Int32], training: Bool, rng: inout RNG) -> Double {
        params.withUnsafeBufferPointer { p in
            inputs.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { y in
                    forward(params: p.baseAddress!, inputs: x.baseAddress!, targets: y.baseAddress!, training: training, rng: &rng)
                }
            }
        }
    }
}
