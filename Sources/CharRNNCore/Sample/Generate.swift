// Text generation from a checkpoint: priming, the sampling rule
// (temperature, top-k, top-p, argmax), stop strings, several samples made
// together as the rows of one batch, beam search (Beam.swift), and
// streaming the output to a sink as it is produced.

#if canImport(Glibc)
import Glibc
#endif

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
    /// Beam search of this width instead of sampling.
    public var beam: Int? = nil
    /// The most samples (or lines) advanced together, as rows of one batch.
    public var batch = 64

    public init() {}
}

extension RNG {
    /// Sample `stream`'s random numbers under `seed`: stream 0 is RNG(seed)
    /// itself, so one sample is what it always was; the others depend only
    /// on the seed and their index, not on how many are made at once.
    public init(seed: UInt64, stream: Int) {
        if stream == 0 { self.init(seed: seed); return }
        var z = seed ^ (UInt64(stream) &* 0xD1B5_4A32_D192_ED03)
        z = (z ^ (z >> 31)) &* 0x94D0_49BB_1331_11EB
        self.init(seed: z ^ 0x2545_F491_4F6C_DD1D)
    }
}

/// One sample to make: what primes it and which random stream it draws from.
public struct SampleRequest {
    public var prime: [Int32]
    public var stream: Int
    public init(prime: [Int32], stream: Int) { self.prime = prime; self.stream = stream }
}

public final class Generator {
    public let checkpoint: Checkpoint
    let engine: ComputeEngine
    let threads: Int
    let kernels: KernelOptions
    let pieces: [[UInt8]]        // bytes of each symbol
    let newline: Int32?
    private var cached: TokenStepper?
    private var groupSteppers: [TokenStepper] = []
    private var pool: WorkerPool? = nil

    /// On `engine` (default the CPU).
    public init(checkpoint: Checkpoint, threads: Int = 1, engine: ComputeEngine = CPUEngine(),
                kernels: KernelOptions = KernelOptions()) throws {
        self.checkpoint = checkpoint
        self.engine = engine
        self.threads = threads
        self.kernels = kernels
        let vocab = checkpoint.vocab
        pieces = (0..<vocab.count).map { vocab.bytes(of: $0) }
        newline = vocab.id(of: 0x0A).map(Int32.init)
        _ = try stepper(streams: 1)   // a device that cannot run the model fails here
    }

    /// A stepper of `streams` rows (the last one made, when it fits).
    func stepper(streams: Int) throws -> TokenStepper {
        if let s = cached, s.streams == streams { return s }
        let s = try engine.stepper(config: checkpoint.config, params: checkpoint.params, streams: streams, threads: threads,
                                     kernels: kernels)
        cached = s
        return s
    }

    /// The fewest rows a group of a split batch gets: below, one product
    /// per step is too small for a thread of its own to pay.
    static let minRowsPerGroup = 8

    /// How many groups (threads, each with a stepper of its own) advance a
    /// batch of `rows` rows: split where the engine allows it, one per
    /// thread, each of at least minRowsPerGroup rows.
    func groupCount(rows: Int) -> Int {
        guard engine.concurrentSteppers, threads > 1 else { return 1 }
        return max(1, min(threads, rows / Self.minRowsPerGroup))
    }

    /// `groups` steppers of `streams` rows each, on one thread each.
    func steppers(groups: Int, streams: Int) throws -> [TokenStepper] {
        if groupSteppers.count == groups, groupSteppers.allSatisfy({ $0.streams == streams }) { return groupSteppers }
        groupSteppers = try (0..<groups).map { _ in
            try engine.stepper(config: checkpoint.config, params: checkpoint.params, streams: streams, threads: 1, kernels: kernels)
        }
        if pool?.count != groups { pool = WorkerPool(threads: groups) }
        return groupSteppers
    }

