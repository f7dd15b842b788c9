// rnn-train: train a character-level LSTM/GRU/RNN on a tokens file and
// write checkpoints (char-rnn's train.lua).
import ArgumentParser
import CharRNN
import CSupport

struct RnnTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-train",
        abstract: "Train a character-level language model and write checkpoints.",
        discussion: """
            Reads a tokens file from rnn-encode (stdin when TOKENS is - or absent), or \
            DIR/input.txt with --data-dir, and writes checkpoints \
            lm_<savefile>_epoch<E.EE>_<VALLOSS>.ckpt into the checkpoint folder. \
            Ctrl-C finishes the step, saves, and tells you how to --resume. Under Open MPI's \
            mpirun it trains one model data-parallel across the processes (rank 0 writes). \
            See rnn-train(1).
            """)

    @Argument(help: "Tokens file from rnn-encode (- or none: stdin).")
    var tokens: String?

    // Model.
    @Option(help: "Cell type: lstm, gru or rnn (default lstm).") var model: String?
    @Option(help: "Hidden units per layer (default 128).") var rnnSize: Int?
    @Option(help: "Number of layers (default 2).") var numLayers: Int?
    @Option(help: "0: one-hot input as char-rnn; >0: a learned embedding of this size (default 0).") var embeddingSize: Int?
    @Option(help: "Dropout on each layer's output, 0 to <1 (default 0).") var dropout: Double?

    // Optimisation.
    @Option(help: "rmsprop or adam (default rmsprop).") var optimizer: String?
    @Option(help: "Learning rate (default 2e-3).") var learningRate: Double?
    @Option(help: "Multiply the learning rate by this each epoch after --learning-rate-decay-after (default 0.97).") var learningRateDecay: Double?
    @Option(help: "Epochs before the learning rate starts to decay (default 10).") var learningRateDecayAfter: Double?
    @Option(help: "RMSprop decay rate (default 0.95).") var decayRate: Double?
    @Option(help: "Clip each gradient element to ±this (default 5).") var gradClip: Double?
    @Option(help: "Characters per sequence: steps of back-propagation through time (default 50).") var seqLength: Int?
    @Option(help: "Parallel sequences per minibatch (default 50).") var batchSize: Int?
    @Option(help: "Epochs to train (default 50).") var maxEpochs: Double?
    @Option(help: "Stop after this many iterations in total.") var maxIterations: Int?
    @Option(help: "Stop cleanly after this many seconds of this run, saving a checkpoint.") var maxSeconds: Double?

    // Data.
    @Option(help: "Share of minibatches for training (default 0.95).") var trainFrac: Double?
    @Option(help: "Share of minibatches for validation (default 0.05).") var valFrac: Double?
    @Option(help: "Train on DIR/input.txt, caching its encoding as DIR/input.tokens.") var dataDir: String?

    // Bookkeeping.
    @Option(name: [.customShort("o"), .customLong("checkpoint-dir")], help: "Folder for checkpoints (default cv).") var checkpointDir: String?
    @Option(help: "Name inside checkpoint file names (default: the model, e.g. lstm).") var savefile: String?
    @Option(help: "Validate and save a checkpoint every N iterations (default 1000).") var evalValEvery: Int?
    @Option(help: "Report the training loss every N iterations (default 1).") var printEvery: Int?
    @Option(help: "Keep only the best N checkpoints by val loss, plus the latest.") var keep: Int?
    @Option(help: "Random seed (default 123).") var seed: UInt64?
    @Option(help: "Write JSON lines of metrics to FILE (- for stdout).") var metrics: String?
    @Option(help: "Print a short sample on stderr every N iterations.") var sampleEvery: Int?
    @Option(help: "Length of those samples.") var sampleLength: Int = 200

    // Starting points.
    @Option(help: "Start from this checkpoint's weights with a new optimiser.") var initFrom: String?
    @Option(help: "Continue this checkpoint's run exactly (weights, optimiser, position, RNG).") var resume: String?

    @Option(help: "When a checkpoint cannot be written (disk full): stop (saving nothing worse) or continue training.") var onWriteError: String = "stop"
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let m = model, CellKind(rawValue: m) == nil { throw ValidationError("--model must be lstm, gru or rnn (got '\(m)').") }
        if let o = optimizer, OptimizerKind(rawValue: o) == nil { throw ValidationError("--optimizer must be rmsprop or adam (got '\(o)').") }
        for (name, v) in [("--rnn-size", rnnSize), ("--num-layers", numLayers), ("--seq-length", seqLength), ("--batch-size", batchSize),
                          ("--eval-val-every", evalValEvery), ("--print-every", printEvery), ("--max-iterations", maxIterations),
                          ("--keep", keep), ("--sample-every", sampleEvery)] {
            if let v, v < 1 { throw ValidationError("\(name) must be at least 1 (got \(v)).") }
        }
        if let e = embeddingSize, e < 0 { throw ValidationError("--embedding-size must be 0 or more (got \(e)).") }
        if let d = dropout, !(d >= 0 && d < 1) { throw ValidationError("--dropout must be in [0, 1) (got \(d)).") }
        if let v = learningRate, !(v > 0 && v.isFinite) { throw ValidationError("--learning-rate must be a positive number (got \(v)).") }
        if let v = learningRateDecay, !(v > 0 && v <= 1) { throw ValidationError("--learning-rate-decay must be in (0, 1] (got \(v)).") }
        if let v = learningRateDecayAfter, !(v >= 0 && v.isFinite) { throw ValidationError("--learning-rate-decay-after must be 0 or more.") }
        if let v = decayRate, !(v > 0 && v < 1) { throw ValidationError("--decay-rate must be in (0, 1) (got \(v)).") }
        if let v = gradClip, !(v > 0 && v.isFinite) { throw ValidationError("--grad-clip must be a positive number (got \(v)).") }
        if let v = maxEpochs, !(v > 0 && v.isFinite) { throw ValidationError("--max-epochs must be a positive number (got \(v)).") }
        if let v = maxSeconds, !(v > 0) { throw ValidationError("--max-seconds must be positive (got \(v)).") }
        if let v = trainFrac, !(v > 0 && v <= 1) { throw ValidationError("--train-frac must be in (0, 1] (got \(v)).") }
        if let v = valFrac, !(v > 0 && v < 1) { throw ValidationError("--val-frac must be in (0, 1) (got \(v)).") }
        if (trainFrac ?? 0.95) + (valFrac ?? 0.05) > 1 + 1e-9 { throw ValidationError("--train-frac plus --val-frac must be at most 1.") }
        if sampleLength < 1 { throw ValidationError("--sample-length must be at least 1.") }
        if initFrom != nil && resume != nil { throw ValidationError("give --init-from or --resume, not both.") }
        if dataDir != nil && tokens != nil { throw ValidationError("give a tokens file or --data-dir, not both.") }
        if let s = savefile, s.isEmpty || s.contains("/") { throw ValidationError("--savefile must be a plain name (got '\(s)').") }
        if onWriteError != "stop" && onWriteError != "continue" { throw ValidationError("--on-write-error must be stop or continue (got '\(onWriteError)').") }
    }

    func run() throws {
        try common.apply(tool: "rnn-train", blasThreads: 1)  // the network splits its work over --threads
        let device = deviceOptions.computeDevice
        let deviceLabel = try deviceOptions.open()   // an unavailable device fails here, before any work
        // Under mpirun: one process of a data-parallel run (rank 0 reports).
        let group = try MPICommunicator.fromLauncher(tool: "rnn-train")
        let isRoot = (group?.rank ?? 0) == 0
        if let group, group.rank > 0 { Tool.processRank = group.rank }
        if let group, group.size > 1, dataDir == nil, tokens == nil || tokens == "-" {
            throw CharRNNError("under mpirun every process reads the tokens itself, and only rank 0 gets stdin",
                               hint: "give a tokens file (rnn-encode -o FILE) or --data-dir, on every node")
        }
        let reporter = isRoot ? ConsoleTrainReporter(quiet: common.quiet, terminal: isTerminal(2), metrics: try openMetrics())
                              : ConsoleTrainReporter(quiet: true, terminal: false, metrics: nil)
        defer { reporter.finish() }

        // Data.
        let (data, dataName) = try loadTokens(reporter: reporter, writeCache: isRoot)
        var opts = TrainOptions()
        var config: ModelConfig
        var startParams: [Float]? = nil
        var resumeFrom: Checkpoint? = nil

        if let path = resume ?? initFrom {
            let ckpt = try Checkpoint.load(path: path)
            try checkVocab(ckpt.vocab, data.vocab, checkpoint: path, data: dataName)
            config = ckpt.config
            for (flag, given) in [("--model", model != nil), ("--rnn-size", rnnSize != nil), ("--num-layers", numLayers != nil),
                                  ("--embedding-size", embeddingSize != nil)] where given {
                throw CharRNNError("\(flag) cannot change the model of \(path)", hint: "drop \(flag); the checkpoint fixes the model's shape")
            }
            if let d = dropout { config.dropout = d }
            if resume != nil {
                opts = ckpt.options
                if let b = batchSize, b != opts.batchSize { throw CharRNNError("--batch-size cannot change on --resume (the run used \(opts.batchSize))", hint: "drop --batch-size, or use --init-from to start a new run from these weights") }
                if let s = seqLength, s != opts.seqLength { throw CharRNNError("--seq-length cannot change on --resume (the run used \(opts.seqLength))", hint: "drop --seq-length, or use --init-from") }
                if let f = trainFrac, f != opts.trainFrac { throw CharRNNError("--train-frac cannot change on --resume", hint: "drop it, or use --init-from") }
                if let f = valFrac, f != opts.valFrac { throw CharRNNError("--val-frac cannot change on --resume", hint: "drop it, or use --init-from") }
                if let o = optimizer, o != opts.optimizer.rawValue { throw CharRNNError("--optimizer cannot change on --resume", hint: "drop it, or use --init-from") }
                if ckpt.optimizer == nil { throw CharRNNError("\(path) has no optimiser state (it was stripped)", hint: "use --init-from to start a new run from its weights") }
                resumeFrom = ckpt
            } else {
                startParams = ckpt.params
            }
        } else {
            config = ModelConfig(cell: CellKind(rawValue: model ?? "lstm")!, rnnSize: rnnSize ?? 128, numLayers: numLayers ?? 2,
                                 embeddingSize: embeddingSize ?? 0, dropout: dropout ?? 0, vocabSize: data.vocab.count)
        }
        applyOptions(to: &opts, cell: config.cell)
        if resume == nil { opts.savefile = savefile ?? config.cell.rawValue }

        try checkSizes(config: config, options: opts, tokens: data.tokens.count, device: device)
        let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: dataName, options: opts,
                                  params: startParams, resume: resumeFrom, device: device, group: group,
                                  kernels: CommonOptions.kernelOptions, reporter: reporter)
        try trainer.checkProcessesAgree()
        if let s = sampleEvery, isRoot { trainer.sampleEvery = s; trainer.sampleLength = sampleLength }
        trainer.continueOnWriteError = onWriteError == "continue"
        // One run per checkpoint folder and savefile at a time (rank 0
        // writes for a multi-process run).
        var lock: RunLock? = nil
        if isRoot {
            try makeDirectory(opts.checkpointDir)
            lock = try RunLock(directory: opts.checkpointDir, savefile: opts.savefile)
        }
        defer { lock?.release() }
        if let r = resumeFrom, let lr = learningRate, lr != r.progress.learningRate { trainer.progress.learningRate = lr }
        let loader = trainer.loader
        reporter.info("vocab size: \(data.vocab.count) (\(data.vocab.unit == .byte ? "bytes" : "characters")), \(data.tokens.count) tokens")
        reporter.info("model: \(config.description), dropout \(config.dropout), \(ParamLayout(config).total) parameters")
        if device != .cpu { reporter.info("device: \(deviceLabel)") }
        if common.verbose, let cpu = trainer.backend as? CPUTrainingBackend {
            for line in cpu.plan.notes { printError("rnn-train: \(line)") }
        }
        if let group, group.size > 1 {
            reporter.info("processes: \(group.size) (MPI), \(trainer.rows.count) of the \(opts.batchSize) streams and \(opts.threads) thread\(opts.threads == 1 ? "" : "s") each")
        }
        reporter.info("data: \(loader.batches) minibatches of \(opts.batchSize)×\(opts.seqLength): train \(loader.ntrain), val \(loader.nval), test \(loader.ntest)")
        if let r = resumeFrom { reporter.info("resuming at iteration \(r.progress.iteration) (epoch \(fixed(r.progress.epoch, 2)))") }
        reporter.info("training for \(trainer.totalIterations) iterations, checkpoints in \(opts.checkpointDir)/")

        charrnn_install_stop_handlers()
        let outcome = try trainer.run()
        reporter.finish()
        // Report first (mpirun may end the processes soon after a signal),
        // then end MPI: every process ends the run at the same iteration.
        let ending = report(outcome, trainer: trainer, isRoot: isRoot, reporter: reporter)
        group?.finalize()
        if let ending { throw ending }
    }

    /// Prints how the run ended (rank 0) and returns the error to exit with,
    /// if any; the other ranks return the same status silently.
    func report(_ outcome: TrainOutcome, trainer: Trainer, isRoot: Bool, reporter: ConsoleTrainReporter) -> Error? {
        if !isRoot {
            switch outcome {
            case _ where trainer.lastSaveFailed: return PeerStop(status: ExitStatus.dataError)
            case .interrupted(let signal): return PeerStop(status: 128 + signal)
            case .diverged: return PeerStop(status: ExitStatus.dataError)
            case .finished, .timeBudget: return nil
            }
        }
        let last = trainer.lastCheckpoint ?? "(none)"
        if trainer.lastSaveFailed {
            return CharRNNError("training ended but its last checkpoint could not be written (\(trainer.writeErrors) failed writes); the newest saved one is \(last)",
                                hint: "free some disk space and --resume from it")
        }
        switch outcome {
        case .finished:
            reporter.info("done: \(trainer.progress.iteration) iterations; best val_loss \(trainer.progress.bestValLoss.map { fixed($0, 4) } ?? "?"); last checkpoint \(last)")
            return nil
        case .timeBudget:
            reporter.info("stopped after --max-seconds at iteration \(trainer.progress.iteration); continue with: rnn-train --resume \(last) \(tokensArgument)")
            return nil
        case .interrupted(let signal):
            if trainer.lastCheckpoint == nil {
                printError("rnn-train: interrupted before the first iteration; nothing to save")
            } else {
                printError("rnn-train: interrupted at iteration \(trainer.progress.iteration); saved \(last); continue with: rnn-train --resume \(last) \(tokensArgument)")
            }
            return ExitCode(128 + signal)
        case .diverged(let why):
            return CharRNNError("training stopped: \(why)" + (trainer.lastCheckpoint.map { "; checkpoints saved before it are kept (last: \($0))" } ?? "; no checkpoint was written"),
                                hint: "try a lower --learning-rate (e.g. \(shortNumber(trainer.options.learningRate / 2))) or --grad-clip")
        }
    }

    var tokensArgument: String {
        if let dataDir { return "--data-dir \(dataDir)" }
        return tokens ?? "-"
    }

    func applyOptions(to o: inout TrainOptions, cell: CellKind) {
        if let v = optimizer { o.optimizer = OptimizerKind(rawValue: v)! }
        if let v = learningRate { o.learningRate = v }
        if let v = learningRateDecay { o.learningRateDecay = v }
        if let v = learningRateDecayAfter { o.learningRateDecayAfter = v }
        if let v = decayRate { o.decayRate = v }
        if let v = gradClip { o.gradClip = v }
        if let v = seqLength { o.seqLength = v }
        if let v = batchSize { o.batchSize = v }
        if let v = maxEpochs { o.maxEpochs = v }
        if let v = maxIterations { o.maxIterations = v }
        o.maxSeconds = maxSeconds
        if let v = trainFrac { o.trainFrac = v }
        if let v = valFrac { o.valFrac = v }
        if let v = checkpointDir { o.checkpointDir = v }
        if let v = savefile { o.savefile = v }
        if let v = evalValEvery { o.evalValEvery = v }
        if let v = printEvery { o.printEvery = v }
        if let v = keep { o.keep = v }
        if let v = seed { o.seed = v }
        o.threads = common.threadCount
    }

    func openMetrics() throws -> ByteSink? {
        guard let metrics else { return nil }
        if metrics == "-" { return FileSink.standardOutput() }
        let fd = open(metrics, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw CharRNNError("cannot open \(metrics) for metrics", hint: "check the path") }
        return FileSink(fd: fd, name: metrics)
    }

    /// The tokens file, or DIR/input.txt encoded (cached as DIR/input.tokens
    /// when `writeCache`: only one process of a multi-process run writes).
    func loadTokens(reporter: ConsoleTrainReporter, writeCache: Bool) throws -> (TokensFile, String) {
        guard let dataDir else {
            return (try TokensFile.read(path: tokens), tokens.flatMap { $0 == "-" ? nil : $0 } ?? "stdin")
        }
        let text = dataDir + "/input.txt", cache = dataDir + "/input.tokens"
        let textTime = modificationTime(text)
        guard textTime != nil else {
            throw CharRNNError("\(text): no such file", hint: "put the corpus at \(text) (see data/README.md)")
        }
        if let cacheTime = modificationTime(cache), cacheTime >= textTime! {
            return (try TokensFile.read(path: cache), cache)
        }
        reporter.info("encoding \(text) into \(cache)")
        let bytes = try FileSource.open(text).readAll()
        let file = try bytes.withUnsafeBufferPointer { buf -> TokensFile in
            let vocab = try Vocab.build(from: buf, unit: .char, name: text)
            return TokensFile(vocab: vocab, tokens: try TokenCodec(vocab: vocab).encode(buf, name: text, unknown: .error))
        }
        if writeCache { try file.tensorFile.write(toPath: cache) }
        return (file, text)
    }
}

