// The packed per-step products of every kernel this CPU runs against a
// plain product (row remainders of every tile, narrow last panels, k
// blocks, the three ways a product starts), and the planner: its choices
// are among the candidates, it gives the same training losses as
// OpenBLAS, and its cache gives the same plan back.
import XCTest
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import CSupport

final class KernelTests: XCTestCase {
    func testPackedKernelsMatchPlainProduct() {
        var rng = RNG(seed: 17)
        let kernels = PackedKernels.available
        XCTAssertFalse(kernels.isEmpty)
        // Every instruction set this CPU runs has its kernels in the list.
        for isa in supportedISAs {
            XCTAssertTrue(kernels.contains { charrnn_gemm_kernel_isa($0) == isa }, "no kernel for \(charrnn_isa_name(isa))")
        }
        for kernel in kernels {
            let name = PackedKernels.name(kernel), panel = PackedKernels.panel(kernel)
            for m in [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 25] {
                for n in [16, 48, panel + 16, 2 * panel, 144] {
                    for k in [0, 1, 7, 128, 131, 300, 600, 1100] {
                        for transposed in [false, true] {
                            for mode in 0..<3 {  // 0: C = A·B, 1: C += A·B, 2: C = gathered rows + A·B
                                checkProduct(kernel, name, m: m, n: n, k: k, transposed: transposed, mode: mode, rng: &rng)
                            }
                        }
                    }
                }
            }
        }
    }