    /// As run(_:on:...) for up to `capacity` rows: with several threads on
    /// the CPU, the requests are split into contiguous groups advanced at
    /// the same time, each by its own stepper on its own thread, instead of
    /// one stepper whose every product is split across the threads (at a
    /// few dozen rows, the hand-offs of a split product cost about what
    /// they save). A sample depends only on its seed and stream, so the
    /// text is the same either way. `emit` and `finish` are called under a
    /// lock, one at a time, in each group's order.
    func runBatch(_ requests: [SampleRequest], capacity: Int, _ o: SamplingOptions, endAtNewline: Bool,
                  emit: (Int, Int32) throws -> Void, finish: (Int) throws -> Void) throws -> Int {
        let groups = groupCount(rows: capacity)
        if groups == 1 {
            return try run(requests, on: try stepper(streams: capacity), o, endAtNewline: endAtNewline, emit: emit, finish: finish)
        }
        let per = (capacity + groups - 1) / groups
        let steppers = try steppers(groups: groups, streams: per)
        var lock = pthread_mutex_t()
        pthread_mutex_init(&lock, nil)
        defer { pthread_mutex_destroy(&lock) }
        // Shared between the groups: written under the lock only.
        var produced = 0
        var failure: Error? = nil   // the first error; the other groups stop at their next symbol
        let share = (requests.count + groups - 1) / groups   // requests per group, at most `per`
        pool!.run { g in
            let start = min(requests.count, g * share), end = min(requests.count, (g + 1) * share)
            guard start < end else { return }
            func locked<T>(_ body: () throws -> T) rethrows -> T {
                pthread_mutex_lock(&lock)
                defer { pthread_mutex_unlock(&lock) }
                return try body()
            }
            do {
                let n = try run(Array(requests[start..<end]), on: steppers[g], o, endAtNewline: endAtNewline,
                                emit: { i, id in
                                    try locked {
                                        if failure != nil { throw GroupStopped() }
                                        try emit(start + i, id)
                                    }
                                },
                                finish: { i in
                                    try locked {
                                        if failure != nil { throw GroupStopped() }
                                        try finish(start + i)
                                    }
                                })
                locked { produced += n }
            } catch is GroupStopped {
                // Another group failed first.
            } catch {
                locked { if failure == nil { failure = error } }
            }
        }
        if let failure { throw failure }
        return produced
    }

    /// The first symbol of a sample without a prime: with --argmax (and
    /// beam search) a newline, or the first symbol, so that the output does
    /// not depend on the seed; else uniform over the vocabulary, as char-rnn.
    func firstSymbol(_ o: SamplingOptions, rng: inout RNG) -> Int32 {
        if o.argmax || o.beam != nil { return newline ?? 0 }
        return Int32(rng.below(checkpoint.vocab.count))
    }

    /// Writes `count` samples (or with `beam`, the `count` most probable
    /// continuations) to `sink`; returns the number of symbols generated.
    @discardableResult
    public func generate(_ o: SamplingOptions, to sink: ByteSink) throws -> Int {
        let writer = SampleWriter(sink: sink, separator: o.separator)
        let echo = o.echoPrime ? o.prime.flatMap { pieces[Int($0)] } : []
        if let width = o.beam {
            let found = try beamSearch(prime: o.prime, width: width, keep: o.count, o, endAtNewline: false)
            for f in found { try writer.sample(echo + f.ids.flatMap { pieces[Int($0)] }) }
            lastBeams = found
            return found.reduce(0) { $0 + $1.ids.count }
        }
        if o.count == 1 {
            // One sample streams: each symbol is written as it is drawn.
            if !echo.isEmpty { try sink.write(echo); try sink.flush() }
            let stepper = try stepper(streams: 1)
            return try run([SampleRequest(prime: o.prime, stream: 0)], on: stepper, o, endAtNewline: false,
                           emit: { _, id in
                               let bytes = self.pieces[Int(id)]
                               try sink.write(bytes)
                               if o.flushEachSymbol || bytes.last == 0x0A { try sink.flush() }
                           }, finish: { _ in try sink.flush() })
        }
        // Several: rows of a batch, each written (in order) once it is done.
        let rows = min(o.count, o.batch)
        var produced = 0
        var first = 0
        while first < o.count {
            let wave = (first..<min(first + rows, o.count)).map { SampleRequest(prime: o.prime, stream: $0) }
            var texts = [[UInt8]](repeating: echo, count: wave.count)
            var done = [Bool](repeating: false, count: wave.count)
            var next = 0
            produced += try runBatch(wave, capacity: rows, o, endAtNewline: false,
                                     emit: { i, id in texts[i] += self.pieces[Int(id)] },
                                finish: { i in
                                    done[i] = true
                                    while next < wave.count && done[next] {
                                        try writer.sample(texts[next])
                                        texts[next] = []
                                        next += 1
                                    }
                                })
            first += wave.count
        }
        return produced
    }

