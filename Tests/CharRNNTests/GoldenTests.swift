// Our models against PyTorch on the same weights: golden fixtures made by
// bench/golden.py (its header says how to regenerate them and their layout).
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import Foundation
import XCTest

/// One PyTorch fixture, converted to our layouts. B = batch, T = seq,
/// H = rnn size, V = vocab, L = layers.
private struct Golden {
    var name: String
    var config: ModelConfig
    var batch: Int, seqLength: Int
    var params: [Double]          // the flat block, ParamLayout order
    var inputs: [Int]             // (T*B): time-major, index t*B + b
    var targets: [Int]            // (T*B)
    var h0: [[Double]]            // per layer, (B, H) row-major
    var c0: [[Double]]?           // per layer, (B, H); LSTM only
    var logits: [Double]          // (T*B, V), time-major rows
    var loss: Double
    var hT: [[Double]]            // per layer, (B, H)
    var cT: [[Double]]?           // per layer, (B, H); LSTM only
    var grads: [Double]           // the flat block, ParamLayout order

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let cases = ["lstm", "gru", "rnn", "lstm_embedding"]

    struct Bad: Error, CustomStringConvertible { var description: String }

    init(_ name: String) throws {
        self.name = name
        let url = Self.folder.appendingPathComponent("golden_\(name).json")
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Bad(description: "\(url.path): not a JSON object")
        }
        func field(_ key: String) throws -> Any {
            guard let v = root[key] else { throw Bad(description: "\(name): no '\(key)'") }
            return v
        }
        func number(_ v: Any, _ what: String) throws -> Double {
            guard let n = v as? NSNumber else { throw Bad(description: "\(name): \(what) is not a number") }
            return n.doubleValue
        }
        func numbers(_ v: Any, _ what: String) throws -> [Double] {
            guard let a = v as? [Any] else { throw Bad(description: "\(name): \(what) is not a list") }
            return try a.map { try number($0, what) }
        }
        func integer(_ v: Any?, _ what: String) throws -> Int {
            guard let n = v as? NSNumber, n.doubleValue == Double(n.intValue) else {
                throw Bad(description: "\(name): \(what) is not an integer")
            }
            return n.intValue
        }
        /// A nested list flattened in row-major order, with its shape checked.
        func tensor(_ v: Any, _ shape: [Int], _ what: String) throws -> [Double] {
            guard let first = shape.first else { return [try number(v, what)] }
            guard let a = v as? [Any], a.count == first else {
                throw Bad(description: "\(name): \(what) should have shape \(shape)")
            }
            return try a.flatMap { try tensor($0, Array(shape.dropFirst()), what) }
        }

        guard let cfg = try field("config") as? [String: Any], let model = cfg["model"] as? String,
              let cell = CellKind(rawValue: model) else { throw Bad(description: "\(name): bad config") }
        let H = try integer(cfg["rnn_size"], "rnn_size"), L = try integer(cfg["num_layers"], "num_layers")
        let V = try integer(cfg["vocab_size"], "vocab_size"), E = try integer(cfg["embedding_size"], "embedding_size")
        let B = try integer(cfg["batch"], "batch"), T = try integer(cfg["seq_length"], "seq_length")
        config = ModelConfig(cell: cell, rnnSize: H, numLayers: L, embeddingSize: E,
                             dropout: try number(cfg["dropout"] as Any, "dropout"), vocabSize: V)
        batch = B
        seqLength = T

        // Parameters and gradients by PyTorch name into our one block.
        let layout = ParamLayout(config)
        guard let ps = try field("params") as? [String: Any], let gs = try field("grads") as? [String: Any] else {
            throw Bad(description: "\(name): params/grads are not objects")
        }
        let ourNames = Set(layout.views.map(\.name))
        guard Set(ps.keys) == ourNames, Set(gs.keys) == ourNames else {
            throw Bad(description: "\(name): PyTorch names \(ps.keys.sorted()) / \(gs.keys.sorted()), ours \(ourNames.sorted())")
        }
        params = [Double](repeating: .nan, count: layout.total)
        grads = [Double](repeating: .nan, count: layout.total)
        for view in layout.views {
            guard let entry = ps[view.name] as? [String: Any], let shape = entry["shape"] as? [Any] else {
                throw Bad(description: "\(name): \(view.name) has no shape")
            }
            let pyShape = try shape.map { try integer($0, "\(view.name) shape") }
            guard pyShape == view.shape else {
                throw Bad(description: "\(name): \(view.name) shape \(pyShape) in PyTorch, \(view.shape) ours")
            }
            let p = try numbers(entry["data"] as Any, view.name), g = try numbers(gs[view.name] as Any, "grad \(view.name)")
            guard p.count == view.count, g.count == view.count else {
                throw Bad(description: "\(name): \(view.name) has \(p.count) values and \(g.count) gradients, not \(view.count)")
            }
            params.replaceSubrange(view.offset..<(view.offset + view.count), with: p)
            grads.replaceSubrange(view.offset..<(view.offset + view.count), with: g)
        }

