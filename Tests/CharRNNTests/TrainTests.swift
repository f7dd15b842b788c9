// Training: char-rnn's data split, optimisers, learning on a small corpus,
// exact resume, determinism, and the checkpoint's PyTorch names and shapes.
import XCTest
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI

final class SilentReporter: TrainReporter {
    var validations: [Double] = []
    var trainLosses: [Double] = []
    func info(_ line: String) {}
    func progress(iteration: Int, total: Int, epoch: Double, trainLoss: Double, learningRate: Double,
                  charsPerSecond: Double, seconds: Double) { trainLosses.append(trainLoss) }
    func validation(iteration: Int, total: Int, epoch: Double, valLoss: Double, learningRate: Double,
                    checkpoint: String, seconds: Double) { validations.append(valLoss) }
    func sample(iteration: Int, text: String) {}
    var warnings: [String] = []
    func warning(_ line: String) { warnings.append(line) }
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "charrnn-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A small corpus with learnable structure.
func syntheticCorpus(_ length: Int) -> TokensFile {
    let words = ["the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran ", "far. "]
    var rng = RNG(seed: 42)
    var text = ""
    while text.utf8.count < length { text += words[rng.below(words.count)] }
    let bytes = Array(text.utf8.prefix(length))
    return bytes.withUnsafeBufferPointer { buf in
        let vocab = try! Vocab.build(from: buf, unit: .char, name: "synthetic")
        return TokensFile(vocab: vocab, tokens: try! TokenCodec(vocab: vocab).encode(buf, name: "synthetic", unknown: .error))
    }
}

final class TrainTests: XCTestCase {
    func testLoaderSplitsAsCharRNN() throws {
        // 103 tokens, batch 2, seq 5: truncated to 100; 10 minibatches.
        let ids = (0..<103).map { UInt8($0 % 251) }
        let tensor = Tensor(dtype: .U8, shape: [103], bytes: ids)
        let loader = try Loader(tokens: tensor, batch: 2, seqLength: 5, trainFrac: 0.7, valFrac: 0.2, name: "t")
        XCTAssertEqual(loader.batches, 10)
        XCTAssertEqual([loader.ntrain, loader.nval, loader.ntest], [7, 2, 1])
        var x = [Int32](repeating: 0, count: 10), y = x
        loader.fill(batch: 1, inputs: &x, targets: &y)
        // Stream b covers tokens [b*50, (b+1)*50); minibatch 1 is columns 5..<10; time-major.
        XCTAssertEqual(x, [5, 55, 6, 56, 7, 57, 8, 58, 9, 59])
        XCTAssertEqual(y, [6, 56, 7, 57, 8, 58, 9, 59, 10, 60])
        loader.fill(batch: 9, inputs: &x, targets: &y)
        XCTAssertEqual(x[9], 99)
        XCTAssertEqual(y[9], 0, "the last target wraps to the first token")
        let all = try Loader(tokens: tensor, batch: 2, seqLength: 5, trainFrac: 0.75, valFrac: 0.25, name: "t")
        XCTAssertEqual([all.ntrain, all.nval, all.ntest], [7, 3, 0], "train+val >= 1: the rest is validation")
        XCTAssertThrowsError(try Loader(tokens: tensor, batch: 10, seqLength: 10, trainFrac: 0.95, valFrac: 0.05, name: "t")) { e in
            XCTAssertTrue("\(e)".contains("--batch-size"), "\(e)")
        }
    }

    func testOptimisersMatchHandComputedSteps() {
        var params: [Float] = [1, -2]
        let grads: [Float] = [0.5, -4]
        var rms = Optimizer(kind: .rmsprop, count: 2, decayRate: 0.95)
        var g1 = grads
        rms.update(params: &params, grads: &g1, count: 2, lr: 0.1)
        // m = 0.05 g²; x -= lr g / (sqrt(m) + eps)
        for (i, g) in grads.enumerated() {
            let m = 0.05 * Double(g) * Double(g)
            let expected = [1.0, -2.0][i] - 0.1 * Double(g) / (m.squareRoot() + 1e-8)
            XCTAssertEqual(Double(params[i]), expected, accuracy: 1e-5)
        }
        var p2: [Float] = [1, -2]
        var adam = Optimizer(kind: .adam, count: 2, decayRate: 0.95)
        var g2 = grads
        adam.update(params: &p2, grads: &g2, count: 2, lr: 0.1)
        // First Adam step moves each parameter by lr·sign(g) (up to eps).
        XCTAssertEqual(p2[0], 0.9, accuracy: 1e-5)
        XCTAssertEqual(p2[1], -1.9, accuracy: 1e-5)
        var g: [Float] = [-7, 3, 6]
        clipGradients(&g, count: 3, limit: 5)
        XCTAssertEqual(g, [-5, 3, 5])
    }

