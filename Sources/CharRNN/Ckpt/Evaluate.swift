// Cross-entropy of a text under a model: the text is run from a zero state
// in order, each symbol predicting the next (n symbols, n - 1 predictions),
// in chunks through the batched network with the state carried.

public struct EvalResult {
    public var loss: Double          // nats per character
    public var predictions: Int
    public var skipped: Int
    public var bitsPerChar: Double { loss / 0.6931471805599453 }
    public var perplexity: Double { exp(loss) }
}

public func evaluate(checkpoint: Checkpoint, ids: [Int32], skipped: Int, threads: Int = 1,
                     device: ComputeDevice = .cpu) throws -> EvalResult {
    let n = ids.count
    guard n >= 2 else { return EvalResult(loss: .nan, predictions: 0, skipped: skipped) }
    let chunk = 256
    var total = 0.0
    var position = 0
    var rng = RNG(seed: 0)
    if case .openCL(let selector) = device {
        // One network of the longest chunk; shorter chunks run fewer steps.
        let net = try CLNetwork(context: try CLContext.shared(selector), config: checkpoint.config, params: checkpoint.params,
                                batch: 1, seqLength: min(chunk, n - 1))
        while position < n - 1 {
            let length = min(chunk, n - 1 - position)
            let inputs = Array(ids[position..<(position + length)])
            let targets = Array(ids[(position + 1)..<(position + 1 + length)])
            total += try net.forward(inputs: inputs, targets: targets, steps: length, training: false, rng: &rng) * Double(length)
            position += length
        }
        return EvalResult(loss: total / Double(n - 1), predictions: n - 1, skipped: skipped)
    }
    var network: Network? = nil
    var carriedH: [[Float]]? = nil, carriedC: [[Float]]? = nil
    checkpoint.params.withUnsafeBufferPointer { p in
        while position < n - 1 {
            let length = min(chunk, n - 1 - position)
            if network == nil || network!.seqLength != length {
                network = Network(config: checkpoint.config, batch: 1, seqLength: length, threads: threads)
                if let h = carriedH, let c = carriedC { network!.stateH = h; network!.stateC = c }
            }
            let net = network!
            let inputs = Array(ids[position..<(position + length)])
            let targets = Array(ids[(position + 1)..<(position + 1 + length)])
            let loss = net.forward(params: p.baseAddress!, inputs: inputs, targets: targets, training: false, rng: &rng)
            total += loss * Double(length)
            carriedH = net.stateH
            carriedC = net.stateC
            position += length
        }
    }
    return EvalResult(loss: total / Double(n - 1), predictions: n - 1, skipped: skipped)
}

#if canImport(Glibc)
import Glibc
#endif
