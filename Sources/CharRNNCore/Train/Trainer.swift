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
    /// Something went wrong that training survives (a checkpoint not written).
    func warning(_ line: String)
    /// A short sample on demand (--sample-every).
    func sample(iteration: Int, text: String)
    /// After each validation: the losses against each other, the model's
    /// size against the data, and advice when they call for it (Advice).
    func fit(_ report: FitReport)
}

extension TrainReporter {
    public func fit(_ report: FitReport) {}
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
    /// What checkpoints record about the data (see DataRecord).
    public var data: DataRecord?
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
    /// The processes training this model together (nil: this one alone).
    public let group: Communicator?
    /// This process's streams of the global batch.
    public let rows: Range<Int>
    /// Rank 0 (or a single process) prints, samples and writes checkpoints.
    public var isRoot: Bool { (group?.rank ?? 0) == 0 }

    /// A new run from `params` (fresh init or --init-from weights), or a
    /// continued one (`resume`), on `engine` (default the CPU).
    public init(config: ModelConfig, vocab: Vocab, tokens: Tensor, tokensName: String, options: TrainOptions,
                params: [Float]? = nil, resume: Checkpoint? = nil, engine: ComputeEngine = CPUEngine(),
                group: Communicator? = nil, kernels: KernelOptions = KernelOptions(), reporter: TrainReporter) throws {
        self.config = config
        self.group = group
        self.vocab = vocab
        self.options = options
        self.reporter = reporter
        loader = try Loader(tokens: tokens, batch: options.batchSize, seqLength: options.seqLength,
                            trainFrac: options.trainFrac, valFrac: options.valFrac, name: tokensName)
        // Data-parallel: each process takes an equal share of the streams.
        let ranks = group?.size ?? 1, rank = group?.rank ?? 0
        if options.batchSize % ranks != 0 {
            if rank > 0 { throw PeerStop(.failure) }   // rank 0 says why
            let lower = options.batchSize / ranks * ranks, upper = lower + ranks
            throw CharRNNError("--batch-size \(options.batchSize) does not split evenly over \(ranks) processes",
                               hint: "use a multiple of \(ranks) (e.g. \(lower > 0 ? "\(lower) or " : "")\(upper)), or another number of processes")
        }
        let share = options.batchSize / ranks
        rows = (rank * share)..<((rank + 1) * share)
        // The network splits its work over `threads` itself; OpenBLAS runs
        // single-threaded inside each part.
        OpenBLAS.setThreads(1)
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
        backend = try engine.trainingBackend(config: config, batch: share, seqLength: options.seqLength,
                                             threads: options.threads, params: self.params, optimizer: optimizer,
                                             kernels: kernels)
        if ranks > 1 { backend.setBatchShare(BatchShare(global: options.batchSize, offset: rows.lowerBound)) }
        if let resume, resume.stateH.count == config.numLayers, resume.stateH.first?.count == options.batchSize * config.rnnSize {
            // The checkpoint holds the whole batch's state; take our rows.
            let H = config.rnnSize, part = (rows.lowerBound * H)..<(rows.upperBound * H)
            try backend.setCarriedState(h: resume.stateH.map { Array($0[part]) },
                                        c: resume.stateC.map { $0.count == options.batchSize * H ? Array($0[part]) : $0 })
        }
        let byEpochs = Int((options.maxEpochs * Double(loader.ntrain)).rounded(.down))
        totalIterations = max(1, min(options.maxIterations ?? Int.max, byEpochs))
    }

    /// Characters per iteration over every process.
    public var charsPerIteration: Int { options.batchSize * options.seqLength }
    /// This process's characters per iteration.
    var localChars: Int { rows.count * options.seqLength }

