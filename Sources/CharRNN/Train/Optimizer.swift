// Element-wise gradient clipping and the two optimisers: RMSprop (char-rnn:
// m = a·m + (1−a)·g², x −= lr·g/(√m + eps)) and Adam (torch-rnn, with bias
// correction). State slots are named as PyTorch names them.
#if canImport(Glibc)
import Glibc
#endif

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
            let a = decayRate, eps = epsilon
            state[0].withUnsafeMutableBufferPointer { mBuf in
                let m = mBuf.baseAddress!
                for i in 0..<count {
                    let g = grads[i]
                    let mi = a * m[i] + (1 - a) * g * g
                    m[i] = mi
                    params[i] -= lr * g / (mi.squareRoot() + eps)
                }
            }
        case .adam:
            let b1 = beta1, b2 = beta2, eps = epsilon
            let c1 = 1 - Float(pow(Double(b1), Double(step)))
            let c2 = 1 - Float(pow(Double(b2), Double(step)))
            let stepSize = lr / c1
            let c2root = c2.squareRoot()
            // Move the slots out so each is uniquely referenced (no copy).
            var first = state[0], second = state[1]
            state = []
            defer { state = [first, second] }
            first.withUnsafeMutableBufferPointer { mBuf in
                second.withUnsafeMutableBufferPointer { vBuf in
                    let m = mBuf.baseAddress!, v = vBuf.baseAddress!
                    for i in 0..<count {
                        let g = grads[i]
                        m[i] = b1 * m[i] + (1 - b1) * g
                        v[i] = b2 * v[i] + (1 - b2) * g * g
                        params[i] -= stepSize * m[i] / (v[i].squareRoot() / c2root + eps)
                    }
                }
            }
        }
    }
}

/// Clamps every gradient element to [-limit, limit] (char-rnn's clip).
public func clipGradients(_ g: UnsafeMutablePointer<Float>, count: Int, limit: Float) {
    for i in 0..<count { g[i] = min(max(g[i], -limit), limit) }
}
