// Element-wise gradient clipping and the two optimisers: RMSprop (char-rnn:
// m = a·m + (1−a)·g², x −= lr·g/(√m + eps)) and Adam (torch-rnn, with bias
// correction). State slots are named as PyTorch names them.
#if canImport(Glibc)
import Glibc
#endif
import CSupport

public enum OptimizerKind: String, CaseIterable, Sendable {
    case rmsprop, adam

    public var slots: [String] {
        switch self {
        case .rmsprop: return ["square_avg"]
        case .adam: return ["exp_avg", "exp_avg_sq"]
        }
    }
}

public struct Optimizer {
    public let kind: OptimizerKind
    public var decayRate: Float       // RMSprop alpha
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var step = 0
    /// One array per slot, each as long as the parameters.
    public var state: [[Float]]

    public init(kind: OptimizerKind, count: Int, decayRate: Float) {
        self.kind = kind
        self.decayRate = decayRate
        state = kind.slots.map { _ in [Float](repeating: 0, count: count) }
    }

    /// Counts a step and returns Adam's bias-corrected step size
    /// lr / (1 − β1^t) and √(1 − β2^t) for it (every backend's Adam).
    public mutating func nextStep(learningRate lr: Float) -> (stepSize: Float, c2root: Float) {
        step += 1
        let c1 = 1 - Float(pow(Double(beta1), Double(step)))
        let c2 = 1 - Float(pow(Double(beta2), Double(step)))
        return (lr / c1, c2.squareRoot())
    }

    /// One update of `params` by `grads` at learning rate `lr`; with
    /// `clip`, the gradients are first clamped to ±clip (char-rnn's clip).
    /// With a pool the parameters are split into its threads' ranges.
    public mutating func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, count: Int, lr: Float,
                                clip: Float? = nil, pool: WorkerPool? = nil) {
        let (stepSize, c2root) = nextStep(learningRate: lr)
        let parts = pool?.count ?? 1
        let kind = self.kind, decayRate = self.decayRate, beta1 = self.beta1, beta2 = self.beta2, epsilon = self.epsilon
        // Move the slots out so each is uniquely referenced (no copy).
        var first = state[0], second = kind == .adam ? state[1] : []
        state = []
        defer { state = kind == .adam ? [first, second] : [first] }
        first.withUnsafeMutableBufferPointer { m in
            second.withUnsafeMutableBufferPointer { v in
                let m = m.baseAddress!, v = v.baseAddress
                let body = { (part: Int) in
                    let r = WorkerPool.range(count, parts: parts, part: part)
                    if r.isEmpty { return }
                    let lo = r.lowerBound
                    if let clip { charrnn_clip(grads + lo, r.count, clip) }
                    switch kind {
                    case .rmsprop:
                        charrnn_rmsprop(params + lo, grads + lo, m + lo, r.count, lr, decayRate, epsilon)
                    case .adam:
                        charrnn_adam(params + lo, grads + lo, m + lo, v! + lo, r.count, stepSize, beta1, beta2,
                                     c2root, epsilon)
                    }
                }
                if let pool, parts > 1 { pool.run(body) } else { body(0) }
            }
        }
    }
}

/// Clamps every gradient element to [-limit, limit] (char-rnn's clip).
public func clipGradients(_ g: UnsafeMutablePointer<Float>, count: Int, limit: Float) {
    charrnn_clip(g, count, limit)
}
