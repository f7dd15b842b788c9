// The OpenCL device as a ComputeEngine: training, sampling and evaluation
// on the device (the same network as the CPU's, over CLNetworkOps).
import CharRNNCore

public final class CLEngine: ComputeEngine {
    public let context: CLContext

    /// The engine of the device a selector names (its context shared by the process).
    public init(_ selector: OpenCLSelector) throws {
        context = try CLContext.shared(selector)
    }

    public var label: String { context.info.label }

    public func trainingBackend(config: ModelConfig, batch: Int, seqLength: Int, threads: Int, params: [Float],
                                optimizer: Optimizer, kernels: KernelOptions) throws -> TrainingBackend {
        try CLTrainingBackend(context: context, config: config, batch: batch, seqLength: seqLength, params: params,
                              optimizer: optimizer)
    }

    public func stepper(config: ModelConfig, params: [Float], streams: Int, threads: Int, kernels: KernelOptions) throws -> TokenStepper {
        let ops = try CLNetworkOps(context: context, config: config, batch: streams, steps: 1, training: false)
        return try NetworkRunner(network: try CLNetwork(ops: ops, config: config, batch: streams, seqLength: 1, forwardOnly: true),
                                 params: params)
    }

    public func scorer(config: ModelConfig, params: [Float], chunk: Int, threads: Int) throws -> SequenceScorer {
        let ops = try CLNetworkOps(context: context, config: config, batch: 1, steps: chunk, training: false)
        return try NetworkRunner(network: try CLNetwork(ops: ops, config: config, batch: 1, seqLength: chunk, forwardOnly: true),
                                 params: params)
    }
}
