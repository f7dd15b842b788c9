// rnn-train's options: typed, checked, their defaults (in the help texts)
// taken from the core's ModelConfig.defaults and TrainOptions() — one
// source — and turned into the core's TrainFlags. And how a run's end is
// told (TrainEnding).
import ArgumentParser
import CharRNNCore

private let defaultModel = ModelConfig.defaults
private let defaultTrain = TrainOptions()

/// `n` as --help shows a default: 2e-3, 0.97, 10, 50.
func shown(_ x: Double) -> String {
    if x != 0 && abs(x) < 0.01 {
        var e = 0, m = x
        while abs(m) < 1 { m *= 10; e += 1 }
        if m == m.rounded() { return "\(Int(m))e-\(e)" }
    }
    return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
}

public struct TrainArguments: ParsableArguments {
    // Model.
    @Option(help: "Cell type: lstm, gru or rnn (default \(defaultModel.cell.rawValue)).") public var model: CellKind?
    @Option(help: "Hidden units per layer (default \(defaultModel.rnnSize)).") public var rnnSize: Int?
    @Option(help: "Number of layers (default \(defaultModel.numLayers)).") public var numLayers: Int?
    @Option(help: "0: one-hot input as char-rnn; >0: a learned embedding of this size (default \(defaultModel.embeddingSize)).")
    public var embeddingSize: Int?
    @Option(help: "Dropout on each layer's output, 0 to <1 (default \(shown(defaultModel.dropout))).") public var dropout: Double?

    // Optimisation.
    @Option(help: "rmsprop or adam (default \(defaultTrain.optimizer.rawValue)).") public var optimizer: OptimizerKind?
    @Option(help: "Learning rate (default \(shown(defaultTrain.learningRate))).") public var learningRate: Double?
    @Option(help: "Multiply the learning rate by this each epoch after --learning-rate-decay-after (default \(shown(defaultTrain.learningRateDecay))).")
    public var learningRateDecay: Double?
    @Option(help: "Epochs before the learning rate starts to decay (default \(shown(defaultTrain.learningRateDecayAfter))).")
    public var learningRateDecayAfter: Double?
    @Option(help: "RMSprop decay rate (default \(shown(defaultTrain.decayRate))).") public var decayRate: Double?
    @Option(help: "Clip each gradient element to ±this (default \(shown(defaultTrain.gradClip))).") public var gradClip: Double?
    @Option(help: "Characters per sequence: steps of back-propagation through time (default \(defaultTrain.seqLength)).")
    public var seqLength: Int?
    @Option(help: "Parallel sequences per minibatch (default \(defaultTrain.batchSize)).") public var batchSize: Int?
    @Option(help: "Epochs to train (default \(shown(defaultTrain.maxEpochs))).") public var maxEpochs: Double?
    @Option(help: "Stop after this many iterations in total.") public var maxIterations: Int?
    @Option(help: "Stop cleanly after this many seconds of this run, saving a checkpoint.") public var maxSeconds: Double?

    // Data.
    @Option(help: "Share of minibatches for training (default \(shown(defaultTrain.trainFrac))).") public var trainFrac: Double?
    @Option(help: "Share of minibatches for validation (default \(shown(defaultTrain.valFrac))).") public var valFrac: Double?
    @Option(help: "Train on DIR/input.txt, caching its encoding as DIR/input.tokens.") public var dataDir: String?
    @Flag(help: "Model text as raw bytes instead of UTF-8 characters (any file, any encoding).") public var bytes = false
    @Option(help: "Text symbols not in the vocabulary of the --resume/--init-from checkpoint: error, skip, or replace:C.")
    public var unknown: UnknownOption = .error

    // Bookkeeping.
    @Option(name: [.customShort("o"), .customLong("checkpoint-dir")], help: "Folder for checkpoints (default \(defaultTrain.checkpointDir)).")
    public var checkpointDir: String?
    @Option(help: "Name inside checkpoint file names (default: the model, e.g. lstm).") public var savefile: String?
    @Option(help: "Validate and save a checkpoint every N iterations (default \(defaultTrain.evalValEvery)).") public var evalValEvery: Int?
    @Option(help: "Report the training loss every N iterations (default \(defaultTrain.printEvery)).") public var printEvery: Int?
    @Option(help: "Keep only the best N checkpoints by val loss, plus the latest; older runs' checkpoints of the same savefile in the folder count too.")
    public var keep: Int?
    @Option(help: "Random seed (default \(defaultTrain.seed)).") public var seed: UInt64?
    @Option(help: "Write JSON lines of metrics to FILE (- for stdout).") public var metrics: String?
    @Option(help: "Print a short sample on stderr every N iterations.") public var sampleEvery: Int?
    @Option(help: "Length of those samples.") public var sampleLength: Int = 200

