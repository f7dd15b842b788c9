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

/// ln 2: nats to bits.
public let ln2 = 0.6931471805599453

/// 1234567 -> "1.23M", 45200 -> "45.2k", 0.002 -> "2.0e-3"
public func shortNumber(_ x: Double) -> String {
    let a = abs(x)
    if a == 0 { return "0" }
    if a >= 1e6 { return fixed(x / 1e6, 2) + "M" }
    if a >= 1e3 { return fixed(x / 1e3, 1) + "k" }
    if a >= 1 { return fixed(x, 2) }
    var e = 0
    var m = a
    while m < 1 { m *= 10; e += 1 }
    return (x < 0 ? "-" : "") + fixed(m, 1) + "e-" + String(e)
}

public func formatDuration(_ s: Double) -> String {
    if !s.isFinite || s < 0 { return "?" }
    let total = Int(s.rounded())
    if total >= 3600 { return "\(total / 3600)h\(String(format2(total % 3600 / 60)))m" }
    if total >= 60 { return "\(total / 60)m\(String(format2(total % 60)))s" }
    return "\(total)s"
}

func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
