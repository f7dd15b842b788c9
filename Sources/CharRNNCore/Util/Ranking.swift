// The k largest of a row of values (beam search, top predictions), and a
// row of logits as probabilities (per-character scores, traces).

#if canImport(Glibc)
import Glibc
#endif

/// softmax(logits) in Double, into `probs` (as many entries as logits).
public func softmax(_ logits: ArraySlice<Float>, into probs: inout [Double]) {
    var mx = -Double.infinity
    for x in logits { mx = max(mx, Double(x)) }
    var sum = 0.0
    for (v, x) in logits.enumerated() { probs[v] = exp(Double(x) - mx); sum += probs[v] }
    for v in 0..<logits.count { probs[v] /= sum }
}

/// The indices of the `k` largest values, largest first (ties: lower index).
public func topIndices(_ values: [Double], _ k: Int) -> [Int] {
    if k == 1 {
        var best = 0
        for v in 1..<values.count where values[v] > values[best] { best = v }
        return [best]
    }
    return Array(values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }.prefix(k))
}
