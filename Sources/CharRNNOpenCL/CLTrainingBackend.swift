// The OpenCL training backend: the network (RecurrentNetwork over
// CLNetworkOps) plus the weights, gradients and optimiser state on the
// device; clip and RMSprop/Adam run as kernels.
import CharRNNCore

public typealias CLNetwork = RecurrentNetwork<CLNetworkOps>

public final class CLTrainingBackend: TrainingBackend {
    public let network: CLNetwork
    let ops: CLNetworkOps
    let params: FloatBuf          // (P)
    let grads: FloatBuf           // (P)
    let slots: [FloatBuf]         // (P) each: RMSprop square_avg; Adam exp_avg, exp_avg_sq
    /// Hyper-parameters and step count; `state` stays empty (it lives in `slots`).
    var optimizer: Optimizer
    let count: Int

    public init(context: CLContext, config: ModelConfig, batch: Int, seqLength: Int, params host: [Float],
                optimizer: Optimizer) throws {
        ops = try CLNetworkOps(context: context, config: config, batch: batch, steps: seqLength)
        network = try CLNetwork(ops: ops, config: config, batch: batch, seqLength: seqLength)
        let count = host.count
        self.count = count
        params = try FloatBuf(context, count: count, name: "the weights")
        try params.write(host)
        grads = try FloatBuf(context, count: count, name: "the gradients")
        slots = try optimizer.kind.slots.map { try FloatBuf(context, count: count, name: "the optimiser's \($0)") }
        for (slot, values) in zip(slots, optimizer.state) { try slot.write(values) }
        self.optimizer = optimizer
        self.optimizer.state = []
    }

    public var deviceLabel: String { ops.deviceLabel }

    public func lossAndGradients(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, rng: inout RNG) throws -> Double {
        try grads.zero()
        let loss = try network.forward(params: params, inputs: inputs, targets: targets, training: true, rng: &rng)
        try network.backward(params: params, grads: grads)
        return loss
    }

    public func update(gradClip: Float, learningRate lr: Float) throws {
        let k = ops.ops
        try k.clip(grads, limit: gradClip, count: count)
        let step = optimizer.nextStep(learningRate: lr)
        switch optimizer.kind {
        case .rmsprop:
            try k.rmsprop(params, grads, slots[0], lr: lr, decay: optimizer.decayRate, eps: optimizer.epsilon, count: count)
        case .adam:
            try k.adam(params, grads, slots[0], slots[1], stepSize: step.stepSize, beta1: optimizer.beta1, beta2: optimizer.beta2,
                       c2root: step.c2root, eps: optimizer.epsilon, count: count)
        }
        network.weightsChanged()
    }

    public func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) throws -> Double {
        var rng = RNG(seed: 0)  // unused without dropout
        return try network.forward(params: params, inputs: inputs, targets: targets, training: false, rng: &rng)
    }

    public func resetState() throws { try network.resetState() }

    public func carriedState() throws -> (h: [[Float]], c: [[Float]]) { try network.carriedState() }

    public func setCarriedState(h: [[Float]], c: [[Float]]) throws { try network.setCarriedState(h: h, c: c) }

    public func parameters() throws -> [Float] { try params.read() }

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