    /// The continuations the last beam search found (for --verbose).
    public private(set) var lastBeams: [BeamResult] = []

    /// Makes `requests` (at most the stepper's streams) together, one row
    /// each, from a fresh state: `emit(i, id)` gets each symbol of request
    /// i as it is drawn, `finish(i)` follows its last (its length reached,
    /// its stop string produced, or with `endAtNewline` a newline). Returns
    /// the number of symbols drawn.
    func run(_ requests: [SampleRequest], on stepper: TokenStepper, _ o: SamplingOptions, endAtNewline: Bool,
             emit: (Int, Int32) throws -> Void, finish: (Int) throws -> Void) throws -> Int {
        struct Row {
            var prime: [Int32]
            var rng: RNG
            var fed = 0
            var produced = 0
            var recent: [UInt8] = []
            var pending: Int32 = 0
            var done = false
        }
        precondition(requests.count <= stepper.streams)
        try stepper.reset()
        var rows = requests.map { Row(prime: $0.prime, rng: RNG(seed: o.seed, stream: $0.stream)) }
        var produced = 0
        func accept(_ i: Int, _ id: Int32) throws {
            try emit(i, id)
            produced += 1
            rows[i].produced += 1
            let bytes = pieces[Int(id)]
            var ended = rows[i].produced == o.length || (endAtNewline && id == newline)
            if let stop = o.stop {
                rows[i].recent.append(contentsOf: bytes)
                if rows[i].recent.count > stop.count { rows[i].recent.removeFirst(rows[i].recent.count - stop.count) }
                if rows[i].recent == stop { ended = true }
            }
            if ended {
                rows[i].done = true
                try finish(i)
            } else {
                rows[i].pending = id
            }
        }
        for i in rows.indices where rows[i].prime.isEmpty {
            try accept(i, firstSymbol(o, rng: &rows[i].rng))
        }
        var tokens = [Int32](repeating: 0, count: stepper.streams)
        let V = stepper.vocabSize
        while rows.contains(where: { !$0.done }) {
            for i in rows.indices where !rows[i].done {
                tokens[i] = rows[i].fed < rows[i].prime.count ? rows[i].prime[rows[i].fed] : rows[i].pending
            }
            let logits = try stepper.step(tokens)
            for i in rows.indices where !rows[i].done {
                if rows[i].fed < rows[i].prime.count {
                    rows[i].fed += 1
                    if rows[i].fed < rows[i].prime.count { continue }
                }
                let row = UnsafeBufferPointer(rebasing: logits[(i * V)..<((i + 1) * V)])
                let next = o.argmax ? argmax(row)
                    : sampleCategorical(row, temperature: o.temperature, rng: &rows[i].rng, topK: o.topK, topP: o.topP)
                try accept(i, Int32(next))
            }
        }
        return produced
    }
}

/// Ends a group of a split batch after another group failed.
struct GroupStopped: Error {}

/// Writes samples one after another with the separator between them
/// (default: end the line if needed, then a blank line).
final class SampleWriter {
    let sink: ByteSink
    let separator: [UInt8]?
    var written = 0
    var lastByte: UInt8? = nil

    init(sink: ByteSink, separator: [UInt8]?) { self.sink = sink; self.separator = separator }