/// Refuses, before anything is allocated, a model or minibatch whose sizes
/// overflow 64-bit arithmetic or need more memory than this machine has,
/// instead of crashing on an overflow trap or a failed allocation.
/// With an OpenCL device the activations live there (its own allocations
/// check its memory), so only the host's copies of the weights count here.
func checkSizes(config: ModelConfig, options: TrainOptions, tokens: Int, device: ComputeDevice = .cpu) throws {
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
    let input = E > 0 ? E : V
    // Parameters, as ParamLayout counts them.
    let params = add(mul(V, E), mul(G, H, add(input, H, 2)), mul(L - 1, G, H, add(H, H, 2)), mul(V, H), V)
    // Floats: parameters, gradients, up to two optimiser slots, a copy
    // while saving, the one-hot input's transposed weights; activations
    // and their gradients per layer; logits and the input layer's buffers.
    let onHost = device == .cpu ? 1 : 0
    let floats = add(mul(6, params), mul(onHost, E > 0 ? 0 : V, G, H),
                     mul(onHost, L, n, add(mul(3, G, H), mul(6, H))), mul(onHost, 2, n, add(V, E, H, mul(2, G, H))))
    let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    let model = "a \(L)×\(H) \(config.cell.rawValue.uppercased())\(E > 0 ? " with embedding \(E)" : "") over \(V) symbols, minibatch \(B)×\(S)"
    guard let params, let bytes = mul(4, floats) else {
        throw CharRNNError("\(model) is too large: its sizes overflow 64-bit arithmetic, far beyond any memory", hint: hint)
    }
    if physical > 0 && bytes > physical {
        throw CharRNNError("\(model) needs about \(formatBytes(bytes)) of memory (\(params) parameters), more than this machine's \(formatBytes(physical))",
                           hint: hint)
    }
}

