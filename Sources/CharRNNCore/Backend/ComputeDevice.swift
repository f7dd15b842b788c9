// The compute device a tool runs on (--device): a value, parsed here; the
// command-line layer turns it into a ComputeEngine (Engine.swift).

/// Which OpenCL device to use: `opencl` (the first GPU, else the first
/// device), `opencl:N` (the N-th in the listing) or `opencl:P.D`.
public enum OpenCLSelector: Equatable, Hashable, Sendable, CustomStringConvertible {
    case automatic
    case flat(Int)
    case indexed(platform: Int, device: Int)

    public var description: String {
        switch self {
        case .automatic: return "opencl"
        case .flat(let n): return "opencl:\(n)"
        case .indexed(let p, let d): return "opencl:\(p).\(d)"
        }
    }
}

/// The compute device a tool runs on (--device).
public enum ComputeDevice: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case openCL(OpenCLSelector)

    /// Parses `cpu`, `opencl`, `opencl:N` or `opencl:P.D`; nil for anything else.
    public init?(parsing text: String) {
        if text == "cpu" { self = .cpu; return }
        if text == "opencl" { self = .openCL(.automatic); return }
        guard text.hasPrefix("opencl:") else { return nil }
        let rest = text.dropFirst("opencl:".count)
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        func number(_ s: Substring) -> Int? {
            guard !s.isEmpty, s.count <= 6, s.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
            return Int(s)
        }
        if parts.count == 1, let n = number(parts[0]) { self = .openCL(.flat(n)); return }
        if parts.count == 2, let p = number(parts[0]), let d = number(parts[1]) {
            self = .openCL(.indexed(platform: p, device: d)); return
        }
        return nil
    }

    /// The usage message for a --device value that does not parse.
    public static func usage(_ text: String) -> String {
        "--device must be cpu, opencl, opencl:N or opencl:P.D (got '\(text)')."
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .openCL(let s): return s.description
        }
    }
}

