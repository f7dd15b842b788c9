// rnn-sample: generate text from a checkpoint, streamed to stdout.
import ArgumentParser
import CharRNNCLI
import CharRNNCore

/// --unknown for the prime: an error, or skip the symbols.
enum PrimeUnknown: String, CaseIterable, ExpressibleByArgument {
    case error, skip
}

struct RnnSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-sample",
        abstract: "Generate text from a checkpoint, one character at a time, to stdout.",
        discussion: """
            Without a prime the first character is drawn uniformly from the vocabulary, \
            as char-rnn does. Lower temperatures give safer, more repetitive text; higher \
            ones more surprising text with more mistakes. See rnn-sample(1).
            """,
        version: Tool.version(of: "rnn-sample"))

    @Argument(help: "A checkpoint from rnn-train, or a folder of them (its best by validation loss).")
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

    @Option(help: "Number of independent samples (with --beam: the most probable continuations).")
    var count: Int = 1

    @Option(help: "Beam search of width N: the most probable continuation instead of a sample (1 = --argmax).")
    var beam: Int?

    @Option(help: "Samples (or --lines) made together, as rows of one batch.")
    var batch: Int = 64

    @Flag(help: "Complete each line of standard input (a prime) on one line of output.")
    var lines = false

    @Option(help: "Written between samples (escapes \\n, \\t, \\r, \\\\, \\u{XXXX}, \\xHH; default: a blank line).")
    var separator: String?

    @Option(help: "End a sample once it has produced STRING (escapes as --separator).")
    var stop: String?

    @Option(help: "Prime characters not in the vocabulary: error or skip.")
    var unknown: PrimeUnknown = .error

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
        if let stop, stop.isEmpty { throw ValidationError("--stop needs a non-empty string.") }
        if !(1...4096).contains(batch) { throw ValidationError("--batch must be from 1 to 4096 (got \(batch)).") }
        if let beam {
            if !(1...4096).contains(beam) { throw ValidationError("--beam must be from 1 to 4096 (got \(beam)).") }
            for (given, name) in [(argmax, "--argmax"), (topK != nil, "--top-k"), (topP != nil, "--top-p")] where given {
                throw ValidationError("--beam does not go with \(name): beam search keeps the most probable text, it does not sample.")
            }
            if count > beam { throw ValidationError("--count \(count) asks for more continuations than --beam \(beam) keeps; give --beam \(count) or more.") }
        }
        if lines {
            if prime != nil || primeFile != nil { throw ValidationError("--lines takes its primes from standard input, one per line; drop --prime/--prime-file.") }
            if count > 1 { throw ValidationError("--lines writes one completion per line; drop --count (or run once per sample with --seed).") }
            if separator != nil { throw ValidationError("--lines writes one output line per input line; drop --separator.") }
        }
    }

    func run() throws {
        try common.apply(tool: "rnn-sample", blasThreads: 1)  // the sampler splits big products itself
        let engine = try deviceOptions.engine()   // an unavailable device fails before reading anything
        let clock = ContinuousClock()
        let start = clock.now
        let chosen = try chooseCheckpoint(checkpoint, .best)
        if let note = chosen.note, !common.quiet { printError("rnn-sample: \(note)") }
        let ckpt = chosen.checkpoint
        var o = SamplingOptions()
        o.length = length
        o.temperature = temperature
        o.argmax = argmax
        o.topK = topK
        o.topP = topP
        o.seed = seed
        o.echoPrime = echoPrime
        o.count = count
        o.separator = separator.map(Escapes.bytes)
        o.stop = stop.map(Escapes.bytes)
        o.flushEachSymbol = isTerminal(1)
        o.beam = beam
        o.batch = batch
        if primeFile == "-" { noteTerminalInput(tool: "rnn-sample", what: "the prime", example: "--prime-file FILE") }
        if let primeBytes = try prime.map({ Array($0.utf8) }) ?? primeFile.map({ try FileSource.open($0).readAll() }) {
            o.prime = try Prime.ids(primeBytes, name: primeFile ?? "--prime", vocab: ckpt.vocab, checkpointName: chosen.path,
                                    skipUnknown: unknown == .skip)
        }
        if common.verbose {
            printError("rnn-sample: \(chosen.path): \(ckpt.config.description), vocab \(ckpt.vocab.count), iteration \(ckpt.progress.iteration), val_loss \(ckpt.progress.valLoss.map { fixed($0, 4) } ?? "?")")
        }
        let generator = try Generator(checkpoint: ckpt, threads: common.threadCount, engine: engine,
                                      kernels: ProcessEnvironment.kernelOptions)
        if common.verbose { printError("rnn-sample: device: \(engine.label)") }
        let sampleStart = clock.now
        var produced = 0
        if lines {
            if isTerminal(0) && !common.quiet {
                printError("rnn-sample: completing each line you type; end with Ctrl-D (or pipe the lines in: rnn-sample CKPT --lines < prompts.txt)")
            }
            let count = try generator.completeLines(o, from: FileSource.open(nil), to: FileSink.standardOutput()) { bytes, n in
                let name = "line \(n) of standard input"
                do {
                    return try Prime.ids(bytes, name: name, vocab: ckpt.vocab, checkpointName: chosen.path,
                                         skipUnknown: unknown == .skip, allowEmpty: true)
                } catch let e as CharRNNError where !e.what.hasPrefix(name) {
                    throw CharRNNError("\(name): \(e.what)", hint: e.hint)
                }
            }
            if common.verbose { printError("rnn-sample: completed \(count) line\(count == 1 ? "" : "s")") }
        } else {
            let terminal = isTerminal(1)
            let out = terminal ? LastByteSink(FileSink.standardOutput()) : nil
            produced = try generator.generate(o, to: out ?? FileSink.standardOutput())
            // At a terminal the prompt starts on a line of its own.
            if let out, out.last != nil, out.last != UInt8(ascii: "\n") { try out.write("\n"); try out.flush() }
            if common.verbose, beam != nil {
                for (k, b) in generator.lastBeams.enumerated() {
                    printError("rnn-sample: beam result \(k + 1): log-probability \(fixed(b.logProb, 6)) nats (\(fixed(b.logProb / ln2, 4)) bits), \(b.ids.count) characters")
                }
            }
        }
        if common.verbose {
            let seconds = (clock.now - sampleStart).seconds
            printError("rnn-sample: \(produced) characters in \(fixed(seconds, 3)) s, \(shortNumber(Double(produced) / max(seconds, 1e-9))) chars/s (total \(fixed((clock.now - start).seconds, 3)) s)")
        }
    }
}

Tool.main(RnnSample.self, name: "rnn-sample")
