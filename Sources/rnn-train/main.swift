// rnn-train: train a character-level LSTM/GRU/RNN on a tokens file and
// write checkpoints (char-rnn's train.lua).
import ArgumentParser
import CharRNNCLI
import CharRNNCore
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
    @OptionGroup var train: TrainArguments
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if train.dataDir != nil && tokens != nil { throw ValidationError("give a tokens file or --data-dir, not both.") }
    }

    /// What to give again to continue the run.
    var dataArgument: String { train.dataDir.map { "--data-dir \($0)" } ?? tokens ?? "-" }

    func run() throws {
        try common.apply(tool: "rnn-train", blasThreads: 1)  // the network splits its work over --threads
        let engine = try deviceOptions.engine()   // an unavailable device fails here, before any work
        // Under mpirun: one process of a data-parallel run (rank 0 reports).
        let group = try ProcessEnvironment.mpiGroup(tool: "rnn-train")
        let isRoot = (group?.rank ?? 0) == 0
        if let group, group.rank > 0 { Tool.processRank = group.rank }
        if let group, group.size > 1, train.dataDir == nil, tokens == nil || tokens == "-" {
            throw CharRNNError("under mpirun every process reads the tokens itself, and only rank 0 gets stdin",
                               hint: "give a tokens file (rnn-encode -o FILE) or --data-dir, on every node")
        }
        let reporter = isRoot ? ConsoleTrainReporter(quiet: common.quiet, terminal: isTerminal(2), metrics: try openMetrics())
                              : ConsoleTrainReporter(quiet: true, terminal: false, metrics: nil)
        defer { reporter.finish() }

        let (data, dataName) = try train.dataDir.map { try Corpus.load(dataDir: $0, writeCache: isRoot, encoding: reporter.info) }
            ?? (try TokensFile.read(path: tokens), tokens.flatMap { $0 == "-" ? nil : $0 } ?? "stdin")
        let plan = try RunPlan(flags: train.flags(threads: common.threadCount), vocab: data.vocab, dataName: dataName)
        let (config, opts) = (plan.config, plan.options)
        try checkMemory(config: config, options: opts, tokens: data.tokens.count, onHost: deviceOptions.device == .cpu)
        let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: dataName, options: opts,
                                  params: plan.startParams, resume: plan.resume, engine: engine, group: group,
                                  kernels: ProcessEnvironment.kernelOptions, reporter: reporter)
        try trainer.checkProcessesAgree()
        if let s = train.sampleEvery, isRoot { trainer.sampleEvery = s; trainer.sampleLength = train.sampleLength }
        trainer.continueOnWriteError = train.onWriteError == .continue
        // One run per checkpoint folder and savefile at a time (rank 0
        // writes for a multi-process run).
        var lock: RunLock? = nil
        if isRoot {
            try makeDirectory(opts.checkpointDir)
            lock = try RunLock(directory: opts.checkpointDir, savefile: opts.savefile)
        }
        defer { lock?.release() }
        if let r = plan.resume, let lr = train.learningRate, lr != r.progress.learningRate { trainer.progress.learningRate = lr }
        let loader = trainer.loader
        reporter.info("vocab size: \(data.vocab.count) (\(data.vocab.unit == .byte ? "bytes" : "characters")), \(data.tokens.count) tokens")
        reporter.info("model: \(config.description), dropout \(config.dropout), \(ParamLayout(config).total) parameters")
        if deviceOptions.device != .cpu { reporter.info("device: \(engine.label)") }
        if common.verbose, let cpu = trainer.backend as? CPUTrainingBackend {
            for line in cpu.plan.notes { printError("rnn-train: \(line)") }
        }
        if let group, group.size > 1 {
            reporter.info("processes: \(group.size) (MPI), \(trainer.rows.count) of the \(opts.batchSize) streams and \(opts.threads) thread\(opts.threads == 1 ? "" : "s") each")
        }
        reporter.info("data: \(loader.batches) minibatches of \(opts.batchSize)×\(opts.seqLength): train \(loader.ntrain), val \(loader.nval), test \(loader.ntest)")
        if let r = plan.resume { reporter.info("resuming at iteration \(r.progress.iteration) (epoch \(fixed(r.progress.epoch, 2)))") }
        reporter.info("training for \(trainer.totalIterations) iterations, checkpoints in \(opts.checkpointDir)/")

        charrnn_install_stop_handlers()
        let outcome = try trainer.run()
        reporter.finish()
        // Report first (mpirun may end the processes soon after a signal),
        // then end MPI: every process ends the run at the same iteration.
        let ending = TrainEnding.report(outcome, trainer: trainer, isRoot: isRoot, data: dataArgument, reporter: reporter)
        group?.finalize()
        if let ending { throw ending }
    }

    func openMetrics() throws -> ByteSink? {
        guard let metrics = train.metrics else { return nil }
        if metrics == "-" { return FileSink.standardOutput() }
        return try FileSink.append(path: metrics, purpose: "metrics")
    }
}

Tool.main(RnnTrain.self, name: "rnn-train")
