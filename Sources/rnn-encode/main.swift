// rnn-encode: text to a tokens file (and back with --decode).
import ArgumentParser
import CharRNNCLI
import CharRNNCore
#if canImport(Glibc)
import Glibc
#endif

struct RnnEncode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-encode",
        abstract: "Turn text into a tokens file for rnn-train, or a tokens file back into text.",
        discussion: """
            Reads UTF-8 text (stdin when no FILE is given) and writes a gzip-compressed \
            safetensors tokens file with the vocabulary embedded. Without --vocab the \
            vocabulary is built from the input. See rnn-encode(1) and charrnn-files(5).
            """,
        version: Tool.version(of: "rnn-encode"))

    @Option(name: .long, help: "Use this vocabulary file (from rnn-vocab) instead of building one.")
    var vocab: String?

    @Flag(name: .long, help: "Treat the input as bytes instead of UTF-8 characters.")
    var bytes = false

    @Option(name: .long, help: "What to do with a symbol not in --vocab: error, skip, or replace:C.")
    var unknown: UnknownOption = .error

    @Option(name: .shortAndLong, help: "Write to FILE (atomically) instead of stdout.")
    var output: String?

    @Flag(name: .long, help: "Write binary output even to a terminal.")
    var force = false

    @Flag(name: .long, help: "Decode: turn a tokens file back into its text.")
    var decode = false

    @Flag(name: .long, help: "Print diagnostics (sizes, timing) on stderr.")
    var verbose = false

    @Argument(help: "Text files (tokens file with --decode); default stdin.")
    var files: [String] = []

    func validate() throws {
        if decode && files.count > 1 {
            throw ValidationError("--decode reads one tokens file.")
        }
        if decode && (vocab != nil || bytes || unknown != .error || force) {
            throw ValidationError("--decode takes the vocabulary from the tokens file and writes text; drop --vocab, --bytes, --unknown and --force.")
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        if verbose { printError("rnn-encode: \(OpenBLASSetup.describe())") }
        if decode {
            if files.isEmpty || files == ["-"], isTerminal(0) {
                throw CharRNNError("--decode reads a tokens file, and stdin is a terminal", hint: "give the file: rnn-encode --decode FILE")
            }
            let tokens = try TokensFile.read(path: files.first)
            let codec = TokenCodec(vocab: tokens.vocab)
            return try withOutput(to: output) { try codec.decode(tokens.tokens, name: files.first ?? "stdin", to: $0) }
        }
        try Tool.refuseBinaryOnTerminal(outputPath: output, force: force)
        var vocabulary: Vocab? = nil
        if let vocab {
            let source = try FileSource.open(vocab)
            let bytesRead = try source.readAll()
            guard let text = String(validating: bytesRead, as: UTF8.self) else {
                throw CharRNNError("\(vocab) is not UTF-8 text", hint: "give a vocab file made by rnn-vocab")
            }
            let parsed = try Vocab.parse(text, name: vocab)
            if bytes && parsed.unit != .byte {
                throw CharRNNError("--bytes was given but \(vocab) has unit=char", hint: "drop --bytes, or make the vocab with rnn-vocab --bytes")
            }
            vocabulary = parsed
        } else if unknown != .error {
            printError("rnn-encode: warning: --unknown has no effect without --vocab (every symbol is in the built vocabulary)")
        }
        if files.isEmpty || files == ["-"] { noteTerminalInput(tool: "rnn-encode", example: "rnn-encode input.txt") }
        var (text, name) = try readInputsSized(files)
        let textCount = text.count
        if !bytes && TensorFile.looksLikeTensorFile(text.prefix(9)) {
            throw CharRNNError("\(name) is already a tokens file or a checkpoint, not text",
                               hint: "rnn-train reads tokens files as they are; to see the text: rnn-encode --decode \(name)")
        }
        let v = try vocabulary ?? text.withUnsafeBufferPointer { try Vocab.build(from: $0, unit: bytes ? .byte : .char, name: name) }
        let policy = try unknown.policy(unit: v.unit)
        // Consumes the text: with U8 tokens they take its place in memory.
        let tokensFile = TokensFile(vocab: v, tokens: try TokenCodec(vocab: v).encodeInPlace(&text, name: name, unknown: policy))
        if tokensFile.tokens.count == 0 {
            throw CharRNNError("\(name) \(textCount == 0 ? "is empty" : "has no symbol in the vocabulary")",
                               hint: "give some text to encode")
        }
        try tokensFile.tensorFile.write(toPath: output ?? "-")
        if verbose {
            let seconds = (clock.now - start).seconds
            printError("rnn-encode: \(tokensFile.tokens.count) tokens, vocab \(tokensFile.vocab.count) (\(tokensFile.tokens.dtype.rawValue)), \(textCount) bytes in \(fixed(seconds, 3)) s, \(fixed(Double(textCount) / 1e6 / max(seconds, 1e-9), 1)) MB/s")
        }
    }
}

/// readInputs, but one regular file is read into an array of exactly its
/// size, not grown by doubling: a 1 GB corpus takes 1 GB, not up to 2.
func readInputsSized(_ files: [String]) throws -> (bytes: [UInt8], name: String) {
    guard files.count == 1, files[0] != "-" else { return try readInputs(files) }
    let source = try FileSource.open(files[0])
    var st = stat()
    guard fstat(source.fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else {
        return (try source.readAll(), files[0])
    }
    let size = Int(st.st_size)
    var bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        count = try source.readFully(into: UnsafeMutableRawBufferPointer(buffer))
    }
    if bytes.count == size {
        let rest = try source.readAll()  // the file grew meanwhile
        if !rest.isEmpty { bytes += rest }
    }
    return (bytes, files[0])
}

Tool.main(RnnEncode.self, name: "rnn-encode")
