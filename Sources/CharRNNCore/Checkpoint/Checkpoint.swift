// Checkpoints: weights under PyTorch's names (float32), optimiser state,
// carried hidden state, and JSON metadata (config, train options,
// progress, history) in one tensor file. See charrnn-files(5).

/// Every training option, as saved in a checkpoint's `train` metadata.
public struct TrainOptions: Equatable, Sendable {
    public var optimizer: OptimizerKind = .rmsprop
    public var learningRate: Double = 2e-3
    public var learningRateDecay: Double = 0.97
    public var learningRateDecayAfter: Double = 10
    public var decayRate: Double = 0.95
    public var gradClip: Double = 5
    public var seqLength = 50
    public var batchSize = 50
    public var maxEpochs: Double = 50
    public var maxIterations: Int? = nil
    public var maxSeconds: Double? = nil
    public var trainFrac: Double = 0.95
    public var valFrac: Double = 0.05
    public var checkpointDir = "cv"
    public var savefile = "lstm"
    public var evalValEvery = 1000
    public var printEvery = 1
    public var keep: Int? = nil
    public var seed: UInt64 = 123
    public var threads = 1

    public init() {}

    public var json: JSONValue {
        var m: [(String, JSONValue)] = [
            ("optimizer", .string(optimizer.rawValue)),
            ("learning_rate", .double(learningRate)),
            ("learning_rate_decay", .double(learningRateDecay)),
            ("learning_rate_decay_after", .double(learningRateDecayAfter)),
            ("decay_rate", .double(decayRate)),
            ("grad_clip", .double(gradClip)),
            ("seq_length", .int(seqLength)),
            ("batch_size", .int(batchSize)),
            ("max_epochs", .double(maxEpochs)),
        ]
        m.append(("max_iterations", maxIterations.map { .int($0) } ?? .null))
        m.append(("max_seconds", maxSeconds.map { .double($0) } ?? .null))
        m += [
            ("train_frac", .double(trainFrac)),
            ("val_frac", .double(valFrac)),
            ("checkpoint_dir", .string(checkpointDir)),
            ("savefile", .string(savefile)),
            ("eval_val_every", .int(evalValEvery)),
            ("print_every", .int(printEvery)),
            ("keep", keep.map { .int($0) } ?? .null),
            ("seed", .number(String(seed))),
            ("threads", .int(threads)),
        ]
        return .object(m)
    }

    /// Reads options saved in a checkpoint; missing keys keep defaults.
    public init(json: JSONValue) {
        if let s = json["optimizer"]?.stringValue, let k = OptimizerKind(rawValue: s) { optimizer = k }
        if let v = json["learning_rate"]?.doubleValue { learningRate = v }
        if let v = json["learning_rate_decay"]?.doubleValue { learningRateDecay = v }
        if let v = json["learning_rate_decay_after"]?.doubleValue { learningRateDecayAfter = v }
        if let v = json["decay_rate"]?.doubleValue { decayRate = v }
        if let v = json["grad_clip"]?.doubleValue { gradClip = v }
        if let v = json["seq_length"]?.intValue { seqLength = v }
        if let v = json["batch_size"]?.intValue { batchSize = v }
        if let v = json["max_epochs"]?.doubleValue { maxEpochs = v }
        maxIterations = json["max_iterations"]?.intValue
        maxSeconds = json["max_seconds"]?.doubleValue
        if let v = json["train_frac"]?.doubleValue { trainFrac = v }
        if let v = json["val_frac"]?.doubleValue { valFrac = v }
        if let v = json["checkpoint_dir"]?.stringValue { checkpointDir = v }
        if let v = json["savefile"]?.stringValue { savefile = v }
        if let v = json["eval_val_every"]?.intValue { evalValEvery = v }
        if let v = json["print_every"]?.intValue { printEvery = v }
        keep = json["keep"]?.intValue
        if case let .number(n)? = json["seed"], let v = UInt64(n) { seed = v }
        if let v = json["threads"]?.intValue { threads = v }
    }
}

/// Where training stands, enough to continue exactly.
public struct Progress: Equatable, Sendable {
    public var iteration = 0
    public var epoch = 0.0
    public var dataPosition = 0          // next train minibatch within the epoch
    public var learningRate = 2e-3
    public var bestValLoss: Double? = nil
    public var firstLoss: Double? = nil
    public var trainLoss: Double? = nil
    public var valLoss: Double? = nil
    public var rng = RNG(seed: 123)
    public var optimizerStep = 0

    public init() {}

    public var json: JSONValue {
        .object([
            ("iteration", .int(iteration)),
            ("epoch", .double(epoch)),
            ("data_position", .int(dataPosition)),
            ("learning_rate", .double(learningRate)),
            ("best_val_loss", bestValLoss.map { .double($0) } ?? .null),
            ("first_loss", firstLoss.map { .double($0) } ?? .null),
            ("train_loss", trainLoss.map { .double($0) } ?? .null),
            ("val_loss", valLoss.map { .double($0) } ?? .null),
            ("rng", .array(rng.stateArray.map { .string(String($0)) })),
            ("optimizer_step", .int(optimizerStep)),
        ])
    }

