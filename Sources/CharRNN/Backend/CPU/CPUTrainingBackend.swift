// The CPU training backend: Network (Model/Network.swift) with the weights,
// gradients and optimiser state in host memory.

public final class CPUTrainingBackend: TrainingBackend {
    public let network: Network
    var params: [Float]
    var grads: [Float]
    var optimizer: Optimizer

    public init(network: Network, params: [Float], optimizer: Optimizer) {
        self.network = network
        self.params = params
        self.grads = [Float](repeating: 0, count: params.count)
        self.optimizer = optimizer
    }

    public var deviceLabel: String { "cpu" }

    public func lossAndGradients(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, rng: inout RNG) throws -> Double {
        grads.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        return params.withUnsafeBufferPointer { p in
            grads.withUnsafeMutableBufferPointer { g in
                let loss = network.forward(params: p.baseAddress!, inputs: inputs, targets: targets, training: true, rng: &rng)
                network.backward(params: p.baseAddress!, grads: g.baseAddress!)
                return loss
            }
        }
    }

    public func update(gradClip: Float, learningRate: Float) throws {
        let count = params.count
        params.withUnsafeMutableBufferPointer { p in
            grads.withUnsafeMutableBufferPointer { g in
                clipGradients(g.baseAddress!, count: count, limit: gradClip)
                optimizer.update(params: p.baseAddress!, grads: g.baseAddress!, count: count, lr: learningRate)
            }
        }
    }

    public func loss(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>) throws -> Double {
        var rng = RNG(seed: 0)  // unused without dropout
        return params.withUnsafeBufferPointer { p in
            network.forward(params: p.baseAddress!, inputs: inputs, targets: targets, training: false, rng: &rng)
        }
    }

    public func resetState() throws { network.resetState() }

    public func carriedState() throws -> (h: [[Float]], c: [[Float]]) { (network.stateH, network.stateC) }

    public func setCarriedState(h: [[Float]], c: [[Float]]) throws {
        network.stateH = h
        network.stateC = c
    }

    public func parameters() throws -> [Float] { params }

    public func optimizerState() throws -> Optimizer { optimizer }

    public func setBatchShare(_ share: BatchShare) { network.share = share }

    public func averageGradients(over group: Communicator) throws {
        let scale = 1 / Float(group.size)
        try grads.withUnsafeMutableBufferPointer { g in
            try group.sum(g.baseAddress!, count: g.count)
            for i in g.indices { g[i] *= scale }
        }
    }

    /// The gradients of the last lossAndGradients (tests).
    public func gradients() throws -> [Float] { grads }
}