        // PyTorch's batch_first (B, T, ...) to our time-major (T*B, ...).
        func timeMajor(_ batchMajor: [Double], width: Int) -> [Double] {
            var out = [Double](repeating: 0, count: batchMajor.count)
            for b in 0..<B {
                for t in 0..<T {
                    for v in 0..<width { out[(t * B + b) * width + v] = batchMajor[(b * T + t) * width + v] }
                }
            }
            return out
        }
        inputs = timeMajor(try tensor(try field("inputs"), [B, T], "inputs"), width: 1).map { Int($0) }
        targets = timeMajor(try tensor(try field("targets"), [B, T], "targets"), width: 1).map { Int($0) }
        guard (inputs + targets).allSatisfy({ (0..<V).contains($0) }) else {
            throw Bad(description: "\(name): token out of range")
        }
        logits = timeMajor(try tensor(try field("logits"), [B, T, V], "logits"), width: V)
        loss = try number(try field("loss"), "loss")

        // States: (L, B, H) to one (B, H) array per layer.
        func states(_ key: String) throws -> [[Double]] {
            let all = try tensor(try field(key), [L, B, H], key)
            return (0..<L).map { Array(all[($0 * B * H)..<(($0 + 1) * B * H)]) }
        }
        h0 = try states("h0")
        hT = try states("hT")
        if cell == .lstm {
            c0 = try states("c0")
            cT = try states("cT")
        }
    }
}

/// The worst of |a − b| / max(|b|, scale), where scale is the largest
/// magnitude in `expected` (so tiny entries are compared against the
/// tensor's size, not their own). Also returns where it happened.
private func worstError(_ actual: [Double], _ expected: [Double]) -> (error: Double, at: String) {
    precondition(actual.count == expected.count)
    let scale = expected.map(abs).max() ?? 0
    var worst = 0.0, at = ""
    for i in 0..<expected.count {
        let denominator = max(abs(expected[i]), scale, .leastNormalMagnitude)
        let err = abs(actual[i] - expected[i]) / denominator
        if !(err <= worst) {  // also catches NaN
            worst = err.isNaN ? .infinity : err
            at = "[\(i)] ours \(actual[i]) PyTorch \(expected[i])"
        }
    }
    return (worst, at)
}

final class GoldenTests: XCTestCase {
    /// The Double reference against PyTorch (float64): both are exact
    /// arithmetic up to rounding, so they agree to ~1e-15; we allow 1e-9
    /// relative, |a − b| ≤ 1e-9·max(|b|, scale), scale = max |b| in the tensor.
    static let referenceTolerance = 1e-9
    /// The fast Float network against PyTorch (float64): Float rounding of
    /// weights and states and Float accumulation give ~1e-6; we allow 1e-5
    /// relative, |a − b| ≤ 1e-5·max(|b|, scale), scale = max |b| in the tensor.
    static let networkTolerance = 1e-5

    /// Checks `actual` against `expected` tensor-wise; per-parameter for
    /// gradient blocks. Returns the worst error, for the summary line.
    @discardableResult
    private func check(_ actual: [Double], _ expected: [Double], tolerance: Double, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        guard actual.count == expected.count else { return .infinity }
        let (err, at) = worstError(actual, expected)
        XCTAssertLessThanOrEqual(err, tolerance, "\(what): relative error \(err) at \(at)", file: file, line: line)
        return err
    }

    private func checkGradients(_ actual: [Double], _ golden: Golden, tolerance: Double, _ who: String,
                                file: StaticString = #filePath, line: UInt = #line) -> Double {
        var worst = 0.0
        for view in ParamLayout(golden.config).views {
            let range = view.offset..<(view.offset + view.count)
            // A gradient that is all but zero would make the check toothless.
            XCTAssertGreaterThan(golden.grads[range].map(abs).max()!, 1e-3, "\(golden.name): \(view.name) gradient is trivial")
            worst = max(worst, check(Array(actual[range]), Array(golden.grads[range]), tolerance: tolerance,
                                     "\(who) \(golden.name): d loss / d \(view.name)", file: file, line: line))
        }
        return worst
    }

    private func loadAll() throws -> [Golden] {
        try Golden.cases.map { try Golden($0) }
    }