    /// An update split over threads, with the clip, equals the serial one
    /// bit for bit (every element on its own).
    func testOptimiserUpdateOverThreadsEqualsSerial() {
        var rng = RNG(seed: 8)
        let n = 1001
        let start = (0..<n).map { _ in Float(rng.uniform() - 0.5) }
        let grads = (0..<n).map { _ in Float(rng.uniform() * 20 - 10) }
        for kind in OptimizerKind.allCases {
            var results: [[Float]] = []
            for threads in [1, 3] {
                var opt = Optimizer(kind: kind, count: n, decayRate: 0.95)
                var p = start
                for _ in 0..<3 {
                    var g = grads
                    opt.update(params: &p, grads: &g, count: n, lr: 0.01, clip: 5, pool: WorkerPool(threads: threads))
                }
                results.append(p)
            }
            XCTAssertEqual(results[0], results[1], "\(kind)")
            XCTAssertNotEqual(results[0], start)
        }
    }

    func options(_ dir: String, cell: CellKind = .lstm) -> TrainOptions {
        var o = TrainOptions()
        o.batchSize = 8
        o.seqLength = 16
        o.checkpointDir = dir
        o.savefile = cell.rawValue
        o.evalValEvery = 100_000
        o.threads = 1
        return o
    }

    func testTrainingLearnsForEveryCellType() throws {
        let data = syntheticCorpus(20_000)
        for cell in CellKind.allCases {
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var o = options(dir, cell: cell)
            o.maxIterations = 300
            let config = ModelConfig(cell: cell, rnnSize: 48, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: data.vocab.count)
            let reporter = SilentReporter()
            let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "synthetic",
                                      options: o, reporter: reporter)
            let first = try trainer.validationLoss()
            XCTAssertEqual(try trainer.run(), .finished)
            let last = reporter.validations.last!
            // Uniform over the vocabulary is ln(V) ≈ 2.8 nats; the words make
            // it far more predictable (their letters are almost determined).
            XCTAssertGreaterThan(first, 2.5, "\(cell)")
            XCTAssertLessThan(last, 1.2, "\(cell): val loss after 300 iterations")
            XCTAssertEqual(listDirectory(dir).filter { $0.hasSuffix(".ckpt") }.count, 1)
        }
    }

