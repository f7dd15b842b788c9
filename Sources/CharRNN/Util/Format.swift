// Number formatting without Foundation: fixed decimals, seconds, sizes.

/// `x` with exactly `digits` decimals (rounded half away from zero).
public func fixed(_ x: Double, _ digits: Int) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = x < 0
    let scaled = (abs(x) * scale).rounded()
    if scaled >= 9.0e18 { return "\(x)" }
    let v = UInt64(scaled)
    let whole = v / UInt64(scale)
    var out = (negative && v != 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let frac = String(v % UInt64(scale))
        out += "." + String(repeating: "0", count: digits - frac.count) + frac
    }
    return out
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// Human-readable byte count (KiB, MiB, GiB).
public func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : fixed(v, 1) + " " + units[u]
}
