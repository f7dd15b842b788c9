// Planning a training run before anything is allocated: the options a user
// gave merged with a checkpoint's (--resume continues its run exactly,
// --init-from starts a new run from its weights), the checks that a
// checkpoint fits the data, and whether the model fits in memory.
#if canImport(Glibc)
import Glibc
#endif

/// rnn-train's flags as given (nil: not given); defaults come from
/// ModelConfig.defaults and TrainOptions().
public struct TrainFlags {
    public var model: CellKind?
    public var rnnSize: Int?
    public var numLayers: Int?
    public var embeddingSize: Int?
    public var dropout: Double?
    public var optimizer: OptimizerKind?
    public var learningRate: Double?
    public var learningRateDecay: Double?
    public var learningRateDecayAfter: Double?
    public var decayRate: Double?
    public var gradClip: Double?
    public var seqLength: Int?
    public var batchSize: Int?
    public var maxEpochs: Double?
    public var maxIterations: Int?
    public var maxSeconds: Double?
    public var trainFrac: Double?
    public var valFrac: Double?
    public var checkpointDir: String?
    public var savefile: String?
    public var evalValEvery: Int?
    public var printEvery: Int?
    public var keep: Int?
    public var seed: UInt64?
    public var threads = 1
    public var initFrom: String?
    public var resume: String?

    public init() {}
}

/// What a run starts from.
public struct RunPlan {
    public var config: ModelConfig
    public var options: TrainOptions
    /// Weights to start a new run from (--init-from); nil: a fresh initialisation.
    public var startParams: [Float]?
    /// The checkpoint a run continues (--resume).
    public var resume: Checkpoint?
    /// The checkpoint --init-from named, for the run's header.
    public var initFrom: Checkpoint?

    /// Merges `flags` with the checkpoint they name (if any; `start`, read
    /// already, from `startPath`) for data with vocabulary `vocab` (called
    /// `dataName` in messages).
    public init(flags f: TrainFlags, vocab: Vocab, dataName: String, start: Checkpoint? = nil, startPath: String? = nil) throws {
        var o = TrainOptions()
        if let path = startPath ?? f.resume ?? f.initFrom {
            let ckpt = try start ?? Checkpoint.load(path: path)
            try checkVocabulary(ckpt.vocab, vocab, checkpoint: path, data: dataName)
            config = ckpt.config
            for (flag, given) in [("--model", f.model != nil), ("--rnn-size", f.rnnSize != nil), ("--num-layers", f.numLayers != nil),
                                  ("--embedding-size", f.embeddingSize != nil)] where given {
                throw CharRNNError("\(flag) cannot change the model of \(path)", hint: "drop \(flag); the checkpoint fixes the model's shape")
            }
            if let d = f.dropout { config.dropout = d }
            if f.resume != nil {
                o = ckpt.options
                func same<T: Equatable>(_ given: T?, _ used: T, _ flag: String, _ shown: String? = nil) throws {
                    guard let given, given != used else { return }
                    throw CharRNNError("\(flag) cannot change on --resume" + (shown.map { " (the run used \($0))" } ?? ""),
                                       hint: "drop \(flag), or use --init-from to start a new run from these weights")
                }
                try same(f.batchSize, o.batchSize, "--batch-size", "\(o.batchSize)")
                try same(f.seqLength, o.seqLength, "--seq-length", "\(o.seqLength)")
                try same(f.trainFrac, o.trainFrac, "--train-frac")
                try same(f.valFrac, o.valFrac, "--val-frac")
                try same(f.optimizer, o.optimizer, "--optimizer")
                if ckpt.optimizer == nil {
                    throw CharRNNError("\(path) has no optimiser state (it was stripped)", hint: "use --init-from to start a new run from its weights")
                }
                resume = ckpt
            } else {
                startParams = ckpt.params
                initFrom = ckpt
            }
        } else {
            let d = ModelConfig.defaults
            config = ModelConfig(cell: f.model ?? d.cell, rnnSize: f.rnnSize ?? d.rnnSize, numLayers: f.numLayers ?? d.numLayers,
                                 embeddingSize: f.embeddingSize ?? d.embeddingSize, dropout: f.dropout ?? d.dropout,
                                 vocabSize: vocab.count)
        }
        if let v = f.optimizer { o.optimizer = v }
        if let v = f.learningRate { o.learningRate = v }
        if let v = f.learningRateDecay { o.learningRateDecay = v }
        if let v = f.learningRateDecayAfter { o.learningRateDecayAfter = v }
        if let v = f.decayRate { o.decayRate = v }
        if let v = f.gradClip { o.gradClip = v }
        if let v = f.seqLength { o.seqLength = v }
        if let v = f.batchSize { o.batchSize = v }
        if let v = f.maxEpochs { o.maxEpochs = v }
        if let v = f.maxIterations { o.maxIterations = v }
        o.maxSeconds = f.maxSeconds
        if let v = f.trainFrac { o.trainFrac = v }
        if let v = f.valFrac { o.valFrac = v }
        if let v = f.checkpointDir { o.checkpointDir = v }
        if let v = f.evalValEvery { o.evalValEvery = v }
        if let v = f.printEvery { o.printEvery = v }
        if let v = f.keep { o.keep = v }
        if let v = f.seed { o.seed = v }
        o.threads = f.threads
        if f.resume == nil { o.savefile = f.savefile ?? config.cell.rawValue }
        options = o
    }
}