    func checkProduct(_ kernel: Int32, _ name: String, m: Int, n: Int, k: Int, transposed: Bool, mode: Int, rng: inout RNG) {
        let a = (0..<(m * k)).map { _ in Float(rng.uniform() - 0.5) }
        let w = (0..<(n * k)).map { _ in Float(rng.uniform() - 0.5) }   // n×k (transposed) or k×n
        let lda = k + 3, ldc = n + 5      // strides wider than the rows
        var aPadded = [Float](repeating: 0, count: max(m * lda, 1))
        for i in 0..<m { for p in 0..<k { aPadded[i * lda + p] = a[i * k + p] } }
        let table = (0..<(7 * n)).map { _ in Float(rng.uniform()) }
        let ids = (0..<m).map { _ in Int32(rng.below(7)) }
        let c0 = (0..<(m * ldc)).map { _ in Float(rng.uniform()) }
        var c = c0
        var packed = [Float](repeating: .nan, count: max(n * k, 1))
        charrnn_pack_panels(Int32(k), Int32(n), w, transposed ? k : n, transposed ? 1 : 0, Int32(PackedKernels.panel(kernel)), &packed)
        switch mode {
        case 2:
            charrnn_gemm_packed_gather(kernel, Int32(m), Int32(n), Int32(k), aPadded, lda, packed, &c, ldc, table, ids)
        default:
            charrnn_gemm_packed(kernel, Int32(m), Int32(n), Int32(k), aPadded, lda, packed, &c, ldc, Int32(mode))
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var want = mode == 1 ? Double(c0[i * ldc + j]) : mode == 2 ? Double(table[Int(ids[i]) * n + j]) : 0
                var size = abs(want)
                for p in 0..<k {
                    let b = Double(transposed ? w[j * k + p] : w[p * n + j])
                    want += Double(a[i * k + p]) * b
                    size += abs(Double(a[i * k + p]) * b)
                }
                worst = max(worst, abs(Double(c[i * ldc + j]) - want) / max(size, 1))
            }
            // Beyond the n columns of each row, C is untouched.
            for j in n..<ldc where c[i * ldc + j] != c0[i * ldc + j] {
                XCTFail("\(name) m \(m) n \(n) k \(k): wrote column \(j) of row \(i)")
                return
            }
        }
        XCTAssertLessThan(worst, 1e-6, "\(name) m \(m) n \(n) k \(k) transposed \(transposed) mode \(mode)")
    }

    /// The planner chooses among the candidates, for every product, and a
    /// network on its plan trains to the same losses as on OpenBLAS alone.
    func testPlannerChoosesACandidateWithTheSameLosses() throws {
        defer { charrnn_use_isa(charrnn_isa_best()) }
        let dir = try makeTemporaryFolder()
        defer { removeTemporaryFolder(dir) }
        for (cell, embedding) in [(CellKind.lstm, 0), (.gru, 16), (.rnn, 0)] {
            let config = ModelConfig(cell: cell, rnnSize: 32, numLayers: 2, embeddingSize: embedding, dropout: 0, vocabSize: 11)
            let options = KernelOptions(cacheDirectory: dir)
            let plan = KernelPlanner.plan(config: config, rows: 6, seqLength: 8, options: options)
            let allowed: Set<ProductPath> = Set(PackedKernels.available.map { .packed($0) } + [.blasStep, .blasWhole])
            for (k, layer) in plan.layers.enumerated() {
                for path in [layer.forwardRecurrent, layer.backwardRecurrent] {
                    XCTAssertTrue(allowed.contains(path) && path != .blasWhole, "\(cell) layer \(k): \(path)")
                }
                XCTAssertTrue(allowed.contains(layer.forwardInput) && allowed.contains(layer.backwardInput))
            }
            XCTAssertEqual(plan.notes.count, 2 * (config.numLayers * 2) - (embedding == 0 ? 2 : 0), "\(plan.notes)")
            // The cache gives the same plan back, saying so.
            let again = KernelPlanner.plan(config: config, rows: 6, seqLength: 8, options: options)
            XCTAssertEqual(again, plan)
            XCTAssertTrue(again.notes.allSatisfy { $0.contains("cached") }, "\(again.notes)")
            // Same losses as OpenBLAS over a few steps.
            let losses = try trainLosses(config: config, plan: plan)
            let reference = try trainLosses(config: config, plan: .uniform(.blasWhole, config: config))
            for (a, b) in zip(losses, reference) { XCTAssertEqual(a, b, accuracy: 1e-5 * abs(b), "\(cell)") }
        }
    }

    /// Without a cache folder to keep a measured plan in, the plan is the
    /// standard one (every run alike); an unwritable folder is the same.
    func testNoCacheGivesTheStandardPlan() {
        let config = ModelConfig(cell: .lstm, rnnSize: 512, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: 65)
        let standard = KernelPlan.standard(config: config)
        XCTAssertEqual(KernelPlanner.plan(config: config, rows: 25, seqLength: 50, options: KernelOptions()), standard)
        let unwritable = KernelPlanner.plan(config: config, rows: 25, seqLength: 50,
                                            options: KernelOptions(cacheDirectory: "/proc/charrnn-cache"))
        XCTAssertEqual(unwritable, standard)
        XCTAssertTrue(unwritable.notes.first?.contains("cannot write /proc/charrnn-cache") ?? false, "\(unwritable.notes)")
        // 2×512: the input products of layer 2 over all steps (W_ih is 4 MB).
        XCTAssertEqual(standard.layers[1].forwardInput, .blasWhole)
        XCTAssertNotNil(standard.layers[1].forwardRecurrent.kernel)
    }

    /// A forced path names what a product runs on; an unknown name is refused.
    func testForcedPathsAndNames() throws {
        let config = ModelConfig(cell: .lstm, rnnSize: 32, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: 11)
        for kernel in PackedKernels.available {
            let name = PackedKernels.name(kernel)
            let plan = KernelPlanner.plan(config: config, rows: 4, seqLength: 8, options: KernelOptions(forced: name))
            XCTAssertEqual(plan.layers[1].forwardInput, .packed(kernel))
            XCTAssertEqual(plan.layers[0].backwardRecurrent, .packed(kernel))
            XCTAssertNoThrow(try KernelOptions(forced: name).validate())
        }
        let blas = KernelPlanner.plan(config: config, rows: 4, seqLength: 8, options: KernelOptions(forced: "openblas"))
        XCTAssertEqual(blas.layers[1], LayerPlan(forwardRecurrent: .blasStep, backwardRecurrent: .blasStep,
                                                 forwardInput: .blasWhole, backwardInput: .blasWhole))
        // An instruction set: its kernels (and OpenBLAS) only, its element-wise kernels.
        let portable = KernelPlanner.plan(config: config, rows: 4, seqLength: 8, options: KernelOptions(forced: "portable"))
        XCTAssertEqual(portable.isa, Int32(CHARRNN_ISA_PORTABLE))
        for layer in portable.layers {
            if let k = layer.forwardRecurrent.kernel { XCTAssertEqual(charrnn_gemm_kernel_isa(k), Int32(CHARRNN_ISA_PORTABLE)) }
        }
        assertThrowsCharRNNError(["unknown kernel 'fastest'", "openblas"]) { try KernelOptions(forced: "fastest").validate() }
    }

    func trainLosses(config: ModelConfig, plan: KernelPlan) throws -> [Double] {
        charrnn_use_isa(plan.isa)
        let B = 6, T = 8
        var rng = RNG(seed: 3)
        let params = initialParameters(ParamLayout(config), rng: &rng)
        let optimizer = Optimizer(kind: .rmsprop, count: params.count, decayRate: 0.95)
        let backend = CPUTrainingBackend(network: Network(config: config, batch: B, seqLength: T, plan: plan),
                                         params: params, optimizer: optimizer)
        var losses: [Double] = []
        for _ in 0..<4 {
            let inputs = (0..<(B * T)).map { _ in Int32(rng.below(config.vocabSize)) }
            let targets = (0..<(B * T)).map { _ in Int32(rng.below(config.vocabSize)) }
            var drop = RNG(seed: 1)
            losses.append(try backend.lossAndGradients(inputs: inputs, targets: targets, rng: &drop))
            try backend.update(gradClip: 5, learningRate: 2e-3)
        }
        return losses
    }
}
