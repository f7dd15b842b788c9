// rnn-train's start: the checkpoint to start from, where the data comes
// from (a file, stdin, --data-dir, or — resuming at a terminal with none
// given — the file the checkpoint was trained on), the header it prints,
// and the command that continues the run.
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore

extension TrainArguments {
    /// The checkpoint --resume (a folder: its newest) or --init-from (a
    /// folder: its best) names, read.
    public func startCheckpoint() throws -> ChosenCheckpoint? {
        if let resume { return try chooseCheckpoint(resume, .latest) }
        if let initFrom { return try chooseCheckpoint(initFrom, .best) }
        return nil
    }
}

/// Where the training data comes from.
public struct TrainingSource {
    enum Place { case file(String), stdin, dataDir(String) }
    let place: Place
    let start: ChosenCheckpoint?
    let resuming: Bool
    /// Said on stderr when the data was found rather than given.
    public let note: String?

    public init(input: String?, dataDir: String?, start: ChosenCheckpoint?, resuming: Bool) throws {
        self.start = start
        self.resuming = resuming
        if let dataDir { (place, note) = (.dataDir(dataDir), nil); return }
        if let input, input != "-" { (place, note) = (.file(input), nil); return }
        guard input == nil, nothingPiped else {
            (place, note) = (.stdin, isTerminal(0) ? "reading text from the terminal; end it with Ctrl-D" : nil)
            return
        }
        // Nothing given and nothing piped in: a resumed run reads its data
        // again from where the checkpoint says it came from.
        if resuming, let start, let record = start.checkpoint.data {
            if let dir = record.dataDir, isDirectory(dir) {
                (place, note) = (.dataDir(dir), "training on the data \(start.path) was trained on: --data-dir \(dir)")
                return
            }
            if let file = record.source, Corpus.modificationTime(file) != nil {
                (place, note) = (.file(file), "training on the data \(start.path) was trained on: \(file)")
                return
            }
        }
        throw CharRNNError("no training data: none was given and nothing is piped in",
                           hint: "give a text file (rnn-train input.txt), pipe one in (cat input.txt | rnn-train), or use --data-dir DIR")
    }

    /// The data, encoded with the start checkpoint's vocabulary when it is
    /// text; warns when a resumed run's data is not what it trained on.
    public func load(unit: TextUnit?, start ckpt: Checkpoint?, unknown: UnknownOption, writeCache: Bool,
                     reporter: ConsoleTrainReporter) throws -> TrainingData {
        let policy = try unknown.policy(unit: ckpt?.vocab.unit ?? unit ?? .char)
        let vocabName = start?.path ?? "the checkpoint"
        let data: TrainingData
        switch place {
        case .dataDir(let dir):
            data = try Corpus.load(dataDir: dir, unit: unit ?? ckpt?.vocab.unit ?? .char, writeCache: writeCache, encoding: reporter.info)
        case .file(let path):
            data = try TrainingData.load(path: path, unit: unit, vocab: ckpt?.vocab, unknown: policy, vocabName: vocabName)
        case .stdin:
            data = try TrainingData.load(path: nil, unit: unit, vocab: ckpt?.vocab, unknown: policy, vocabName: vocabName)
        }
        if resuming, let start, let before = start.checkpoint.data, !before.sameData(as: data.record) {
            reporter.warning("\(data.name) is not the data \(start.path) was trained on (that was \(before.description); this is \(data.record.tokens) symbols): the run continues on this data — to start a new run from these weights instead, use --init-from \(start.path)")
        }
        return data
    }

    /// The command that continues the run from checkpoint `last`.
    public func continueCommand(_ last: String) -> String {
        let resume = "rnn-train --resume \(shellQuoted(last))"
        switch place {
        case .file(let path): return "\(resume) \(shellQuoted(path))"
        case .dataDir(let dir): return "\(resume) --data-dir \(shellQuoted(dir))"
        case .stdin: return "… | \(resume) (pipe in the same data as this run)"
        }
    }
}