    public init(json: JSONValue, name: String) throws {
        func bad(_ key: String) -> CharRNNError {
            CharRNNError("\(name): checkpoint progress has no valid '\(key)'", hint: "the checkpoint is corrupt")
        }
        guard let it = json["iteration"]?.intValue, it >= 0 else { throw bad("iteration") }
        iteration = it
        epoch = json["epoch"]?.doubleValue ?? 0
        dataPosition = json["data_position"]?.intValue ?? 0
        guard let lr = json["learning_rate"]?.doubleValue else { throw bad("learning_rate") }
        learningRate = lr
        bestValLoss = json["best_val_loss"]?.doubleValue
        firstLoss = json["first_loss"]?.doubleValue
        trainLoss = json["train_loss"]?.doubleValue
        valLoss = json["val_loss"]?.doubleValue
        guard let words = json["rng"]?.arrayValue, words.count == 4 else { throw bad("rng") }
        let values = words.compactMap { $0.stringValue.flatMap { UInt64($0) } }
        guard values.count == 4 else { throw bad("rng") }
        rng = RNG(state: values)
        optimizerStep = json["optimizer_step"]?.intValue ?? 0
    }
}

/// Loss history: (iteration, loss) pairs.
public struct History: Equatable, Sendable {
    public var train: [(Int, Double)] = []
    public var val: [(Int, Double)] = []

    public init() {}

    public static func == (a: History, b: History) -> Bool {
        a.train.elementsEqual(b.train, by: ==) && a.val.elementsEqual(b.val, by: ==)
    }

    public var json: JSONValue {
        func pairs(_ p: [(Int, Double)]) -> JSONValue {
            .array(p.map { .array([.int($0.0), .number(fixed($0.1, 6))]) })
        }
        return .object([("train", pairs(train)), ("val", pairs(val))])
    }

    public init(json: JSONValue) {
        func pairs(_ v: JSONValue?) -> [(Int, Double)] {
            (v?.arrayValue ?? []).compactMap { item in
                guard let a = item.arrayValue, a.count >= 2, let i = a[0].intValue, let l = a[1].doubleValue else { return nil }
                return (i, l)
            }
        }
        train = pairs(json["train"])
        val = pairs(json["val"])
    }
}


public struct Checkpoint {
    public var config: ModelConfig
    public var vocab: Vocab
    public var params: [Float]
    public var optimizer: Optimizer?
    public var options: TrainOptions
    public var progress: Progress
    public var history: History
    /// Carried hidden state per layer (batch × rnn size); LSTM cell too.
    public var stateH: [[Float]]
    public var stateC: [[Float]]
    /// The data the run last trained on (nil in checkpoints from before
    /// it was recorded).
    public var data: DataRecord?

    public init(config: ModelConfig, vocab: Vocab, params: [Float], optimizer: Optimizer?, options: TrainOptions,
                progress: Progress, history: History, stateH: [[Float]], stateC: [[Float]], data: DataRecord? = nil) {
        self.data = data
        self.config = config
        self.vocab = vocab
        self.params = params
        self.optimizer = optimizer
        self.options = options
        self.progress = progress
        self.history = history
        self.stateH = stateH
        self.stateC = stateC
    }

    public var layout: ParamLayout { ParamLayout(config) }

    public var tensorFile: TensorFile {
        var tensors: [(name: String, tensor: Tensor)] = []
        let layout = self.layout
        for view in layout.views {
            tensors.append((view.name, Tensor(floats: Array(params[view.offset..<(view.offset + view.count)]), shape: view.shape)))
        }
        if let optimizer {
            for (s, slot) in optimizer.kind.slots.enumerated() {
                for view in layout.views {
                    tensors.append(("optim.\(view.name).\(slot)",
                                    Tensor(floats: Array(optimizer.state[s][view.offset..<(view.offset + view.count)]), shape: view.shape)))
                }
            }
        }
        let batch = stateH.first.map { $0.count / config.rnnSize } ?? 0
        for k in 0..<stateH.count {
            tensors.append(("state.h_l\(k)", Tensor(floats: stateH[k], shape: [batch, config.rnnSize])))
            if config.cell == .lstm {
                tensors.append(("state.c_l\(k)", Tensor(floats: stateC[k], shape: [batch, config.rnnSize])))
            }
        }
        var metadata = [
            ("format", TensorFile.checkpointFormat),
            ("vocab", vocab.tsv),
            ("config", config.json.text),
            ("train", options.json.text),
            ("progress", progress.json.text),
            ("history", history.json.text),
        ]
        if let data { metadata.append(("data", data.json.text)) }
        return TensorFile(tensors: tensors, metadata: metadata)
    }

    /// Writes atomically; a failure leaves no file under `path`.
    public func save(to path: String) throws {
        try tensorFile.write(toPath: path)
    }

    public static func load(path: String) throws -> Checkpoint {
        let source = try FileSource.open(path)
        let file = try TensorFile.read(from: source, name: source.name, expectFormat: TensorFile.checkpointFormat)
        return try Checkpoint(file: file, name: source.name)
    }