    func sample(_ bytes: [UInt8]) throws {
        if written > 0 { try sink.write(separator ?? (lastByte == 0x0A ? [0x0A] : [0x0A, 0x0A])) }
        try sink.write(bytes)
        if let b = bytes.last { lastByte = b }
        written += 1
        try sink.flush()
    }
}

extension Generator {
    /// rnn-sample --lines: every line of `source` is a prime, fed after a
    /// newline (as the lines of the training text were), and its completion
    /// (o.length symbols, or up to o.stop or a newline) is written on one
    /// line of `sink`, in order, each as soon as it and those before it are
    /// done. The lines read at once (up to o.batch) are made together, as
    /// rows of a batch of o.batch rows: a line's completion depends on its
    /// number and the seed, not on the lines around it. `prime(bytes, n)`
    /// turns line n's bytes (1-based, without the newline) into ids.
    /// Returns the number of lines.
    @discardableResult
    public func completeLines(_ o: SamplingOptions, from source: ByteSource, to sink: ByteSink,
                              prime: ([UInt8], Int) throws -> [Int32]) throws -> Int {
        let reader = LineReader(source)
        let start: [Int32] = newline.map { [$0] } ?? []
        var lineNumber = 0
        let rows = o.beam ?? o.batch
        while true {
            let lines = try reader.availableLines(max: o.beam == nil ? o.batch : 1)
            if lines.isEmpty { break }
            var requests: [SampleRequest] = []
            var echoes: [[UInt8]] = []
            var failure: Error? = nil   // a bad line: the lines before it are completed first
            for line in lines {
                lineNumber += 1
                do {
                    let ids = try prime(line, lineNumber)
                    requests.append(SampleRequest(prime: start + ids, stream: lineNumber - 1))
                    echoes.append(o.echoPrime ? ids.flatMap { pieces[Int($0)] } : [])
                } catch {
                    failure = error
                    break
                }
            }
            if requests.isEmpty, let failure { throw failure }
            func write(_ i: Int, _ completion: [UInt8]) throws {
                var text = echoes[i] + completion
                if text.last == 0x0A { text.removeLast() }
                text.append(0x0A)
                try sink.write(text)
                try sink.flush()
            }
            if let width = o.beam {
                let best = try beamSearch(prime: requests[0].prime, width: width, keep: 1, o, endAtNewline: true)
                try write(0, best[0].ids.flatMap { pieces[Int($0)] })
                if let failure { throw failure }
                continue
            }
            var texts = [[UInt8]](repeating: [], count: requests.count)
            var done = [Bool](repeating: false, count: requests.count)
            var next = 0
            _ = try runBatch(requests, capacity: rows, o, endAtNewline: true,
                             emit: { i, id in texts[i] += self.pieces[Int(id)] },
                        finish: { i in
                            done[i] = true
                            while next < requests.count && done[next] {
                                try write(next, texts[next])
                                next += 1
                            }
                        })
            if let failure { throw failure }
        }
        return lineNumber
    }
}

/// Lines from a byte source, as many as have arrived: a pipe that delivers
/// one line at a time gets an answer per line, a file is read in batches.
final class LineReader {
    let source: ByteSource
    var buffer: [UInt8] = []
    var start = 0
    var ended = false
    var chunk = [UInt8](repeating: 0, count: 1 << 16)

    init(_ source: ByteSource) { self.source = source }

    /// Up to `max` complete lines (without their newlines), reading only
    /// when none is buffered; at the end, the last line even without a
    /// newline. Empty at the end of the data.
    func availableLines(max: Int) throws -> [[UInt8]] {
        while true {
            var lines: [[UInt8]] = []
            var i = start
            while lines.count < max, let nl = buffer[i...].firstIndex(of: 0x0A) {
                lines.append(Array(buffer[i..<nl]))
                i = nl + 1
            }
            if lines.isEmpty && ended && i < buffer.count {
                lines.append(Array(buffer[i...]))
                i = buffer.count
            }
            start = i
            if start > 1 << 16 { buffer.removeFirst(start); start = 0 }
            if !lines.isEmpty || ended { return lines }
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { ended = true } else { buffer += chunk[0..<n] }
        }
    }
}
