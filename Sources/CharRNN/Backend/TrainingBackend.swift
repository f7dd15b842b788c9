// What training, sampling and evaluation need from a compute device, and
// the choice of one (--device). The CPU backend (Backend/CPU) is the
// reference; Backend/OpenCL runs the same operations on an OpenCL device.

/// One training step is split in two, so that a bad loss can stop the run
/// before the update; the weights, optimiser state and carried state come
/// back to the host only for checkpoints.
public protocol TrainingBackend: AnyObject {
    /// "cpu" or the OpenCL device's label, for log lines.
    var deviceLabel: String { get }
    /// Forward and backward over one minibatch (time-major, B·T tokens each);
    /// the gradients are kept for `update`. Returns the mean loss.
    func lossAndGradients(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, rng: inout RNG) throws -> Double
    /// Clips the gradients element-wise and takes one optimiser step.
    func update(gradClip: Float, learningRate: Float) throws
    /// The mean loss of one minibatch, without dropout or gradients.
    func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) throws -> Double
    func resetState() throws
    /// The carried hidden (and LSTM cell) state per layer, (B, H) each.
    func carriedState() throws -> (h: [[Float]], c: [[Float]])
    func setCarriedState(h: [[Float]], c: [[Float]]) throws
    /// The weights and optimiser state as the host sees them.
    func parameters() throws -> [Float]
    func optimizerState() throws -> Optimizer
    /// Data-parallel training: which rows of the global batch this backend
    /// holds (its dropout masks are drawn for the whole batch).
    func setBatchShare(_ share: BatchShare)
    /// Data-parallel training: replaces the gradients of the last
    /// `lossAndGradients` by their mean over every process of `group`.
    func averageGradients(over group: Communicator) throws
}

/// One character at a time (batch 1), for sampling.
public protocol CharacterStepper: AnyObject {
    /// Zeroes the hidden state.
    func reset() throws
    /// Feeds one token; returns the logits for the next (V values, valid
    /// until the next call).
    func step(token: Int) throws -> UnsafeMutableBufferPointer<Float>
}

extension Sampler: CharacterStepper {}

extension ComputeDevice {
    /// A training backend on this device.
    public func trainingBackend(config: ModelConfig, batch: Int, seqLength: Int, threads: Int,
                                params: [Float], optimizer: Optimizer,
                                kernels: KernelOptions = KernelOptions()) throws -> TrainingBackend {
        switch self {
        case .cpu:
            return CPUTrainingBackend(config: config, batch: batch, seqLength: seqLength, threads: threads,
                                      params: params, optimizer: optimizer, kernels: kernels)
        case .openCL(let selector):
            return try CLTrainingBackend(context: try CLContext.shared(selector), config: config, batch: batch,
                                         seqLength: seqLength, params: params, optimizer: optimizer)
        }
    }

    /// A batch-1 stepper for sampling on this device.
    public func stepper(config: ModelConfig, params: [Float], threads: Int) throws -> CharacterStepper {
        switch self {
        case .cpu: return Sampler(config: config, params: params, threads: threads)
        case .openCL(let selector): return try CLSampler(context: try CLContext.shared(selector), config: config, params: params)
        }
    }

    /// What log lines call the device.
    public func label() throws -> String {
        switch self {
        case .cpu: return "cpu"
        case .openCL(let selector): return try CLContext.shared(selector).info.label
        }
    }
}
