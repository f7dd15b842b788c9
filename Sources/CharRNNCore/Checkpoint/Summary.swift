// What rnn-ckpt lists: a checkpoint's metadata read without its weights,
// and finding checkpoints in folders.
#if canImport(Glibc)
import Glibc
#endif

public struct CheckpointSummary {
    public var path: String
    public var config: ModelConfig
    public var vocab: Vocab
    public var options: TrainOptions
    public var progress: Progress
    public var history: History
    public var fileSize: Int
    public var hasOptimizer: Bool
    public var hasCarriedState: Bool
    public var parameters: Int
    /// The data it was trained on, when recorded.
    public var data: DataRecord?
    /// Modification time (seconds since the epoch).
    public var modified: Double

    /// Reads the header only (fast for big checkpoints).
    public init(path: String) throws {
        let file = try TensorFile.readHeader(path: path, expectFormat: TensorFile.checkpointFormat)
        func meta(_ key: String) throws -> JSONValue {
            guard let text = file.meta(key), let json = try? JSONValue.parse(text) else {
                throw CharRNNError("\(path): the checkpoint's '\(key)' metadata is missing or invalid", hint: "the checkpoint is corrupt")
            }
            return json
        }
        guard let vocabText = file.meta("vocab") else {
            throw CharRNNError("\(path): the checkpoint has no vocab", hint: "the checkpoint is corrupt")
        }
        self.path = path
        vocab = try Vocab.parse(vocabText, name: "\(path) (embedded vocab)")
        config = try ModelConfig(json: meta("config"), name: path)
        options = TrainOptions(json: (try? meta("train")) ?? .object([]))
        progress = file.meta("progress") != nil ? try Progress(json: meta("progress"), name: path) : Progress()
        history = file.meta("history") != nil ? History(json: try meta("history")) : History()
        data = file.meta("data").flatMap { try? JSONValue.parse($0) }.flatMap(DataRecord.init(json:))
        var st = stat()
        let found = stat(path, &st) == 0
        fileSize = found ? Int(st.st_size) : 0
        modified = found ? Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9 : 0
        hasOptimizer = file.tensors.contains { $0.name.hasPrefix("optim.") }
        hasCarriedState = file.tensors.contains { $0.name.hasPrefix("state.") }
        // The config's sizes are data: every weight they imply must be in the
        // header with that shape and F32, before any layout arithmetic.
        let dtypes = Dictionary(file.tensors.map { ($0.name, $0.tensor.dtype) }, uniquingKeysWith: { a, _ in a })
        try config.forEachWeight(name: path) { name, shape in
            guard let found = file.headerShapes[name] else {
                throw CharRNNError("\(path): the checkpoint is missing '\(name)'", hint: "the checkpoint is corrupt or incomplete")
            }
            if found != shape || dtypes[name] != .F32 {
                throw CharRNNError("\(path): '\(name)' is \(dtypes[name]?.rawValue ?? "?") \(found), expected F32 \(shape)",
                                   hint: "the checkpoint does not match its config")
            }
        }
        parameters = ParamLayout(config).total
    }

    /// The losses and the model's size against its training characters
    /// (nil when the checkpoint does not record its data).
    public var fitReport: FitReport? {
        guard let tokens = data?.tokens else { return nil }
        return Advice.diagnose(history: history, parameters: parameters,
                               trainingCharacters: Advice.trainingCharacters(tokens: tokens, options: options), config: config)
    }

    public var trainLoss: Double? { progress.trainLoss }
    public var valLoss: Double? { progress.valLoss }

    /// The record for --json.
    public var json: JSONValue {
        let bits = 1 / ln2
        return .object([
            ("path", .string(path)),
            ("model", .string(config.cell.rawValue)),
            ("num_layers", .int(config.numLayers)),
            ("rnn_size", .int(config.rnnSize)),
            ("embedding_size", .int(config.embeddingSize)),
            ("dropout", .double(config.dropout)),
            ("parameters", .int(parameters)),
            ("vocab_size", .int(vocab.count)),
            ("unit", .string(vocab.unit.rawValue)),
            ("iteration", .int(progress.iteration)),
            ("epoch", .double(progress.epoch)),
            ("train_loss", progress.trainLoss.map { .double($0) } ?? .null),
            ("train_bits_per_char", progress.trainLoss.map { .double($0 * bits) } ?? .null),
            ("val_loss", progress.valLoss.map { .double($0) } ?? .null),
            ("val_bits_per_char", progress.valLoss.map { .double($0 * bits) } ?? .null),
            ("best_val_loss", progress.bestValLoss.map { .double($0) } ?? .null),
            ("learning_rate", .double(progress.learningRate)),
            ("file_size", .int(fileSize)),
            ("optimizer_state", .bool(hasOptimizer)),
            ("train_options", options.json),
            ("data", data?.json ?? .null),
            ("training_characters", fitJSON.characters),
            ("mean_train_loss", fitJSON.meanTrain),
            ("advice", fitJSON.advice),
        ])
    }

    var fitJSON: (characters: JSONValue, meanTrain: JSONValue, advice: JSONValue) {
        guard let r = fitReport else { return (.null, .null, .null) }
        let mean: JSONValue = r.meanTrainLoss.map { JSONValue.double($0) } ?? .null
        return (.int(r.trainingCharacters), mean, .array(r.advice.map { JSONValue.string($0) }))
    }
}

/// Checkpoints named by the arguments: files as given, folders searched
/// for *.ckpt (not recursively). Missing paths are errors.
public func findCheckpoints(_ args: [String]) throws -> [String] {
    var found: [String] = []
    for arg in args {
        var st = stat()
        guard stat(arg, &st) == 0 else {
            throw CharRNNError("\(arg): no such file or folder", hint: "give checkpoint files or folders of them (default cv)")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let dir = arg.hasSuffix("/") && arg.count > 1 ? String(arg.dropLast()) : arg
            found += listDirectory(dir).filter { $0.hasSuffix(".ckpt") }.map { dir + "/" + $0 }
        } else {
            found.append(arg)
        }
    }
    return found
}

/// The summaries of the checkpoints named (default cv), best validation loss
/// first; the files that cannot be read are left out and returned as errors.
public func checkpointSummaries(_ paths: [String]) throws -> (summaries: [CheckpointSummary], skipped: [CharRNNError]) {
    var out: [CheckpointSummary] = []
    var skipped: [CharRNNError] = []
    for f in try findCheckpoints(paths.isEmpty ? ["cv"] : paths) {
        do { out.append(try CheckpointSummary(path: f)) } catch let e as CharRNNError { skipped.append(e) }
    }
    return (out.sorted { ($0.valLoss ?? .infinity, $0.path) < ($1.valLoss ?? .infinity, $1.path) }, skipped)
}