/// The checkpoint's vocabulary must equal the data's (ids and symbols).
public func checkVocabulary(_ a: Vocab, _ b: Vocab, checkpoint: String, data: String) throws {
    if a.unit == b.unit && a.symbols == b.symbols { return }
    if a.unit != b.unit {
        throw CharRNNError("\(checkpoint) models \(a.unit == .byte ? "bytes" : "characters") but \(data) is encoded as \(b.unit == .byte ? "bytes" : "characters")",
                           hint: "give the text itself (rnn-train encodes it with the checkpoint's vocabulary), or encode it with 'rnn-ckpt vocab \(checkpoint) > vocab.tsv; rnn-encode --vocab vocab.tsv'")
    }
    let onlyCkpt = Set(a.symbols).subtracting(b.symbols).sorted().prefix(5).map { a.describe($0) }
    let onlyData = Set(b.symbols).subtracting(a.symbols).sorted().prefix(5).map { b.describe($0) }
    var parts: [String] = []
    if !onlyData.isEmpty { parts.append("only in the data: " + onlyData.joined(separator: ", ")) }
    if !onlyCkpt.isEmpty { parts.append("only in the checkpoint: " + onlyCkpt.joined(separator: ", ")) }
    if parts.isEmpty { parts.append("same symbols in a different order") }
    throw CharRNNError("the vocabulary of \(data) differs from \(checkpoint)'s (\(parts.joined(separator: "; ")))",
                       hint: "give the text itself (rnn-train encodes it with the checkpoint's vocabulary; --unknown skip leaves out the rest), or 'rnn-ckpt vocab \(checkpoint) > vocab.tsv' then 'rnn-encode --vocab vocab.tsv --unknown skip'")
}

/// Refuses, before anything is allocated, a model or minibatch whose sizes
/// overflow 64-bit arithmetic or need more memory than this machine has,
/// instead of crashing on an overflow trap or a failed allocation. With
/// `onHost` false (an OpenCL device) the activations live on the device
/// (its own allocations check its memory), so only the host's copies of
/// the weights count here.
public func checkMemory(config: ModelConfig, options: TrainOptions, tokens: Int, onHost: Bool = true) throws {
    let hint = "use a smaller --rnn-size, --num-layers, --embedding-size, --batch-size or --seq-length"
    func mul(_ xs: Int?...) -> Int? {
        var r = 1
        for x in xs {
            guard let x else { return nil }
            let (p, o) = r.multipliedReportingOverflow(by: x)
            if o { return nil }
            r = p
        }
        return r
    }
    func add(_ xs: Int?...) -> Int? {
        var r = 0
        for x in xs {
            guard let x else { return nil }
            let (s, o) = r.addingReportingOverflow(x)
            if o { return nil }
            r = s
        }
        return r
    }
    let B = options.batchSize, S = options.seqLength
    // A minibatch longer than the corpus is reported by the loader ("too
    // few characters"), as long as its size is a sane number.
    guard let n = mul(B, S), n <= 1 << 48 else {
        throw CharRNNError("a minibatch of \(B)×\(S) characters is too large", hint: "use a smaller --batch-size or --seq-length")
    }
    if n > tokens { return }
    let H = config.rnnSize, G = config.cell.gates, L = config.numLayers, V = config.vocabSize, E = config.embeddingSize
    let model = "a \(L)×\(H) \(config.cell.rawValue.uppercased())\(E > 0 ? " with embedding \(E)" : "") over \(V) symbols, minibatch \(B)×\(S)"
    guard let params = ParamLayout.count(config) else {
        throw CharRNNError("\(model) is too large: its sizes overflow 64-bit arithmetic, far beyond any memory", hint: hint)
    }
    // Floats: parameters, gradients, up to two optimiser slots, a copy
    // while saving, the one-hot input's transposed weights; activations
    // and their gradients per layer; logits and the input layer's buffers.
    let host = onHost ? 1 : 0
    let floats = add(mul(6, params), mul(host, E > 0 ? 0 : V, G, H),
                     mul(host, L, n, add(mul(3, G, H), mul(6, H))), mul(host, 2, n, add(V, E, H, mul(2, G, H))))
    let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    guard let bytes = mul(4, floats) else {
        throw CharRNNError("\(model) is too large: its sizes overflow 64-bit arithmetic, far beyond any memory", hint: hint)
    }
    if physical > 0 && bytes > physical {
        throw CharRNNError("\(model) needs about \(formatBytes(bytes)) of memory (\(params) parameters), more than this machine's \(formatBytes(physical))",
                           hint: hint)
    }
}
