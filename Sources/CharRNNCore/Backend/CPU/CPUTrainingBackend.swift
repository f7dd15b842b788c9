// The CPU training backend: the network on the CPU (CPUNetwork.swift) with
// the weights, gradients and optimiser state in host memory.
//
// With several threads the minibatch is split data-parallel, as processes
// split it under MPI: each thread runs a whole Network over its own rows
// (forward and backward, with no synchronisation inside the step), then the
// per-thread gradients are summed. This measured 1.4× faster on 2 cores
// than splitting every operation across the threads, whose small per-step
// products pay the fork-join and the packing of W_hh on every thread. A
// batch too small to give each thread a few rows splits each operation
// instead (Network's own thread pool).

import CSupport

public final class CPUTrainingBackend: TrainingBackend {
    /// The first part (the whole batch when the batch is not split).
    public var network: Network { parts[0] }
    /// The networks of the parts, each over `rows[p]` of the batch.
    let parts: [Network]
    let rows: [Range<Int>]
    let batch: Int
    let seqLength: Int
    /// Runs the parts in parallel (one thread each).
    let pool: WorkerPool
    var params: [Float]
    var grads: [Float]
    /// Gradients of parts 1..., summed into `grads` after backward.
    let partGrads: [FloatBuffer]
    /// Each part's tokens (its rows of the time-major minibatch).
    var partInputs: [[Int32]]
    var partTargets: [[Int32]]
    let partLoss: UnsafeMutablePointer<Double>
    var optimizer: Optimizer

    /// Fewest rows a part gets when the batch is split over threads.
    public static let minimumRowsPerThread = 8

    /// A backend over `threads` threads for a minibatch of `batch` rows.
    /// The products' kernels are planned for the rows each thread works on
    /// (KernelPlanner, with `kernels`' forcing and cache).
    public convenience init(config: ModelConfig, batch: Int, seqLength: Int, threads: Int, params: [Float], optimizer: Optimizer,
                            kernels: KernelOptions = KernelOptions()) {
        let count = max(1, min(threads, batch / Self.minimumRowsPerThread))
        let rows = (0..<count).map { WorkerPool.range(batch, parts: count, part: $0) }
        // Threads beyond the parts split each part's operations.
        let inner = count == 1 ? threads : max(1, threads / count)
        let plan = KernelPlanner.plan(config: config, rows: max(1, rows[0].count / inner), seqLength: seqLength, options: kernels)
        charrnn_use_isa(plan.isa)
        let parts = rows.map { Network(config: config, batch: $0.count, seqLength: seqLength, threads: inner, plan: plan) }
        self.init(parts: parts, rows: rows, batch: batch, seqLength: seqLength, params: params, optimizer: optimizer)
    }

    /// One network over the whole batch (its own thread count).
    public convenience init(network: Network, params: [Float], optimizer: Optimizer) {
        self.init(parts: [network], rows: [0..<network.batch], batch: network.batch, seqLength: network.seqLength,
                  params: params, optimizer: optimizer)
    }

    init(parts: [Network], rows: [Range<Int>], batch: Int, seqLength: Int, params: [Float], optimizer: Optimizer) {
        self.parts = parts
        self.rows = rows
        self.batch = batch
        self.seqLength = seqLength
        self.params = params
        self.grads = [Float](repeating: 0, count: params.count)
        self.partGrads = (1..<max(parts.count, 1)).map { _ in FloatBuffer(params.count) }
        self.partInputs = rows.map { [Int32](repeating: 0, count: $0.count * seqLength) }
        self.partTargets = partInputs
        self.partLoss = .allocate(capacity: parts.count)
        self.partLoss.initialize(repeating: 0, count: parts.count)
        self.optimizer = optimizer
        self.pool = WorkerPool(threads: parts.count)
        if parts.count > 1 { setBatchShare(BatchShare(global: batch, offset: 0)) }
    }

    deinit { partLoss.deallocate() }

    public var deviceLabel: String { "cpu" }

    /// The kernels the networks use, and the times that chose them.
    public var plan: KernelPlan { network.plan }

    /// Threads that run whole parts of the batch (1: the operations are split).
    public var dataParallelThreads: Int { parts.count }

    /// Copies each part's rows of the time-major tokens.
    func scatter(_ inputs: UnsafePointer<Int32>, _ targets: UnsafePointer<Int32>) {
        let B = batch, T = seqLength
        for (p, r) in rows.enumerated() {
            let nb = r.count
            partInputs[p].withUnsafeMutableBufferPointer { x in
                partTargets[p].withUnsafeMutableBufferPointer { y in
                    for t in 0..<T {
                        for j in 0..<nb {
                            x[t * nb + j] = inputs[t * B + r.lowerBound + j]
                            y[t * nb + j] = targets[t * B + r.lowerBound + j]
                        }
                    }
                }
            }
        }
    }