    func runTrainer(_ data: TokensFile, _ o: TrainOptions, config: ModelConfig, resume: Checkpoint? = nil) throws -> Trainer {
        let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "synthetic",
                                  options: o, resume: resume, reporter: SilentReporter())
        _ = try trainer.run()
        return trainer
    }

    func testResumeIsBitIdentical() throws {
        let data = syntheticCorpus(6_000)
        for (optimizer, cell) in [(OptimizerKind.rmsprop, CellKind.lstm), (.adam, .gru)] {
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var o = options(dir, cell: cell)
            o.optimizer = optimizer
            o.learningRateDecayAfter = 0.5   // make the decay happen inside the run
            o.learningRateDecay = 0.9
            o.evalValEvery = 7
            let config = ModelConfig(cell: cell, rnnSize: 24, numLayers: 2, embeddingSize: 0, dropout: 0.2, vocabSize: data.vocab.count)
            var straight = o
            straight.maxIterations = 60
            let a = try runTrainer(data, straight, config: config)
            var half = o
            half.maxIterations = 30
            let b1 = try runTrainer(data, half, config: config)
            let saved = try Checkpoint.load(path: b1.lastCheckpoint!)
            XCTAssertEqual(saved.progress.iteration, 30)
            var rest = saved.options
            rest.maxIterations = 60
            let b2 = try runTrainer(data, rest, config: saved.config, resume: saved)
            XCTAssertEqual(b2.progress.iteration, 60)
            XCTAssertEqual(a.params, b2.params, "\(optimizer)/\(cell): weights after resume must be bit-identical")
            XCTAssertEqual(a.optimizer.state, b2.optimizer.state)
            XCTAssertEqual(a.progress.learningRate, b2.progress.learningRate)
            XCTAssertLessThan(a.progress.learningRate, o.learningRate, "decay happened")
        }
    }

    func testSameSeedSameCheckpointBytes() throws {
        let data = syntheticCorpus(4_000)
        var files: [[UInt8]] = []
        // The same folder both times: its path is one of the saved options.
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for _ in 0..<2 {
            try? FileManager.default.removeItem(atPath: dir)
            var o = options(dir)
            o.maxIterations = 12
            let config = ModelConfig(cell: .lstm, rnnSize: 16, numLayers: 2, embeddingSize: 4, dropout: 0.3, vocabSize: data.vocab.count)
            let t = try runTrainer(data, o, config: config)
            files.append(try FileSource.open(t.lastCheckpoint!).readAll())
        }
        XCTAssertTrue(files[0] == files[1], "same seed: the same checkpoint bytes")
        var o = options(dir)
        o.maxIterations = 12
        o.seed = 124
        let config = ModelConfig(cell: .lstm, rnnSize: 16, numLayers: 2, embeddingSize: 4, dropout: 0.3, vocabSize: data.vocab.count)
        let other = try runTrainer(data, o, config: config)
        XCTAssertFalse(try FileSource.open(other.lastCheckpoint!).readAll() == files[0], "another seed, other weights")
    }

    func testDivergenceStopsWithoutSaving() throws {
        let data = syntheticCorpus(4_000)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = options(dir)
        o.maxIterations = 200
        o.learningRate = 50
        let config = ModelConfig(cell: .rnn, rnnSize: 16, numLayers: 1, embeddingSize: 0, dropout: 0, vocabSize: data.vocab.count)
        let trainer = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "s", options: o, reporter: SilentReporter())
        let outcome = try trainer.run()
        guard case .diverged(let why) = outcome else { return XCTFail("expected divergence, got \(outcome)") }
        XCTAssertTrue(why.contains("loss"), why)
        XCTAssertTrue(listDirectory(dir).isEmpty, "nothing written for a diverged run")
    }

    /// Names and shapes exactly as PyTorch's nn.Embedding + nn.LSTM/GRU/RNN + nn.Linear state_dict.
    func testCheckpointTensorNamesAndShapesMatchPyTorch() throws {
        let (V, H, E) = (11, 6, 4)
        for cell in CellKind.allCases {
            for embedding in [0, E] {
                let config = ModelConfig(cell: cell, rnnSize: H, numLayers: 2, embeddingSize: embedding, dropout: 0, vocabSize: V)
                let G = ["lstm": 4, "gru": 3, "rnn": 1][cell.rawValue]!
                var expected: [(String, [Int])] = []
                if embedding > 0 { expected.append(("encoder.weight", [V, E])) }
                for k in 0..<2 {
                    let input = k == 0 ? (embedding > 0 ? E : V) : H
                    expected += [("rnn.weight_ih_l\(k)", [G * H, input]), ("rnn.weight_hh_l\(k)", [G * H, H]),
                                 ("rnn.bias_ih_l\(k)", [G * H]), ("rnn.bias_hh_l\(k)", [G * H])]
                }
                expected += [("decoder.weight", [V, H]), ("decoder.bias", [V])]
                var rng = RNG(seed: 1)
                let layout = ParamLayout(config)
                let vocab = Vocab(unit: .char, symbols: (0..<UInt32(V)).map { 97 + $0 }, counts: Array(repeating: 1, count: V))
                let ckpt = Checkpoint(config: config, vocab: vocab, params: initialParameters(layout, rng: &rng), optimizer: nil,
                                      options: TrainOptions(), progress: Progress(), history: History(), stateH: [], stateC: [])
                let weights = ckpt.tensorFile.tensors.filter { !$0.name.hasPrefix("optim.") && !$0.name.hasPrefix("state.") }
                XCTAssertEqual(weights.map(\.name), expected.map(\.0), "\(cell) e=\(embedding)")
                XCTAssertEqual(weights.map(\.tensor.shape), expected.map(\.1), "\(cell) e=\(embedding)")
                XCTAssertTrue(weights.allSatisfy { $0.tensor.dtype == .F32 })
                // Round trip through bytes.
                let sink = MemorySink()
                try ckpt.tensorFile.write(to: sink)
                let back = try Checkpoint(file: try TensorFile.read(from: MemorySource(sink.bytes), name: "m", expectFormat: TensorFile.checkpointFormat), name: "m")
                XCTAssertEqual(back.params, ckpt.params)
                XCTAssertEqual(back.config, config)
                if cell == .lstm {
                    // Forget-gate input bias starts at 1 (char-rnn).
                    let b = back.params[layout.layers[0].biasIH + H..<layout.layers[0].biasIH + 2 * H]
                    XCTAssertTrue(b.allSatisfy { $0 == 1 })
                }
            }
        }
    }

    func testCheckpointFileName() {
        XCTAssertEqual(Checkpoint.fileName(savefile: "lstm", epoch: 0.95, valLoss: 2.06812), "lm_lstm_epoch0.95_2.0681.ckpt")
        XCTAssertEqual(Checkpoint.fileName(savefile: "gru", epoch: 12, valLoss: 1.5), "lm_gru_epoch12.00_1.5000.ckpt")
    }
}
