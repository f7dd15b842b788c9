// The OpenCL training backend: CLNetwork plus the gradients and the
// optimiser state on the device; clip and RMSprop/Adam run as kernels.
#if canImport(Glibc)
import Glibc
#endif

public final class CLTrainingBackend: TrainingBackend {
    public let network: CLNetwork
    let grads: FloatBuf           // (P)
    let slots: [FloatBuf]         // (P) each: RMSprop square_avg; Adam exp_avg, exp_avg_sq
    /// Hyper-parameters and step count; `state` stays empty (it lives in `slots`).
    var optimizer: Optimizer
    let count: Int

    public init(context: CLContext, config: ModelConfig, batch: Int, seqLength: Int, params: [Float], optimizer: Optimizer) throws {
        network = try CLNetwork(context: context, config: config, params: params, batch: batch, seqLength: seqLength)
        let count = params.count
        self.count = count
        grads = try FloatBuf(context, count: count, name: "the gradients")
        slots = try optimizer.kind.slots.map { try FloatBuf(context, count: count, name: "the optimiser's \($0)") }
        for (slot, values) in zip(slots, optimizer.state) { try slot.write(values) }
        self.optimizer = optimizer
        self.optimizer.state = []
    }

    public var deviceLabel: String { network.deviceLabel }

    public func lossAndGradients(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, rng: inout RNG) throws -> Double {
        try grads.zero()
        let loss = try network.forward(inputs: inputs, targets: targets, training: true, rng: &rng)
        try network.backward(grads: grads)
        return loss
    }

    public func update(gradClip: Float, learningRate lr: Float) throws {
        let ops = network.ops, x = network.params
        try ops.clip(grads, limit: gradClip, count: count)
        optimizer.step += 1
        switch optimizer.kind {
        case .rmsprop:
            try ops.rmsprop(x, grads, slots[0], lr: lr, decay: optimizer.decayRate, eps: optimizer.epsilon, count: count)
        case .adam:
            // As Optimizer.update: bias corrections from the step count.
            let c1 = 1 - Float(pow(Double(optimizer.beta1), Double(optimizer.step)))
            let c2 = 1 - Float(pow(Double(optimizer.beta2), Double(optimizer.step)))
            try ops.adam(x, grads, slots[0], slots[1], stepSize: lr / c1, beta1: optimizer.beta1, beta2: optimizer.beta2,
                         c2root: c2.squareRoot(), eps: optimizer.epsilon, count: count)
        }
    }

    public func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) throws -> Double {
        var rng = RNG(seed: 0)  // unused without dropout
        return try network.forward(inputs: inputs, targets: targets, training: false, rng: &rng)
    }

    public func resetState() throws { try network.resetState() }

    public func carriedState() throws -> (h: [[Float]], c: [[Float]]) { try network.carriedState() }

    public func setCarriedState(h: [[Float]], c: [[Float]]) throws { try network.setCarriedState(h: h, c: c) }

    public func parameters() throws -> [Float] { try network.parameters() }

    public func optimizerState() throws -> Optimizer {
        var o = optimizer
        o.state = try slots.map { try $0.read() }
        return o
    }

    /// The gradients of the last lossAndGradients (tests).
    public func gradients() throws -> [Float] { try grads.read() }

    public func setBatchShare(_ share: BatchShare) { network.share = share }

    /// Through the host: read, sum over the group, scale, write back.
    public func averageGradients(over group: Communicator) throws {
        var host: [Float] = try grads.read()
        try group.average(&host)
        try grads.write(host)
    }
}
