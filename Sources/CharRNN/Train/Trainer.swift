// The training loop (char-rnn's train.lua): minibatches in order with the
// hidden state carried between them, validation and a checkpoint every
// eval_val_every iterations and at the end, learning-rate decay per epoch,
// clean stops on signals, time budgets, NaN or exploding loss.
#if canImport(Glibc)
import Glibc
#endif
import CSupport

/// How a training run ended.
public enum TrainOutcome: Equatable {
    case finished
    case timeBudget
    case interrupted(signal: Int32)
    case diverged(String)
}

/// Where training output goes; the CLI decides terminal vs log lines.
public protocol TrainReporter: AnyObject {
    func info(_ line: String)
    /// Called every print_every iterations.
    func progress(iteration: Int, total: Int, epoch: Double, trainLoss: Double, learningRate: Double,
                  charsPerSecond: Double, seconds: Double)
    func validation(iteration: Int, total: Int, epoch: Double, valLoss: Double, learningRate: Double,
                    checkpoint: String, seconds: Double)
    /// A short sample on demand (--sample-every).
    func sample(iteration: Int, text: String)
}

public final class Trainer {
    public let config: ModelConfig
    public let vocab: Vocab
    public var options: TrainOptions
    public let loader: Loader
    /// Where the weights, gradients and optimiser state live and the steps run.
    public let backend: TrainingBackend
    /// The weights and optimiser state as of the last checkpoint or the end
    /// of `run()` (the backend holds the live ones).
    public private(set) var params: [Float]
    public private(set) var optimizer: Optimizer
    public var progress: Progress
    public var history: History
    public var sampleEvery = 0
    /// Keep training when a checkpoint cannot be written (disk full...);
    /// the failure is reported and the next validation tries again.
    public var continueOnWriteError = false
    public private(set) var writeErrors = 0
    public private(set) var lastSaveFailed = false
    public var sampleLength = 200
    public private(set) var savedCheckpoints: [(path: String, valLoss: Double)] = []
    public private(set) var lastCheckpoint: String? = nil
    let reporter: TrainReporter
    public let totalIterations: Int

    /// A new run from `params` (fresh init or --init-from weights).
    /// On `device` (default the CPU); an unavailable device is an error.
    public init(config: ModelConfig, vocab: Vocab, tokens: Tensor, tokensName: String, options: TrainOptions,
                params: [Float]? = nil, resume: Checkpoint? = nil, device: ComputeDevice = .cpu,
                reporter: TrainReporter) throws {
        self.config = config
        self.vocab = vocab
        self.options = options
        self.reporter = reporter
        loader = try Loader(tokens: tokens, batch: options.batchSize, seqLength: options.seqLength,
                            trainFrac: options.trainFrac, valFrac: options.valFrac, name: tokensName)
        // The network splits its work over `threads` itself; OpenBLAS runs
        // single-threaded inside each part.
        OpenBLASSetup.setThreads(1)
        let layout = ParamLayout(config)
        if let resume {
            self.params = resume.params
            optimizer = resume.optimizer ?? Optimizer(kind: options.optimizer, count: layout.total, decayRate: Float(options.decayRate))
            optimizer.decayRate = Float(options.decayRate)
            progress = resume.progress
            history = resume.history
            if progress.dataPosition >= loader.ntrain { progress.dataPosition = 0 }
        } else {
            var rng = RNG(seed: options.seed)
            self.params = params ?? initialParameters(layout, rng: &rng)
            optimizer = Optimizer(kind: options.optimizer, count: layout.total, decayRate: Float(options.decayRate))
            progress = Progress()
            progress.learningRate = options.learningRate
            progress.rng = rng
            history = History()
        }
        backend = try device.trainingBackend(config: config, batch: options.batchSize, seqLength: options.seqLength,
                                             threads: options.threads, params: self.params, optimizer: optimizer)
        if let resume, resume.stateH.count == config.numLayers, resume.stateH.first?.count == options.batchSize * config.rnnSize {
            try backend.setCarriedState(h: resume.stateH, c: resume.stateC)
        }
        let byEpochs = Int((options.maxEpochs * Double(loader.ntrain)).rounded(.down))
        totalIterations = max(1, min(options.maxIterations ?? Int.max, byEpochs))
    }

