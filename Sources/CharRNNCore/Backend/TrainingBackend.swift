// What training needs from a compute device (Engine.swift makes one per
// device). The CPU backend (Backend/CPU) is the reference; CharRNNOpenCL
// runs the same network on an OpenCL device.

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