    public init(file: TensorFile, name: String) throws {
        func meta(_ key: String) throws -> JSONValue {
            guard let text = file.meta(key) else {
                throw CharRNNError("\(name): the checkpoint has no '\(key)' metadata", hint: "the checkpoint is corrupt or not from charrnn")
            }
            do { return try JSONValue.parse(text) } catch {
                throw CharRNNError("\(name): the checkpoint's '\(key)' metadata is not valid JSON", hint: "the checkpoint is corrupt")
            }
        }
        guard let vocabText = file.meta("vocab") else {
            throw CharRNNError("\(name): the checkpoint has no vocab", hint: "the checkpoint is corrupt or not from charrnn")
        }
        vocab = try Vocab.parse(vocabText, name: "\(name) (embedded vocab)")
        config = try ModelConfig(json: meta("config"), name: name)
        if config.vocabSize != vocab.count {
            throw CharRNNError("\(name): config says vocab_size \(config.vocabSize) but the vocab has \(vocab.count) symbols",
                               hint: "the checkpoint is corrupt")
        }
        options = TrainOptions(json: (try? meta("train")) ?? .object([]))
        progress = file.meta("progress") != nil ? try Progress(json: meta("progress"), name: name) : Progress()
        history = file.meta("history") != nil ? History(json: try meta("history")) : History()
        data = file.meta("data").flatMap { try? JSONValue.parse($0) }.flatMap(DataRecord.init(json:))
        func weight(_ tensorName: String, shape: [Int]) throws -> Tensor {
            guard let t = file[tensorName] else {
                throw CharRNNError("\(name): the checkpoint is missing '\(tensorName)'", hint: "the checkpoint is corrupt or incomplete")
            }
            guard t.dtype == .F32, t.shape == shape else {
                throw CharRNNError("\(name): '\(tensorName)' is \(t.dtype.rawValue) \(t.shape), expected F32 \(shape)",
                                   hint: "the checkpoint does not match its config")
            }
            return t
        }
        func floats(_ tensorName: String, shape: [Int]) throws -> [Float] {
            try weight(tensorName, shape: shape).floats()
        }
        // The config's sizes are data: check that every weight they imply is
        // in the file before the layout multiplies them or anything is
        // allocated, so a corrupt config is an error, not an overflow trap
        // or a request for terabytes (see FuzzRegressionTests).
        try config.forEachWeight(name: name) { tensorName, shape in _ = try weight(tensorName, shape: shape) }
        let layout = ParamLayout(config)
        var p = [Float](repeating: 0, count: layout.total)
        for view in layout.views {
            let values = try floats(view.name, shape: view.shape)
            p.replaceSubrange(view.offset..<(view.offset + view.count), with: values)
        }
        params = p
        // Optimiser state, if present.
        if let kind = OptimizerKind.allCases.first(where: { k in file["optim.\(layout.views[0].name).\(k.slots[0])"] != nil }) {
            var opt = Optimizer(kind: kind, count: layout.total, decayRate: Float(options.decayRate))
            for (s, slot) in kind.slots.enumerated() {
                for view in layout.views {
                    let values = try floats("optim.\(view.name).\(slot)", shape: view.shape)
                    opt.state[s].replaceSubrange(view.offset..<(view.offset + view.count), with: values)
                }
            }
            opt.step = progress.optimizerStep
            optimizer = opt
        } else {
            optimizer = nil
        }
        var hs: [[Float]] = [], cs: [[Float]] = []
        if let first = file["state.h_l0"], first.shape.count == 2 {
            let shape = first.shape
            // Saving again lays the state out as batch × rnn_size.
            if shape[1] != config.rnnSize {
                throw CharRNNError("\(name): 'state.h_l0' has shape \(shape), expected [batch, \(config.rnnSize)]",
                                   hint: "the checkpoint does not match its config")
            }
            for k in 0..<config.numLayers {
                hs.append(try floats("state.h_l\(k)", shape: shape))
                cs.append(config.cell == .lstm ? try floats("state.c_l\(k)", shape: shape) : [Float](repeating: 0, count: shape[0] * shape[1]))
            }
        }
        stateH = hs
        stateC = cs
    }

    /// char-rnn's name: lm_<savefile>_epoch<E.EE>_<VALLOSS>.ckpt
    public static func fileName(savefile: String, epoch: Double, valLoss: Double) -> String {
        "lm_\(savefile)_epoch\(fixed(epoch, 2))_\(fixed(valLoss, 4)).ckpt"
    }
}

extension Checkpoint {
    /// The checkpoint file at `path` without its optimiser and carried
    /// state (rnn-ckpt strip): about half the size, for sampling. The whole
    /// file is checked first.
    public static func stripped(path: String) throws -> TensorFile {
        var file = try TensorFile.read(path: path, expectFormat: TensorFile.checkpointFormat)
        _ = try Checkpoint(file: file, name: path)
        file.tensors.removeAll { $0.name.hasPrefix("optim.") || $0.name.hasPrefix("state.") }
        return file
    }
}
