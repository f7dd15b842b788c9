// rnn-sample: generate text from a checkpoint, streamed to stdout.
import ArgumentParser
import CharRNN

struct RnnSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-sample",
        abstract: "Generate text from a checkpoint, one character at a time, to stdout.",
        discussion: """
            Without a prime the first character is drawn uniformly from the vocabulary, \
            as char-rnn does. Lower temperatures give safer, more repetitive text; higher \
            ones more surprising text with more mistakes. See rnn-sample(1).
            """)

    @Argument(help: "A checkpoint from rnn-train.")
    var checkpoint: String

    @Option(name: [.customShort("n"), .long], help: "Characters to generate (not counting the prime).")
    var length: Int = 2000

    @Option(name: [.customShort("t"), .long], help: "Divide the logits by T before sampling (> 0).")
    var temperature: Double = 1.0

    @Flag(help: "Always take the most likely character (deterministic; ignores --temperature).")
    var argmax = false

    @Option(help: "Sample only among the K most likely characters.")
    var topK: Int?

    @Option(help: "Sample only among the most likely characters whose probabilities add up to P (0 < P <= 1).")
    var topP: Double?

    @Option(help: "Random seed.")
    var seed: UInt64 = 123

    @Option(help: "Text to feed the model before sampling.")
    var prime: String?

    @Option(help: "Read the prime from FILE (- for stdin).")
    var primeFile: String?

    @Flag(help: "Print the prime before the sample.")
    var echoPrime = false

    @Option(help: "Number of independent samples.")
    var count: Int = 1

    @Option(help: "Written between samples (escapes \\n and \\t allowed; default: a blank line).")
    var separator: String?

    @Option(help: "End a sample once it has produced STRING.")
    var stop: String?

    @Option(help: "Prime characters not in the vocabulary: error or skip.")
    var unknown: String = "error"

    @OptionGroup var deviceOptions: DeviceOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if length < 1 { throw ValidationError("--length must be at least 1 (got \(length)).") }
        if temperature == 0 { throw ValidationError("--temperature must be > 0; for the most likely character every time use --argmax.") }
        if !(temperature > 0 && temperature.isFinite) { throw ValidationError("--temperature must be a positive number (got \(temperature)).") }
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1 (got \(k)).") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1] (got \(p)).") }
        if count < 1 { throw ValidationError("--count must be at least 1 (got \(count)).") }
        if prime != nil && primeFile != nil { throw ValidationError("give --prime or --prime-file, not both.") }
        if unknown != "error" && unknown != "skip" { throw ValidationError("--unknown must be error or skip (got '\(unknown)').") }
        if let stop, stop.isEmpty { throw ValidationError("--stop needs a non-empty string.") }
    }

    func run() throws {
        try common.apply(tool: "rnn-sample", blasThreads: 1)  // the sampler splits big products itself
        let deviceLabel = try deviceOptions.open()   // an unavailable device fails before reading anything
        let clock = ContinuousClock()
        let start = clock.now
        let ckpt = try Checkpoint.load(path: checkpoint)
        var o = SamplingOptions()
        o.length = length
        o.temperature = temperature
        o.argmax = argmax
        o.topK = topK
        o.topP = topP
        o.seed = seed
        o.echoPrime = echoPrime
        o.count = count
        o.separator = separator.map { Array(unescape($0).utf8) }
        o.stop = stop.map { Array(unescape($0).utf8) }
        o.flushEachSymbol = isTerminal(1)
        o.prime = try primeSymbols(vocab: ckpt.vocab)
        if common.verbose {
            printError("rnn-sample: \(checkpoint): \(ckpt.config.description), vocab \(ckpt.vocab.count), iteration \(ckpt.progress.iteration), val_loss \(ckpt.progress.valLoss.map { fixed($0, 4) } ?? "?")")
        }
        let generator = try Generator(checkpoint: ckpt, threads: common.threadCount, device: deviceOptions.computeDevice)
        if common.verbose { printError("rnn-sample: device: \(deviceLabel)") }
        let out = FileSink.standardOutput()
        let sampleStart = clock.now
        let produced = try generator.generate(o, to: out)
        if common.verbose {
            let seconds = (clock.now - sampleStart).seconds
            printError("rnn-sample: \(produced) characters in \(fixed(seconds, 3)) s, \(shortNumber(Double(produced) / max(seconds, 1e-9))) chars/s (total \(fixed((clock.now - start).seconds, 3)) s)")
        }
    }

    /// The prime as vocabulary symbols; unknown ones are an error naming
    /// them, or skipped.
    func primeSymbols(vocab: Vocab) throws -> [UInt32] {
        var bytes: [UInt8]
        if let prime { bytes = Array(prime.utf8) }
        else if let primeFile { bytes = try FileSource.open(primeFile).readAll() }
        else { return [] }
        var symbols: [UInt32] = []
        let name = primeFile ?? "--prime"
        switch vocab.unit {
        case .byte: symbols = bytes.map(UInt32.init)
        case .char:
            do {
                try bytes.withUnsafeBufferPointer { buf in
                    try UTF8Scan.forEachScalar(buf, name: name) { s, _ in symbols.append(s) }
                }
            } catch let e as CharRNNError {
                throw CharRNNError(e.what, hint: "\(checkpoint) models UTF-8 characters; give the prime as UTF-8 (e.g. iconv)")
            }
        }
        let missing = symbols.filter { vocab.id(of: $0) == nil }
        if !missing.isEmpty {
            if unknown == "error" || missing.count == symbols.count {
                let distinct = Array(Set(missing)).sorted()
                let shown = distinct.prefix(5).map { vocab.describe($0) }.joined(separator: ", ") + (distinct.count > 5 ? " and \(distinct.count - 5) more" : "")
                let what = missing.count == symbols.count ? "no character of the prime is in the vocabulary" : "the prime has characters not in the vocabulary"
                throw CharRNNError("\(what): \(shown)",
                                   hint: missing.count == symbols.count ? "use characters the model knows (rnn-ckpt vocab \(checkpoint))" : "remove them, or use --unknown skip")
            }
            symbols = symbols.filter { vocab.id(of: $0) != nil }
        }
        return symbols
    }
}

/// \n, \t and \\ in option strings.
func unescape(_ s: String) -> String {
    var out = ""
    var escaping = false
    for ch in s {
        if escaping {
            switch ch {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "\\": out.append("\\")
            default: out.append("\\"); out.append(ch)
            }
            escaping = false
        } else if ch == "\\" {
            escaping = true
        } else {
            out.append(ch)
        }
    }
    if escaping { out.append("\\") }
    return out
}

Tool.main(RnnSample.self, name: "rnn-sample")