    // Starting points.
    @Option(help: "Start from this checkpoint's weights with a new optimiser (a folder: its best).") public var initFrom: String?
    @Option(help: "Continue this checkpoint's run exactly: weights, optimiser, position, RNG (a folder: its newest).") public var resume: String?

    @Option(help: "When a checkpoint cannot be written (disk full): stop (saving nothing worse) or continue training.")
    public var onWriteError: WriteErrorPolicy = .stop

    public init() {}

    public func validate() throws {
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
        if (trainFrac ?? defaultTrain.trainFrac) + (valFrac ?? defaultTrain.valFrac) > 1 + 1e-9 {
            throw ValidationError("--train-frac plus --val-frac must be at most 1.")
        }
        if sampleLength < 1 { throw ValidationError("--sample-length must be at least 1.") }
        if initFrom != nil && resume != nil { throw ValidationError("give --init-from or --resume, not both.") }
        if let s = savefile, s.isEmpty || s.contains("/") { throw ValidationError("--savefile must be a plain name (got '\(s)').") }
    }

    /// The core's view of the flags.
    public func flags(threads: Int) -> TrainFlags {
        var f = TrainFlags()
        f.model = model; f.rnnSize = rnnSize; f.numLayers = numLayers; f.embeddingSize = embeddingSize; f.dropout = dropout
        f.optimizer = optimizer; f.learningRate = learningRate; f.learningRateDecay = learningRateDecay
        f.learningRateDecayAfter = learningRateDecayAfter; f.decayRate = decayRate; f.gradClip = gradClip
        f.seqLength = seqLength; f.batchSize = batchSize; f.maxEpochs = maxEpochs; f.maxIterations = maxIterations
        f.maxSeconds = maxSeconds; f.trainFrac = trainFrac; f.valFrac = valFrac; f.checkpointDir = checkpointDir
        f.savefile = savefile; f.evalValEvery = evalValEvery; f.printEvery = printEvery; f.keep = keep; f.seed = seed
        f.threads = threads; f.initFrom = initFrom; f.resume = resume
        return f
    }
}

/// How a run ended, told on stderr by rank 0; the error to exit with.
public enum TrainEnding {
    /// `resume` gives the command that continues from a checkpoint.
    public static func report(_ outcome: TrainOutcome, trainer: Trainer, isRoot: Bool, resume: (String) -> String,
                              reporter: ConsoleTrainReporter) -> Error? {
        if !isRoot {
            switch outcome {
            case _ where trainer.lastSaveFailed: return PeerStop(.failure)
            case .interrupted(let signal): return PeerStop(.signal(signal))
            case .diverged: return PeerStop(.failure)
            case .finished, .timeBudget: return nil
            }
        }
        let last = trainer.lastCheckpoint ?? "(none)"
        if trainer.lastSaveFailed {
            return CharRNNError("training ended but its last checkpoint could not be written (\(trainer.writeErrors) failed writes); the newest saved one is \(last)",
                                hint: "free some disk space and --resume from it")
        }
        let it = trainer.progress.iteration
        switch outcome {
        case .finished:
            reporter.info("done: \(it) iteration\(it == 1 ? "" : "s"); best val_loss \(trainer.progress.bestValLoss.map { fixed($0, 4) } ?? "?"); last checkpoint \(last)")
            return nil
        case .timeBudget:
            reporter.info("stopped after --max-seconds at iteration \(it); continue with: \(resume(last))")
            return nil
        case .interrupted(let signal):
            if trainer.lastCheckpoint == nil {
                printError("rnn-train: interrupted before the first iteration; nothing to save")
            } else {
                printError("rnn-train: interrupted at iteration \(it); saved \(last); continue with: \(resume(last))")
            }
            return ExitCode(128 + signal)
        case .diverged(let why):
            return CharRNNError("training stopped: \(why)" + (trainer.lastCheckpoint.map { "; checkpoints saved before it are kept (last: \($0))" } ?? "; no checkpoint was written"),
                                hint: "try a lower --learning-rate (e.g. \(shortNumber(trainer.options.learningRate / 2))) or --grad-clip")
        }
    }
}
