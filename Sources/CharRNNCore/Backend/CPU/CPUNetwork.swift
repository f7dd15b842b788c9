// The network on the CPU (RecurrentNetwork over CPUOps) with the weights and
// gradients as plain host pointers, and the carried state as arrays.

public typealias Network = RecurrentNetwork<CPUOps>

extension RecurrentNetwork where Ops == CPUOps {
    /// A CPU network over `batch` rows; `plan` (default KernelPlan.standard,
    /// not measured) chooses each product's kernel; `threads` split the
    /// batch's rows and the large products.
    public convenience init(config: ModelConfig, batch: Int, seqLength: Int, threads: Int = 1, plan: KernelPlan? = nil,
                            forwardOnly: Bool = false, team: SpinTeam? = nil) {
        let ops = CPUOps(config: config, batch: batch, steps: seqLength, threads: threads, plan: plan, team: team,
                         training: !forwardOnly)
        // Host allocations do not fail (an impossible size traps, as any allocation).
        try! self.init(ops: ops, config: config, batch: batch, seqLength: seqLength, forwardOnly: forwardOnly)
    }

    /// The kernels each product uses.
    public var plan: KernelPlan { ops.plan }

    func floats(_ p: UnsafePointer<Float>) -> CPUFloats { CPUFloats(UnsafeMutablePointer(mutating: p), count: layout.total) }

    /// forward() with the weights at a host pointer (ParamLayout order).
    public func forward(params: UnsafePointer<Float>, inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>,
                        steps: Int? = nil, training: Bool, rng: inout RNG) -> Double {
        try! forward(params: floats(params), inputs: inputs, targets: targets, steps: steps, training: training, rng: &rng)
    }

    /// backward() into host gradients.
    public func backward(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>) {
        try! backward(params: floats(params), grads: CPUFloats(grads, count: layout.total))
    }

    /// step() with the weights at a host pointer.
    public func step(params: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, logits: UnsafeMutablePointer<Float>) {
        try! step(params: floats(params), tokens: tokens, logits: logits)
    }

    /// The carried hidden state per layer, (B, H).
    public var stateH: [[Float]] {
        get { try! carriedState().h }
        set { try! setCarriedState(h: newValue, c: stateC) }
    }

    /// The carried LSTM cell state per layer, (B, H).
    public var stateC: [[Float]] {
        get { try! carriedState().c }
        set { try! setCarriedState(h: stateH, c: newValue) }
    }

    /// Logits of the last forward-only pass, (rows, V).
    public func copyLogits() -> [Float] { try! lastLogits() }

    /// The dropout multipliers of layer k in the last training forward.
    public func dropoutMask(layer k: Int) -> [Float]? {
        usedDropout ? ops.dropoutMask(layer: k, count: N * H) : nil
    }
}
