// The k largest of a row of values (beam search, top predictions).

/// The indices of the `k` largest values, largest first (ties: lower index).
public func topIndices(_ values: [Double], _ k: Int) -> [Int] {
    if k == 1 {
        var best = 0
        for v in 1..<values.count where values[v] > values[best] { best = v }
        return [best]
    }
    return Array(values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }.prefix(k))
}
