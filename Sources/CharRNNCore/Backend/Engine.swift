// What a compute device offers the tools (a ComputeEngine): a training
// backend, token steppers for sampling and sequence scorers for evaluation.
// The CPU's engine is here; the OpenCL one is in CharRNNOpenCL, and the
// command-line layer picks one for --device.

/// Streams of one model advanced one token at a time (sampling: each row a
/// sample; beam search: each row a beam).
public protocol TokenStepper: AnyObject {
    var streams: Int { get }
    var vocabSize: Int { get }
    /// Zeroes every stream's state.
    func reset() throws
    /// Feeds one token per stream; returns the logits of the next token,
    /// (streams, V), valid until the next call.
    func step(_ tokens: [Int32]) throws -> UnsafeBufferPointer<Float>
    /// Stream `to` continues from stream `from`'s state.
    func copyState(from: Int, to: Int) throws
    /// Stream j continues from stream parents[j]'s state, for every j at
    /// once (beam search: the kept beams, each from the beam it extends).
    func reorderStates(_ parents: [Int]) throws
}

/// Text run forward from a carried state, a chunk at a time (evaluation).
public protocol SequenceScorer: AnyObject {
    /// The longest chunk.
    var chunk: Int { get }
    func reset() throws
    /// The mean cross-entropy of `targets` after `inputs` (equal lengths,
    /// at most `chunk`), from the carried state, which is carried on.
    func loss(inputs: [Int32], targets: [Int32]) throws -> Double
    /// The logits of the last chunk, (steps, V).
    func logits() throws -> [Float]
    /// Layer k's hidden (and LSTM cell) states of the last chunk, (steps + 1,
    /// H): row 0 the state it started from.
    func states(layer k: Int) throws -> (h: [Float], c: [Float])
}

public protocol ComputeEngine: AnyObject {
    /// What log lines call the device.
    var label: String { get }
    /// Whether steppers may run at the same time on different threads
    /// (default false; see the extension).
    var concurrentSteppers: Bool { get }
    /// Training over `batch` rows; `kernels` for the CPU's planner.
    func trainingBackend(config: ModelConfig, batch: Int, seqLength: Int, threads: Int, params: [Float],
                         optimizer: Optimizer, kernels: KernelOptions) throws -> TrainingBackend
    /// `kernels` plans the CPU's products for several streams (forcing, cache).
    func stepper(config: ModelConfig, params: [Float], streams: Int, threads: Int, kernels: KernelOptions) throws -> TokenStepper
    func scorer(config: ModelConfig, params: [Float], chunk: Int, threads: Int) throws -> SequenceScorer
}

extension ComputeEngine {
    /// Whether steppers of this engine may run at the same time on
    /// different threads, each on one thread (sampling splits a large batch
    /// into such groups). A device with one queue says no.
    public var concurrentSteppers: Bool { false }

    public func stepper(config: ModelConfig, params: [Float], streams: Int, threads: Int) throws -> TokenStepper {
        try stepper(config: config, params: params, streams: streams, threads: threads, kernels: KernelOptions())
    }
}

/// A forward-only network with its weights: a stepper (one step of B
/// streams) and a scorer (batch 1, chunks of up to T steps), on any backend.
public final class NetworkRunner<Ops: NetworkOps>: TokenStepper, SequenceScorer {
    public let network: RecurrentNetwork<Ops>
    let params: Ops.Floats
    let hostLogits: UnsafeMutablePointer<Float>   // (B, V)

    public init(network: RecurrentNetwork<Ops>, params host: [Float]) throws {
        self.network = network
        let ops = network.ops
        let weights = try ops.floats(host.count, "the weights")
        try host.withUnsafeBufferPointer { try ops.upload($0.baseAddress!, count: host.count, to: weights, at: 0) }
        params = weights
        let n = network.batch * network.config.vocabSize
        hostLogits = .allocate(capacity: n)
        hostLogits.initialize(repeating: 0, count: n)
    }

    deinit { hostLogits.deallocate() }

    public var streams: Int { network.batch }
    public var vocabSize: Int { network.config.vocabSize }
    public var chunk: Int { network.seqLength }

    public func reset() throws { try network.resetState() }

    public func step(_ tokens: [Int32]) throws -> UnsafeBufferPointer<Float> {
        precondition(tokens.count == streams)
        try tokens.withUnsafeBufferPointer { try network.step(params: params, tokens: $0.baseAddress!, logits: hostLogits) }
        return UnsafeBufferPointer(start: hostLogits, count: streams * vocabSize)
    }

    public func copyState(from: Int, to: Int) throws { try network.copyStateRow(from, to: to) }