/// stdin is a terminal or /dev/null: no data comes that way.
var nothingPiped: Bool {
    var st = stat()
    return isTerminal(0) || (fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
}

/// A word as the shell reads it back: quoted when it needs to be.
public func shellQuoted(_ word: String) -> String {
    let plain = word.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789-_./+=:,@%".unicodeScalars.contains($0) }
    if plain && !word.isEmpty { return word }
    return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}

/// What rnn-train says before it starts.
public struct RunHeader {
    let trainer: Trainer
    let plan: RunPlan
    let data: TrainingData
    let startPath: String?
    let flags: TrainArguments

    public init(trainer: Trainer, plan: RunPlan, data: TrainingData, startPath: String?, flags: TrainArguments) {
        self.trainer = trainer
        self.plan = plan
        self.data = data
        self.startPath = startPath
        self.flags = flags
    }

    /// The same, before the data is read, for a run that --max-iterations
    /// (given, or the run's own) has already ended.
    public static func checkNotFinished(start: ChosenCheckpoint?, flags: TrainArguments) throws {
        guard flags.resume != nil, let start, let limit = flags.maxIterations ?? start.checkpoint.options.maxIterations else { return }
        let it = start.checkpoint.progress.iteration
        guard it >= limit else { return }
        throw CharRNNError("\(start.path)'s run is already complete (iteration \(it), --max-iterations \(limit))",
                           hint: "to train it further raise the limit: rnn-train --resume \(shellQuoted(start.path)) --max-iterations \(it * 2)")
    }

    /// A resumed run that has already reached its end trains nothing: say
    /// so, and how to extend it.
    public static func checkNotFinished(trainer: Trainer, resumed: Checkpoint?, path: String) throws {
        guard resumed != nil, trainer.progress.iteration >= trainer.totalIterations else { return }
        let o = trainer.options, it = trainer.progress.iteration
        let byIterations = o.maxIterations.map { $0 <= it } ?? false
        let limit = byIterations ? "--max-iterations \(o.maxIterations!)" : "--max-epochs \(shown(o.maxEpochs))"
        let more = byIterations ? "--max-iterations \(it * 2)" : "--max-epochs \(shown(o.maxEpochs * 2))"
        throw CharRNNError("\(path)'s run is already complete (iteration \(it) of \(trainer.totalIterations), \(limit))",
                           hint: "to train it further raise the limit: rnn-train --resume \(shellQuoted(path)) \(more)")
    }

    public func lines(device: String?, group: Communicator?) -> [String] {
        let config = plan.config, o = plan.options, vocab = data.file.vocab
        var out: [String] = []
        out.append("vocab size: \(vocab.count) (\(vocab.unit == .byte ? "bytes" : "characters")), \(data.file.tokens.count) tokens")
        out.append("model: \(config.description), dropout \(config.dropout), \(ParamLayout(config).total) parameters")
        if let from = plan.initFrom, let startPath {
            let loss = from.progress.valLoss.map { ", val_loss \(fixed($0, 4))" } ?? ""
            let dropout = flags.dropout != nil ? "--dropout \(shown(config.dropout)) (it had \(shown(from.config.dropout)))"
                                               : "its dropout \(shown(config.dropout))"
            out.append("starting from the weights of \(startPath) (iteration \(from.progress.iteration)\(loss)) with a new optimiser and \(dropout)")
        }
        if let device { out.append("device: \(device)") }
        if let group, group.size > 1 {
            out.append("processes: \(group.size) (MPI), \(trainer.rows.count) of the \(o.batchSize) streams and \(o.threads) thread\(o.threads == 1 ? "" : "s") each")
        }
        let loader = trainer.loader
        out.append("data: \(loader.batches) minibatches of \(o.batchSize)×\(o.seqLength): train \(loader.ntrain), val \(loader.nval), test \(loader.ntest)")
        if let r = plan.resume { out.append("resuming at iteration \(r.progress.iteration) (epoch \(fixed(r.progress.epoch, 2)))") }
        let total = trainer.totalIterations, left = total - trainer.progress.iteration
        let epochs = Double(total) / Double(max(loader.ntrain, 1))
        var until = "training for \(left) iteration\(left == 1 ? "" : "s")"
        until += plan.resume != nil ? " more, to iteration \(total) (epoch \(fixed(epochs, 2)))" : " (\(fixed(epochs, 2)) epochs)"
        if let s = o.maxSeconds { until += " or \(formatDuration(s)) (--max-seconds), whichever comes first" }
        out.append(until + "; checkpoints in \(o.checkpointDir)/")
        return out
    }
}