    /// Mean loss over the validation minibatches, from a zero state; the
    /// training state is left as it was.
    public func validationLoss() throws -> Double {
        let saved = try backend.carriedState()
        try backend.resetState()
        var total = 0.0
        var inputs = [Int32](repeating: 0, count: localChars)
        var targets = inputs
        for i in loader.ntrain..<(loader.ntrain + loader.nval) {
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    loader.fill(batch: i, rows: rows, inputs: x.baseAddress!, targets: y.baseAddress!)
                }
            }
            total += try backend.loss(inputs: inputs, targets: targets)
        }
        try backend.setCarriedState(h: saved.h, c: saved.c)
        let mean = total / Double(loader.nval)
        // Equal shares: the mean over processes is the mean over the batch.
        guard let group, group.size > 1 else { return mean }
        return try group.average(mean)
    }

    /// The carried state of the whole batch: this process's rows, and with a
    /// group every process's (all of them must call this together).
    func wholeBatchState() throws -> (h: [[Float]], c: [[Float]]) {
        let local = try backend.carriedState()
        guard let group, group.size > 1 else { return local }
        let H = config.rnnSize, whole = options.batchSize * H
        func gather(_ parts: [[Float]]) throws -> [[Float]] {
            try parts.map { part in
                guard part.count == rows.count * H else { return part }
                var all = [Float](repeating: 0, count: whole)
                all.replaceSubrange((rows.lowerBound * H)..<(rows.upperBound * H), with: part)
                try all.withUnsafeMutableBufferPointer { try group.sum($0.baseAddress!, count: whole) }
                return all
            }
        }
        return (try gather(local.h), try gather(local.c))
    }

    /// Checks that every process starts from the same weights, optimiser
    /// state, position and data (a node with another corpus or checkpoint
    /// would silently train something else).
    public func checkProcessesAgree() throws {
        guard let group, group.size > 1 else { return }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) { hash = (hash ^ v) &* 0x100_0000_01b3 }
        for p in params { mix(UInt64(p.bitPattern)) }
        for v in [loader.length, loader.ntrain, loader.nval, progress.iteration, progress.dataPosition, optimizer.step] { mix(UInt64(bitPattern: Int64(v))) }
        for v in progress.rng.stateArray { mix(v) }
        for i in Swift.stride(from: 0, to: loader.length, by: max(1, loader.length / 65536)) { mix(UInt64(loader.tokens[i])) }
        var root = hash
        try withUnsafeMutableBytes(of: &root) { try group.broadcast($0.baseAddress!, count: 8, root: 0) }
        let differing = try group.sum([root == hash ? 0 : 1])[0]
        if differing > 0 {
            throw CharRNNError("\(Int(differing)) of \(group.size) processes start from other data, weights or options than rank 0"
                               + (root == hash ? "" : " (this is rank \(group.rank))"),
                               hint: "give every process the same tokens file and checkpoint (copy them to each node, or use a shared folder)")
        }
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
        let state = try wholeBatchState()
        return Checkpoint(config: config, vocab: vocab, params: params, optimizer: optimizer, options: options,
                          progress: p, history: history, stateH: state.h, stateC: state.c, data: data)
    }

    /// The losses and the model's size against the data, as of the last validation.
    public var fitReport: FitReport {
        Advice.diagnose(history: history, parameters: ParamLayout(config).total,
                        trainingCharacters: loader.ntrain * options.batchSize * options.seqLength, config: config)
    }

    /// Validates, writes a checkpoint, applies --keep; returns its path.
    @discardableResult
    func evaluateAndSave(clock: ContinuousClock, start: ContinuousClock.Instant) throws -> String {
        let valLoss = try validationLoss()
        progress.valLoss = valLoss
        if valLoss.isFinite, progress.bestValLoss.map({ valLoss < $0 }) ?? true { progress.bestValLoss = valLoss }
        history.val.append((progress.iteration, valLoss))
        let dir = options.checkpointDir
        let path = dir + "/" + Checkpoint.fileName(savefile: options.savefile, epoch: progress.epoch, valLoss: valLoss)
        let ckpt = try checkpoint()
        if isRoot {
            var failure: Error? = nil
            do {
                try makeDirectory(dir)
                try ckpt.save(to: path)
            } catch {
                failure = error
            }
            // The other processes learn whether the write worked.
            if let group, group.size > 1 { _ = try group.sum([failure == nil ? 0 : 1]) }
            if let failure { throw failure }
        } else if let group, try group.sum([0])[0] > 0 {
            throw PeerStop(.failure)
        }
        savedCheckpoints.removeAll { $0.path == path }
        savedCheckpoints.append((path, valLoss))
        lastCheckpoint = path
        reporter.validation(iteration: progress.iteration, total: totalIterations, epoch: progress.epoch, valLoss: valLoss,
                            learningRate: progress.learningRate, checkpoint: path, seconds: (clock.now - start).seconds)
        reporter.fit(fitReport)
        if let keep = options.keep, isRoot { try prune(keep: keep) }
        return path
    }

    /// Keeps the best `keep` checkpoints of this savefile in the folder
    /// (earlier runs' too), plus the newest.
    func prune(keep: Int) throws {
        for path in Pruner.excess(folder: options.checkpointDir, keep: keep, savefile: options.savefile).remove {
            unlink(path)
        }
    }

    /// Saves; with continueOnWriteError a failed write is reported and
    /// training goes on (the previous checkpoints are untouched).
    func saveOrReport(clock: ContinuousClock, start: ContinuousClock.Instant) throws {
        do {
            try evaluateAndSave(clock: clock, start: start)
            lastSaveFailed = false
        } catch let e where continueOnWriteError && (e is CharRNNError || e is PeerStop) {
            writeErrors += 1
            lastSaveFailed = true
            history.val.removeLast()
            if isRoot { reporter.warning("could not save a checkpoint at iteration \(progress.iteration): \(e); training goes on (--on-write-error continue)") }
        }
    }

    /// Runs until the iteration budget, the time budget, a signal, or divergence.
    public func run() throws -> TrainOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        defer { try? syncFromBackend() }
        var inputs = [Int32](repeating: 0, count: localChars)
        var targets = inputs
        var windowStart = clock.now
        var windowIterations = 0
        var outcome = TrainOutcome.finished
        var savedAtIteration = -1
        let startIteration = progress.iteration
        while progress.iteration < totalIterations {
            let signal = charrnn_stop_signal()
            let timeUp = options.maxSeconds.map { (clock.now - start).seconds >= $0 } ?? false
            if let group, group.size > 1 {
                // Every process stops at the same iteration: a signal to any
                // of them, or rank 0's clock, stops all.
                let stops = [SIGINT, SIGTERM, SIGHUP]
                var mine = stops.map { signal == $0 ? 1.0 : 0 }
                mine.append(timeUp && isRoot ? 1 : 0)
                let all = try group.sum(mine)
                if let k = stops.indices.first(where: { all[$0] > 0 }) { outcome = .interrupted(signal: stops[k]); break }
                if all[stops.count] > 0 { outcome = .timeBudget; break }
            } else {
                if signal != 0 { outcome = .interrupted(signal: signal); break }
                if timeUp { outcome = .timeBudget; break }
            }
            let position = progress.dataPosition
            if position == 0 { try backend.resetState() }
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    loader.fill(batch: position, rows: rows, inputs: x.baseAddress!, targets: y.baseAddress!)
                }
            }
            var loss = try inputs.withUnsafeBufferPointer { x in
                try targets.withUnsafeBufferPointer { y in
                    try backend.lossAndGradients(inputs: x.baseAddress!, targets: y.baseAddress!, rng: &progress.rng)
                }
            }
            if let group, group.size > 1 {
                // The batch's mean loss; every process takes the same decisions.
                loss = try group.average(loss)
            }
            if !loss.isFinite {
                return .diverged("the loss became \(loss) at iteration \(progress.iteration + 1)")
            }
            if progress.firstLoss == nil { progress.firstLoss = loss }
            if let first = progress.firstLoss, loss > 3 * first {
                return .diverged("the loss exploded to \(fixed(loss, 4)) at iteration \(progress.iteration + 1) (first loss \(fixed(first, 4)))")
            }
            if let group, group.size > 1 { try backend.averageGradients(over: group) }
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
            if sampleEvery > 0 && progress.iteration % sampleEvery == 0 && isRoot {
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

    /// A short sample from the current weights (for --sample-every), on the CPU.
    func quickSample() throws -> String {
        let stepper = try CPUEngine().stepper(config: config, params: try backend.parameters(), streams: 1, threads: 1)
        var rng = RNG(seed: UInt64(progress.iteration))
        var out: [UInt8] = []
        var token = rng.below(vocab.count)
        for _ in 0..<sampleLength {
            token = sampleCategorical(try stepper.step([Int32(token)]), temperature: 1, rng: &rng)
            out += vocab.bytes(of: token)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
