// The sampling rule: one index from a row of logits (temperature, top-k,
// top-p), or the most likely one.
#if canImport(Glibc)
import Glibc
#endif

/// Draws an index from softmax(logits / temperature), optionally keeping
/// only the `topK` most likely, or the smallest set whose probability
/// reaches `topP`. Uses one uniform draw from `rng`.
public func sampleCategorical(_ logits: UnsafeBufferPointer<Float>, temperature: Double, rng: inout RNG,
                              topK: Int? = nil, topP: Double? = nil) -> Int {
    let n = logits.count
    var mx = -Float.infinity
    for v in 0..<n { mx = max(mx, logits[v]) }
    // In Double, with the largest logit exactly 0 after the shift, so a
    // tiny temperature cannot turn 0 * inf into NaN.
    let invT = 1 / temperature
    var probs = [Double](repeating: 0, count: n)
    var sum = 0.0
    for v in 0..<n {
        let d = Double(logits[v] - mx)
        let e = d == 0 ? 1.0 : exp(d * invT)
        probs[v] = e
        sum += e
    }
    if topK != nil || topP != nil {
        let order = (0..<n).sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
        var keep = n
        if let topK { keep = min(keep, max(1, topK)) }
        if let topP {
            var acc = 0.0
            var count = 0
            for idx in order {
                acc += probs[idx] / sum
                count += 1
                if acc >= topP { break }
            }
            keep = min(keep, max(1, count))
        }
        var kept = [Double](repeating: 0, count: n)
        sum = 0
        for idx in order.prefix(keep) { kept[idx] = probs[idx]; sum += probs[idx] }
        probs = kept
    }
    let u = rng.uniform() * sum
    var acc = 0.0
    var last = 0
    for v in 0..<n where probs[v] > 0 {
        acc += probs[v]
        last = v
        if u < acc { return v }
    }
    return last
}

/// The most likely index (ties: the lowest).
public func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for v in 1..<logits.count where logits[v] > logits[best] { best = v }
    return best
}
