// The tools' typed option values: each parses itself (ExpressibleByArgument),
// so a bad value is a usage error naming the choices, and lists its values
// for --help and the shell completions.
import ArgumentParser
import CharRNNCore

extension CellKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

/// What rnn-train does when a checkpoint cannot be written (disk full).
public enum WriteErrorPolicy: String, CaseIterable, ExpressibleByArgument, Sendable {
    case stop
    case `continue`
}

/// rnn-ckpt export's formats.
/// rnn-ckpt trace --format.
public enum TraceFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case tsv
    case npz
}

public enum ExportFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case safetensors
    case npz
    case onnx
    case html
}

extension ComputeDevice: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

/// --unknown: "error", "skip" or "replace:C" (C one symbol, escapes allowed);
/// whether C names a byte or a character is checked against the vocabulary.
public struct UnknownOption: ExpressibleByArgument, Equatable, Sendable {
    public let text: String
    public init?(argument: String) {
        guard UnknownPolicy.parse(argument, unit: .char) != nil || UnknownPolicy.parse(argument, unit: .byte) != nil else {
            return nil
        }
        text = argument
    }
    public static let error = UnknownOption(argument: "error")!
    public static var allValueStrings: [String] { ["error", "skip", "replace:C"] }
    public var defaultValueDescription: String { text }
    public static var defaultCompletionKind: CompletionKind { .list(["error", "skip", "replace:"]) }

    /// The policy for a vocabulary of `unit`.
    public func policy(unit: TextUnit) throws -> UnknownPolicy {
        guard let p = UnknownPolicy.parse(text, unit: unit) else {
            throw CharRNNError("--unknown \(text) does not name one \(unit == .byte ? "byte" : "character")",
                               hint: unit == .byte ? "with a byte vocabulary use an ASCII character or \\xHH" : "use one character or \\u{XXXX}")
        }
        return p
    }
}