    func testFixturesAreAllPresentAndConsistent() throws {
        let listed = try FileManager.default.contentsOfDirectory(atPath: Golden.folder.path)
            .filter { $0.hasPrefix("golden_") && $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(listed, Golden.cases.map { "golden_\($0).json" }.sorted(), "every fixture is tested, every test has a fixture")
        for g in try loadAll() {
            XCTAssertEqual(g.params.count, ParamLayout(g.config).total)
            XCTAssertFalse(g.params.contains { $0.isNaN } || g.grads.contains { $0.isNaN }, "\(g.name): parameter missing")
            XCTAssertEqual(g.logits.count, g.batch * g.seqLength * g.config.vocabSize)
            XCTAssertTrue(g.loss.isFinite && g.loss > 0)
        }
    }

    func testReferenceMatchesPyTorch() throws {
        let tol = Self.referenceTolerance
        for g in try loadAll() {
            let model = ReferenceModel<Double>(config: g.config)
            let r = model.run(params: g.params, inputs: g.inputs, targets: g.targets, batch: g.batch,
                              h0: g.h0, c0: g.c0, masks: nil, backward: true)
            var worst = check([r.loss], [g.loss], tolerance: tol, "reference \(g.name): loss")
            worst = max(worst, check(r.logits, g.logits, tolerance: tol, "reference \(g.name): logits"))
            for k in 0..<g.config.numLayers {
                worst = max(worst, check(r.finalH[k], g.hT[k], tolerance: tol, "reference \(g.name): h[\(k)]"))
                if let cT = g.cT { worst = max(worst, check(r.finalC[k], cT[k], tolerance: tol, "reference \(g.name): c[\(k)]")) }
            }
            worst = max(worst, checkGradients(r.gradient, g, tolerance: tol, "reference"))
            print("golden reference \(g.name): worst relative error \(worst) (tolerance \(tol))")
        }
    }

    func testNetworkMatchesPyTorch() throws {
        let tol = Self.networkTolerance
        for g in try loadAll() {
            let B = g.batch, T = g.seqLength, L = g.config.numLayers
            let net = Network(config: g.config, batch: B, seqLength: T)
            let params = g.params.map { Float($0) }
            let inputs = g.inputs.map { Int32($0) }, targets = g.targets.map { Int32($0) }
            func start() {
                net.stateH = g.h0.map { $0.map { Float($0) } }
                net.stateC = g.c0?.map { $0.map { Float($0) } } ?? Array(repeating: [Float](repeating: 0, count: B * g.config.rnnSize), count: L)
            }
            func checkStates(_ when: String) -> Double {
                var worst = 0.0
                for k in 0..<L {
                    worst = max(worst, check(net.stateH[k].map(Double.init), g.hT[k], tolerance: tol, "network \(g.name) \(when): h[\(k)]"))
                    if let cT = g.cT {
                        worst = max(worst, check(net.stateC[k].map(Double.init), cT[k], tolerance: tol, "network \(g.name) \(when): c[\(k)]"))
                    }
                }
                return worst
            }
            var rng = RNG(seed: 1)

            // Evaluation forward: loss, logits, final states.
            start()
            let evalLoss = forwardFromArrays(net, params, inputs, targets, training: false, rng: &rng)
            var worst = check([evalLoss], [g.loss], tolerance: tol, "network \(g.name): loss (eval)")
            worst = max(worst, check(net.copyLogits().map(Double.init), g.logits, tolerance: tol, "network \(g.name): logits"))
            worst = max(worst, checkStates("eval"))

            // Training forward (dropout 0) and backward: loss, states, gradients.
            start()
            let trainLoss = forwardFromArrays(net, params, inputs, targets, training: true, rng: &rng)
            worst = max(worst, check([trainLoss], [g.loss], tolerance: tol, "network \(g.name): loss (train)"))
            worst = max(worst, checkStates("train"))
            var grads = [Float](repeating: 0, count: params.count)
            params.withUnsafeBufferPointer { p in
                grads.withUnsafeMutableBufferPointer { d in net.backward(params: p.baseAddress!, grads: d.baseAddress!) }
            }
            worst = max(worst, checkGradients(grads.map(Double.init), g, tolerance: tol, "network"))
            print("golden network \(g.name): worst relative error \(worst) (tolerance \(tol))")
        }
    }
}

/// Network.forward over Swift arrays.
private func forwardFromArrays(_ net: Network, _ params: [Float], _ inputs: [Int32], _ targets: [Int32],
                               training: Bool, rng: inout RNG) -> Double {
    params.withUnsafeBufferPointer { p in
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                net.forward(params: p.baseAddress!, inputs: x.baseAddress!, targets: y.baseAddress!, training: training, rng: &rng)
            }
        }
    }
}
