// rnn-vocab: the vocabulary of a text (ids by code point, counts) as TSV.
import ArgumentParser
import CharRNNCLI
import CharRNNCore

struct RnnVocab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-vocab",
        abstract: "Print the vocabulary of a text: id, count and symbol per line.",
        discussion: """
            Reads UTF-8 text (stdin when no FILE is given) and writes the vocabulary \
            TSV that rnn-encode --vocab reads. Ids follow code point order. See rnn-vocab(1).
            """,
        version: Tool.version(of: "rnn-vocab"))

    @Flag(name: .long, help: "Treat the input as bytes instead of UTF-8 characters.")
    var bytes = false

    @Option(name: .long, help: "Leave out symbols seen fewer than N times.")
    var minCount: Int = 1

    @Option(name: .shortAndLong, help: "Write the vocabulary to FILE instead of stdout.")
    var output: String?

    @Flag(name: .long, help: "Print diagnostics on stderr.")
    var verbose = false

    @Argument(help: "Text files (default: stdin).")
    var files: [String] = []

    func validate() throws {
        if minCount < 1 { throw ValidationError("--min-count must be at least 1 (got \(minCount)).") }
    }

    func run() throws {
        if verbose { printError("rnn-vocab: \(OpenBLASSetup.describe())") }
        if files.isEmpty || files == ["-"] { noteTerminalInput(tool: "rnn-vocab", example: "rnn-vocab input.txt") }
        let (text, name) = try readInputs(files)
        let vocab = try text.withUnsafeBufferPointer {
            try Vocab.build(from: $0, unit: bytes ? .byte : .char, name: name, minCount: minCount)
        }
        if vocab.count == 0 {
            throw CharRNNError(text.isEmpty ? "\(name) is empty" : "no symbol occurs \(minCount) times in \(name)",
                               hint: text.isEmpty ? "give some text" : "lower --min-count")
        }
        try writeOutput(vocab.tsv, to: output)
    }
}

Tool.main(RnnVocab.self, name: "rnn-vocab")