func modificationTime(_ path: String) -> Double? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
}

/// The checkpoint's vocab must equal the data's (ids and symbols).
func checkVocab(_ a: Vocab, _ b: Vocab, checkpoint: String, data: String) throws {
    if a.unit == b.unit && a.symbols == b.symbols { return }
    if a.unit != b.unit {
        throw CharRNNError("\(checkpoint) models \(a.unit == .byte ? "bytes" : "characters") but \(data) is encoded as \(b.unit == .byte ? "bytes" : "characters")",
                           hint: "encode the data the same way (rnn-encode --vocab with 'rnn-ckpt vocab' output)")
    }
    let onlyCkpt = Set(a.symbols).subtracting(b.symbols).sorted().prefix(5).map { a.describe($0) }
    let onlyData = Set(b.symbols).subtracting(a.symbols).sorted().prefix(5).map { b.describe($0) }
    var parts: [String] = []
    if !onlyData.isEmpty { parts.append("only in the data: " + onlyData.joined(separator: ", ")) }
    if !onlyCkpt.isEmpty { parts.append("only in the checkpoint: " + onlyCkpt.joined(separator: ", ")) }
    if parts.isEmpty { parts.append("same symbols in a different order") }
    throw CharRNNError("the vocabulary of \(data) differs from \(checkpoint)'s (\(parts.joined(separator: "; ")))",
                       hint: "encode the data with the checkpoint's vocabulary (rnn-encode --vocab FILE --unknown skip)")
}

#if canImport(Glibc)
import Glibc
#endif

Tool.main(RnnTrain.self, name: "rnn-train")