    public var charsPerIteration: Int { options.batchSize * options.seqLength }

    /// Mean loss over the validation minibatches, from a zero state; the
    /// training state is left as it was.
    public func validationLoss() throws -> Double {
        let saved = try backend.carriedState()
        try backend.resetState()
        var total = 0.0
        var inputs = [Int32](repeating: 0, count: charsPerIteration)
        var targets = inputs
        for i in loader.ntrain..<(loader.ntrain + loader.nval) {
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    loader.fill(batch: i, inputs: x.baseAddress!, targets: y.baseAddress!)
                }
            }
            total += try backend.loss(inputs: inputs, targets: targets)
        }
        try backend.setCarriedState(h: saved.h, c: saved.c)
        return total / Double(loader.nval)
    }

    /// Reads the weights and optimiser state back from the backend.
    func syncFromBackend() throws {
        params = try backend.parameters()
        optimizer = try backend.optimizerState()
    }

    /// The run as a checkpoint (weights read back from the device).
    public func checkpoint() throws -> Checkpoint {
        try syncFromBackend()
        var p = progress
        p.optimizerStep = optimizer.step
        let state = try backend.carriedState()
        return Checkpoint(config: config, vocab: vocab, params: params, optimizer: optimizer, options: options,
                          progress: p, history: history, stateH: state.h, stateC: state.c)
    }

    /// Validates, writes a checkpoint, applies --keep; returns its path.
    @discardableResult
    func evaluateAndSave(clock: ContinuousClock, start: ContinuousClock.Instant) throws -> String {
        let valLoss = try validationLoss()
        progress.valLoss = valLoss
        if valLoss.isFinite, progress.bestValLoss.map({ valLoss < $0 }) ?? true { progress.bestValLoss = valLoss }
        history.val.append((progress.iteration, valLoss))
        let dir = options.checkpointDir
        try makeDirectory(dir)
        let path = dir + "/" + Checkpoint.fileName(savefile: options.savefile, epoch: progress.epoch, valLoss: valLoss)
        try checkpoint().save(to: path)
        savedCheckpoints.removeAll { $0.path == path }
        savedCheckpoints.append((path, valLoss))
        lastCheckpoint = path
        reporter.validation(iteration: progress.iteration, total: totalIterations, epoch: progress.epoch, valLoss: valLoss,
                            learningRate: progress.learningRate, checkpoint: path, seconds: (clock.now - start).seconds)
        if let keep = options.keep { try prune(keep: keep) }
        return path
    }

    /// Keeps the best `keep` checkpoints of this savefile in the folder, plus the latest.
    func prune(keep: Int) throws {
        let dir = options.checkpointDir
        let prefix = "lm_\(options.savefile)_epoch"
        var found: [(String, Double)] = []
        for name in listDirectory(dir) where name.hasPrefix(prefix) && name.hasSuffix(".ckpt") {
            // ..._<loss>.ckpt
            let stem = name.dropLast(5)
            guard let underscore = stem.lastIndex(of: "_"), let loss = Double(stem[stem.index(after: underscore)...]) else { continue }
            found.append((dir + "/" + name, loss))
        }
        let ranked = found.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        let keepSet = Set(ranked.prefix(keep).map(\.0) + [lastCheckpoint].compactMap { $0 })
        for (path, _) in found where !keepSet.contains(path) {
            unlink(path)
        }
    }

    /// Saves; with continueOnWriteError a failed write is reported and
    /// training goes on (the previous checkpoints are untouched).
    func saveOrReport(clock: ContinuousClock, start: ContinuousClock.Instant) throws {
        do {
            try evaluateAndSave(clock: clock, start: start)
            lastSaveFailed = false
        } catch let e as CharRNNError where continueOnWriteError {
            writeErrors += 1
            lastSaveFailed = true
            history.val.removeLast()
            printError("rnn-train: warning: could not save a checkpoint at iteration \(progress.iteration): \(e); training goes on (--on-write-error continue)")
        }
    }

    /// Runs until the iteration budget, the time budget, a signal, or divergence.
    public func run() throws -> TrainOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        defer { try? syncFromBackend() }
        var inputs = [Int32](repeating: 0, count: charsPerIteration)
        var targets = inputs
        var windowStart = clock.now
        var windowIterations = 0
        var outcome = TrainOutcome.finished
        var savedAtIteration = -1
        let startIteration = progress.iteration
        while progress.iteration < totalIterations {
            let signal = charrnn_stop_signal()
            if signal != 0 { outcome = .interrupted(signal: signal); break }
            if let budget = options.maxSeconds, (clock.now - start).seconds >= budget { outcome = .timeBudget; break }
            let position = progress.dataPosition
            if position == 0 { try backend.resetState() }
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    loader.fill(batch: position, inputs: x.baseAddress!, targets: y.baseAddress!)
                }
            }
            let loss = try inputs.withUnsafeBufferPointer { x in
                try targets.withUnsafeBufferPointer { y in
                    try backend.lossAndGradients(inputs: x.baseAddress!, targets: y.baseAddress!, rng: &progress.rng)
                }
            }
            if !loss.isFinite {
                return .diverged("the loss became \(loss) at iteration \(progress.iteration + 1)")
            }
            if progress.firstLoss == nil { progress.firstLoss = loss }
            if let first = progress.firstLoss, loss > 3 * first {
                return .diverged("the loss exploded to \(fixed(loss, 4)) at iteration \(progress.iteration + 1) (first loss \(fixed(first, 4)))")
            }
            try backend.update(gradClip: Float(options.gradClip), learningRate: Float(progress.learningRate))
            progress.iteration += 1
            progress.trainLoss = loss
            progress.dataPosition = (position + 1) % loader.ntrain
            progress.epoch = Double(progress.iteration) / Double(loader.ntrain)
            if progress.iteration % loader.ntrain == 0 && options.learningRateDecay < 1 {
                if progress.epoch >= options.learningRateDecayAfter {
                    progress.learningRate *= options.learningRateDecay
                }
            }
            windowIterations += 1
            if progress.iteration % options.printEvery == 0 || progress.iteration == totalIterations {
                history.train.append((progress.iteration, loss))
                let now = clock.now
                let seconds = (now - windowStart).seconds
                let speed = Double(windowIterations * charsPerIteration) / max(seconds, 1e-9)
                reporter.progress(iteration: progress.iteration, total: totalIterations, epoch: progress.epoch,
                                  trainLoss: loss, learningRate: progress.learningRate, charsPerSecond: speed,
                                  seconds: (now - start).seconds)
                windowStart = now
                windowIterations = 0
            }
            if sampleEvery > 0 && progress.iteration % sampleEvery == 0 {
                reporter.sample(iteration: progress.iteration, text: try quickSample())
            }
            if progress.iteration % options.evalValEvery == 0 || progress.iteration == totalIterations {
                try saveOrReport(clock: clock, start: start)
                savedAtIteration = progress.iteration
            }
        }
        // Save where this run got to (a resumed run that trained nothing
        // saves nothing: its checkpoint already exists).
        if savedAtIteration != progress.iteration && progress.iteration > startIteration {
            try evaluateAndSave(clock: clock, start: start)
        }
        return outcome
    }

    /// A short sample from the current weights (for --sample-every).
    func quickSample() throws -> String {
        let sampler = Sampler(config: config, params: try backend.parameters())
        var rng = RNG(seed: UInt64(progress.iteration))
        var out: [UInt8] = []
        var token = rng.below(vocab.count)
        for _ in 0..<sampleLength {
            token = sampleCategorical(sampler.step(token: token), temperature: 1, rng: &rng)
            out += vocab.unit == .byte ? [UInt8(vocab.symbols[token])] : UTF8Scan.encode(vocab.symbols[token])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Creates a folder (and its parents) if missing.
public func makeDirectory(_ path: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        if (st.st_mode & S_IFMT) != S_IFDIR {
            throw CharRNNError("\(path) exists and is not a folder", hint: "choose another checkpoint folder with -o")
        }
        return
    }
    let (parent, _) = splitPath(path)
    if parent != path && parent != "." && parent != "/" { try makeDirectory(parent) }
    if mkdir(path, 0o755) != 0 && errno != EEXIST {
        throw CharRNNError("cannot create folder \(path): \(describeErrno(errno))", hint: "check the path and permissions")
    }
}

/// Names in a folder (no . or ..), sorted; empty when unreadable.
public func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
