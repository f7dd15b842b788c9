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

    /// One update of `params` by `grads` at learning rate `lr`.
    public mutating func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, count: Int, lr: Float) {
        step += 1
        switch kind {
        case .rmsprop:
            state[0].withUnsafeMutableBufferPointer { m in
                charrnn_rmsprop(params, grads, m.baseAddress!, count, lr, decayRate, epsilon)
            }
        case .adam:
            let c1 = 1 - Float(pow(Double(beta1), Double(step)))
            let c2 = 1 - Float(pow(Double(beta2), Double(step)))
            // Move the slots out so each is uniquely referenced (no copy).
            var first = state[0], second = state[1]
            state = []
            defer { state = [first, second] }
            first.withUnsafeMutableBufferPointer { m in
                second.withUnsafeMutableBufferPointer { v in
                    charrnn_adam(params, grads, m.baseAddress!, v.baseAddress!, count, lr / c1, beta1, beta2,
                                 c2.squareRoot(), epsilon)
                }
            }
        }
    }
}

/// Clamps every gradient element to [-limit, limit] (char-rnn's clip).
public func clipGradients(_ g: UnsafeMutablePointer<Float>, count: Int, limit: Float) {
    charrnn_clip(g, count, limit)
}
