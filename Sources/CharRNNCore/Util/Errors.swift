// The one error type the tools report: what went wrong and how to fix it.
// Tools print it as `rnn-NAME: error: WHAT — HINT` and exit 1.

public struct CharRNNError: Error, CustomStringConvertible, Equatable {
    public var what: String
    public var hint: String?

    public init(_ what: String, hint: String? = nil) {
        self.what = what
        self.hint = hint
    }

    public var description: String {
        if let hint, !hint.isEmpty { return "\(what) — \(hint)" }
        return what
    }
}

/// Thrown by output code when the reader of stdout went away (`| head`):
/// the tool then ends quietly with status 0.
public struct BrokenPipe: Error {
    public init() {}
}