    /// The batch's mean loss from the parts' means (weighted by their rows).
    func combinedLoss() -> Double {
        var total = 0.0
        for (p, r) in rows.enumerated() { total += partLoss[p] * Double(r.count) }
        return total / Double(batch)
    }

    public func lossAndGradients(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, rng: inout RNG) throws -> Double {
        if parts.count == 1 {
            grads.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return params.withUnsafeBufferPointer { p in
                grads.withUnsafeMutableBufferPointer { g in
                    let loss = network.forward(params: p.baseAddress!, inputs: inputs, targets: targets, training: true, rng: &rng)
                    network.backward(params: p.baseAddress!, grads: g.baseAddress!)
                    return loss
                }
            }
        }
        scatter(inputs, targets)
        // Every part draws the whole batch's dropout stream from the same
        // start (keeping its own rows), so the stream ends in the same place.
        let start = rng
        var after = rng
        let P = params.count
        params.withUnsafeBufferPointer { p in
            grads.withUnsafeMutableBufferPointer { g0 in
                let gradBase = g0.baseAddress!
                let partBases = partGrads.map(\.pointer)
                pool.run { part in
                    let g = part == 0 ? gradBase : partBases[part - 1]
                    g.update(repeating: 0, count: P)
                    var r = start
                    let loss = partInputs[part].withUnsafeBufferPointer { x in
                        partTargets[part].withUnsafeBufferPointer { y in
                            parts[part].forward(params: p.baseAddress!, inputs: x.baseAddress!, targets: y.baseAddress!,
                                                training: true, rng: &r)
                        }
                    }
                    parts[part].backward(params: p.baseAddress!, grads: g)
                    partLoss[part] = loss
                    if part == 0 { after = r }
                }
                // Each part's gradient is of its own mean loss: weight by rows.
                let weights = rows.map { Float($0.count) / Float(batch) }
                pool.run { part in
                    let range = WorkerPool.range(P, parts: parts.count, part: part)
                    for i in range {
                        var s = gradBase[i] * weights[0]
                        for q in 1..<parts.count { s += partBases[q - 1][i] * weights[q] }
                        gradBase[i] = s
                    }
                }
            }
        }
        rng = after
        return combinedLoss()
    }

    public func update(gradClip: Float, learningRate: Float) throws {
        let count = params.count
        params.withUnsafeMutableBufferPointer { p in
            grads.withUnsafeMutableBufferPointer { g in
                optimizer.update(params: p.baseAddress!, grads: g.baseAddress!, count: count, lr: learningRate,
                                 clip: gradClip, pool: pool)
            }
        }
        for n in parts { n.weightsChanged() }
    }

    public func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) throws -> Double {
        if parts.count == 1 {
            var rng = RNG(seed: 0)  // unused without dropout
            return params.withUnsafeBufferPointer { p in
                network.forward(params: p.baseAddress!, inputs: inputs, targets: targets, training: false, rng: &rng)
            }
        }
        scatter(inputs, targets)
        params.withUnsafeBufferPointer { p in
            pool.run { part in
                var rng = RNG(seed: 0)
                partLoss[part] = partInputs[part].withUnsafeBufferPointer { x in
                    partTargets[part].withUnsafeBufferPointer { y in
                        parts[part].forward(params: p.baseAddress!, inputs: x.baseAddress!, targets: y.baseAddress!,
                                            training: false, rng: &rng)
                    }
                }
            }
        }
        return combinedLoss()
    }

    public func resetState() throws { for n in parts { try n.resetState() } }

    /// The parts' (rows, H) states stacked in row order: (B, H) per layer.
    public func carriedState() throws -> (h: [[Float]], c: [[Float]]) {
        if parts.count == 1 { return (network.stateH, network.stateC) }
        let L = network.stateH.count
        return ((0..<L).map { k in parts.flatMap { $0.stateH[k] } }, (0..<L).map { k in parts.flatMap { $0.stateC[k] } })
    }

    public func setCarriedState(h: [[Float]], c: [[Float]]) throws {
        if parts.count == 1 {
            network.stateH = h
            network.stateC = c
            return
        }
        let H = network.H
        for (p, r) in rows.enumerated() {
            let span = (r.lowerBound * H)..<(r.upperBound * H)
            parts[p].stateH = h.map { Array($0[span]) }
            parts[p].stateC = c.map { $0.count == batch * H ? Array($0[span]) : $0 }
        }
    }

    public func parameters() throws -> [Float] { params }

    public func optimizerState() throws -> Optimizer { optimizer }

    /// Which rows of the global batch this backend holds (MPI), passed on to
    /// the parts with their offsets inside it.
    public func setBatchShare(_ share: BatchShare) {
        for (p, r) in rows.enumerated() {
            parts[p].share = BatchShare(global: share.global, offset: share.offset + r.lowerBound)
        }
    }

    public func averageGradients(over group: Communicator) throws { try group.average(&grads) }

    /// The gradients of the last lossAndGradients (tests).
    public func gradients() throws -> [Float] { grads }
}
