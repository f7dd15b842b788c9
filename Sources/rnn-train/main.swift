// rnn-train: train a character-level LSTM/GRU/RNN on text (or a tokens
// file) and write checkpoints (char-rnn's train.lua).
import ArgumentParser
import CharRNNCLI
import CharRNNCore
import CSupport

struct RnnTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-train",
        abstract: "Train a character-level language model and write checkpoints.",
        discussion: """
            Reads text (a file, or stdin when INPUT is - or absent) and encodes it on the \
            fly, or a tokens file from rnn-encode, or DIR/input.txt with --data-dir, and \
            writes checkpoints lm_<savefile>_epoch<E.EE>_<VALLOSS>.ckpt into the checkpoint \
            folder. Ctrl-C finishes the step, saves, and tells you how to --resume. Under \
            Open MPI's mpirun it trains one model data-parallel across the processes (rank 0 \
            writes). See rnn-train(1).
            """,
        version: Tool.version(of: "rnn-train"))

    @Argument(help: "Text, or a tokens file from rnn-encode (- or none: stdin).")
    var input: String?
    @OptionGroup var train: TrainArguments
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if train.dataDir != nil && input != nil { throw ValidationError("give a text file or --data-dir, not both.") }
    }

    func run() throws {
        try common.apply(tool: "rnn-train", blasThreads: 1)  // the network splits its work over --threads
        let engine = try deviceOptions.engine()   // an unavailable device fails here, before any work
        // Under mpirun: one process of a data-parallel run (rank 0 reports).
        let group = try ProcessEnvironment.mpiGroup(tool: "rnn-train")
        let isRoot = (group?.rank ?? 0) == 0
        if let group, group.rank > 0 { Tool.processRank = group.rank }
        if let group, group.size > 1, train.dataDir == nil, input == nil || input == "-" {
            throw CharRNNError("under mpirun every process reads the data itself, and only rank 0 gets stdin",
                               hint: "give a text or tokens file, or --data-dir, on every node")
        }
        let reporter = isRoot ? ConsoleTrainReporter(quiet: common.quiet, terminal: isTerminal(2), metrics: try openMetrics())
                              : ConsoleTrainReporter(quiet: true, terminal: false, metrics: nil)
        defer { reporter.finish() }

        // The checkpoint to start from (a folder: its latest for --resume,
        // its best for --init-from), then the data, in its vocabulary.
        let start = try train.startCheckpoint()
        if let note = start?.note { reporter.info(note) }
        if let start {   // the flags must suit the checkpoint, and its run must not be over, before data is read
            _ = try RunPlan(flags: train.flags(threads: 1), vocab: start.checkpoint.vocab, dataName: "", start: start.checkpoint,
                            startPath: start.path)
            try RunHeader.checkNotFinished(start: start, flags: train)
        }
        let source = try TrainingSource(input: input, dataDir: train.dataDir, start: start, resuming: train.resume != nil)
        if let note = source.note { reporter.info(note) }
        let data = try source.load(unit: train.bytes ? .byte : nil, start: start?.checkpoint, unknown: train.unknown,
                                   writeCache: isRoot, reporter: reporter)
        let plan = try RunPlan(flags: train.flags(threads: common.threadCount), vocab: data.file.vocab, dataName: data.name,
                               start: start?.checkpoint, startPath: start?.path)
        let (config, opts) = (plan.config, plan.options)
        try checkMemory(config: config, options: opts, tokens: data.file.tokens.count, onHost: deviceOptions.device == .cpu)
        let trainer = try Trainer(config: config, vocab: data.file.vocab, tokens: data.file.tokens, tokensName: data.name, options: opts,
                                  params: plan.startParams, resume: plan.resume, engine: engine, group: group,
                                  kernels: ProcessEnvironment.kernelOptions, reporter: reporter)
        try trainer.checkProcessesAgree()
        trainer.data = data.record
        if let s = train.sampleEvery, isRoot { trainer.sampleEvery = s; trainer.sampleLength = train.sampleLength }
        trainer.continueOnWriteError = train.onWriteError == .continue
        if let r = plan.resume, let lr = train.learningRate, lr != r.progress.learningRate { trainer.progress.learningRate = lr }
        try RunHeader.checkNotFinished(trainer: trainer, resumed: plan.resume, path: start?.path ?? "")
        // One run per checkpoint folder and savefile at a time (rank 0
        // writes for a multi-process run).
        var lock: RunLock? = nil
        if isRoot {
            try makeDirectory(opts.checkpointDir)
            lock = try RunLock(directory: opts.checkpointDir, savefile: opts.savefile)
        }
        defer { lock?.release() }
        let header = RunHeader(trainer: trainer, plan: plan, data: data, startPath: start?.path, flags: train)
        for line in header.lines(device: deviceOptions.device == .cpu ? nil : engine.label, group: group) { reporter.info(line) }
        if common.verbose, let cpu = trainer.backend as? CPUTrainingBackend {
            for line in cpu.plan.notes { printError("rnn-train: \(line)") }
        }
        reporter.startIteration = trainer.progress.iteration
        reporter.maxSeconds = opts.maxSeconds

        if isRoot {
            let newline = isTerminal(2) ? "\n" : ""
            charrnn_set_stop_messages(newline + "rnn-train: stopping: finishing this iteration and saving a checkpoint — Ctrl-C again to quit without saving\n",
                                      "rnn-train: quit without saving; the checkpoints already written are intact\n")
        }
        charrnn_install_stop_handlers()
        let outcome = try trainer.run()
        reporter.finish()
        // Report first (mpirun may end the processes soon after a signal),
        // then end MPI: every process ends the run at the same iteration.
        let ending = TrainEnding.report(outcome, trainer: trainer, isRoot: isRoot, resume: source.continueCommand,
                                        reporter: reporter)
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
