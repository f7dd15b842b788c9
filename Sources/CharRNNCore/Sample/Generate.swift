// Text generation from a checkpoint: priming, the sampling rule
// (temperature, top-k, top-p, argmax), stop strings, several samples, and
// streaming the output to a sink as it is produced.

public struct SamplingOptions {
    public var length = 2000
    public var temperature = 1.0
    public var argmax = false
    public var topK: Int? = nil
    public var topP: Double? = nil
    public var seed: UInt64 = 123
    public var prime: [Int32] = []       // ids of the prime's symbols (Prime.ids)
    public var echoPrime = false
    public var count = 1
    /// Written between samples; nil: end the line if needed, then a blank line.
    public var separator: [UInt8]? = nil
    public var stop: [UInt8]? = nil
    /// Flush after every symbol (a terminal), else at newlines and the end.
    public var flushEachSymbol = false

    public init() {}
}

public final class Generator {
    public let checkpoint: Checkpoint
    let stepper: TokenStepper
    let pieces: [[UInt8]]        // bytes of each symbol

    /// On `engine` (default the CPU).
    public init(checkpoint: Checkpoint, threads: Int = 1, engine: ComputeEngine = CPUEngine()) throws {
        self.checkpoint = checkpoint
        stepper = try engine.stepper(config: checkpoint.config, params: checkpoint.params, streams: 1, threads: threads)
        let vocab = checkpoint.vocab
        pieces = (0..<vocab.count).map { vocab.bytes(of: $0) }
    }

    /// Writes `count` samples to `sink`; returns the number of symbols generated.
    @discardableResult
    public func generate(_ o: SamplingOptions, to sink: ByteSink) throws -> Int {
        var rng = RNG(seed: o.seed)
        let vocab = checkpoint.vocab
        let primeIDs = o.prime.map(Int.init)
        var produced = 0
        var lastByte: UInt8? = nil
        for sampleIndex in 0..<o.count {
            if sampleIndex > 0 {
                if let separator = o.separator {
                    try sink.write(separator)
                } else {
                    try sink.write(lastByte == 0x0A ? [0x0A] : [0x0A, 0x0A])
                }
            }
            try stepper.reset()
            var logits: UnsafeBufferPointer<Float>? = nil
            for id in primeIDs {
                if o.echoPrime { try sink.write(pieces[id]) }
                logits = try stepper.step([Int32(id)])
            }
            if o.echoPrime && !primeIDs.isEmpty { try sink.flush() }
            var recent: [UInt8] = []
            for _ in 0..<o.length {
                let next: Int
                if let l = logits {
                    if o.argmax {
                        next = argmax(l)
                    } else {
                        next = sampleCategorical(l, temperature: o.temperature, rng: &rng, topK: o.topK, topP: o.topP)
                    }
                } else if o.argmax {
                    // No prime and --argmax: start from a newline (or the first
                    // symbol), so the output does not depend on the seed.
                    next = vocab.id(of: 0x0A) ?? 0
                } else {
                    // No prime: the first symbol is uniform over the vocabulary (as char-rnn).
                    next = rng.below(vocab.count)
                }
                let bytes = pieces[next]
                try sink.write(bytes)
                lastByte = bytes.last
                produced += 1
                if o.flushEachSymbol || bytes.last == 0x0A { try sink.flush() }
                if let stop = o.stop {
                    recent.append(contentsOf: bytes)
                    if recent.count > stop.count { recent.removeFirst(recent.count - stop.count) }
                    if recent == stop { break }
                }
                logits = try stepper.step([Int32(next)])
            }
            try sink.flush()
        }
        return produced
    }
}