    public func reorderStates(_ parents: [Int]) throws {
        precondition(parents.count == streams)
        if parents.enumerated().allSatisfy({ $0.offset == $0.element }) { return }
        let H = network.config.rnnSize
        let (h, c) = try network.carriedState()
        func gather(_ rows: [Float]) -> [Float] {
            if rows.count < streams * H { return rows }
            var out = [Float](repeating: 0, count: rows.count)
            for (j, p) in parents.enumerated() { out[(j * H)..<((j + 1) * H)] = rows[(p * H)..<((p + 1) * H)] }
            return out
        }
        try network.setCarriedState(h: h.map(gather), c: c.map(gather))
    }

    public func loss(inputs: [Int32], targets: [Int32]) throws -> Double {
        precondition(network.batch == 1 && inputs.count == targets.count && inputs.count <= chunk && !inputs.isEmpty)
        var rng = RNG(seed: 0)  // unused without training
        return try network.forward(params: params, inputs: inputs, targets: targets, steps: inputs.count, training: false, rng: &rng)
    }

    public func logits() throws -> [Float] { try network.lastLogits() }

    public func states(layer k: Int) throws -> (h: [Float], c: [Float]) {
        (try network.hiddenStates(layer: k), try network.cellStates(layer: k))
    }
}

/// The CPU.
public final class CPUEngine: ComputeEngine {
    public init() {}

    public var label: String { "cpu" }
    public var concurrentSteppers: Bool { true }

    public func trainingBackend(config: ModelConfig, batch: Int, seqLength: Int, threads: Int, params: [Float],
                                optimizer: Optimizer, kernels: KernelOptions) throws -> TrainingBackend {
        CPUTrainingBackend(config: config, batch: batch, seqLength: seqLength, threads: threads, params: params,
                           optimizer: optimizer, kernels: kernels)
    }

    /// Weights (bytes) from which one stream's products are split over
    /// threads: below, they sit in one core's L2 and a character takes a
    /// few microseconds (a spinning team: a condition-variable pool
    /// measured slower than one thread).
    public static let splitFromBytes = 4 << 20

    public func stepper(config: ModelConfig, params: [Float], streams: Int, threads: Int, kernels: KernelOptions) throws -> TokenStepper {
        // One stream: matrix-vector products (OpenBLAS), split over a team
        // for large weights; several: the kernels planned for each thread's
        // rows (a measured plan where it can be cached; the weights are
        // packed once for the whole text, so timed as over many steps).
        let team = streams == 1 && threads > 1 && params.count * 4 >= Self.splitFromBytes ? SpinTeam(threads: threads) : nil
        let plan = streams == 1 ? KernelPlan.uniform(.blasStep, config: config)
            : KernelPlanner.plan(config: config, rows: max(1, streams / max(1, threads)), seqLength: 64, options: kernels)
        let network = Network(config: config, batch: streams, seqLength: 1, threads: streams == 1 ? 1 : threads,
                              plan: plan, forwardOnly: true, team: team)
        return CPURunner(try NetworkRunner(network: network, params: params))
    }

    public func scorer(config: ModelConfig, params: [Float], chunk: Int, threads: Int) throws -> SequenceScorer {
        let network = Network(config: config, batch: 1, seqLength: chunk, threads: threads, forwardOnly: true)
        return CPURunner(try NetworkRunner(network: network, params: params))
    }
}

/// NetworkRunner on the CPU, called through this concrete class so that the
/// compiler specializes the network's code for CPUOps (through the
/// protocols alone, a generic class's methods run unspecialized, looking up
/// type metadata on every step).
public final class CPURunner: TokenStepper, SequenceScorer {
    public let runner: NetworkRunner<CPUOps>
    init(_ runner: NetworkRunner<CPUOps>) { self.runner = runner }
    public var network: Network { runner.network }
    public var streams: Int { runner.streams }
    public var vocabSize: Int { runner.vocabSize }
    public var chunk: Int { runner.chunk }
    public func reset() throws { try runner.reset() }
    public func step(_ tokens: [Int32]) throws -> UnsafeBufferPointer<Float> { try runner.step(tokens) }
    public func copyState(from: Int, to: Int) throws { try runner.copyState(from: from, to: to) }
    public func reorderStates(_ parents: [Int]) throws { try runner.reorderStates(parents) }
    public func loss(inputs: [Int32], targets: [Int32]) throws -> Double { try runner.loss(inputs: inputs, targets: targets) }
    public func logits() throws -> [Float] { try runner.logits() }
    public func states(layer k: Int) throws -> (h: [Float], c: [Float]) { try runner.states(layer: k) }
}
