// Training advice (Advice.diagnose) on crafted loss histories: overfitting,
// underfitting, a validation loss that turned upward, and a run that is
// fine; every option a message names is one rnn-train has.
import Foundation
import XCTest
@testable import CharRNNCore

final class AdviceTests: XCTestCase {
    let config = ModelConfig(cell: .lstm, rnnSize: 128, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: 65)

    /// Training losses every 10 iterations from `train`, validations at
    /// the iterations of `val`.
    func history(train: (Int) -> Double, val: [(Int, Double)], until: Int) -> History {
        var h = History()
        for i in stride(from: 10, through: until, by: 10) { h.train.append((i, train(i))) }
        h.val = val
        return h
    }

    func testOverfitting() {
        let h = history(train: { 1.6 - Double($0) / 10000 }, val: [(1000, 1.55), (2000, 1.60)], until: 2000)
        let r = Advice.diagnose(history: h, parameters: 240_000, trainingCharacters: 1_000_000, config: config)
        XCTAssertEqual(r.meanTrainLoss!, 1.6 - 0.15050, accuracy: 1e-9)   // iterations 1010…2000
        XCTAssertEqual(r.gap!, 1.60 - (1.6 - 0.1505), accuracy: 1e-9)
        XCTAssertTrue(r.advice[0].hasPrefix("validation loss 0.15 above training loss: overfitting — try --dropout 0.5 (now 0.00)"), r.advice[0])
        XCTAssertTrue(r.advice.contains { $0.hasPrefix("validation loss has risen 0.05 since its best (1.5500 at iteration 1000)") }, "\(r.advice)")
        // With dropout already at 0.5, the advice is a smaller model.
        var dropped = config
        dropped.dropout = 0.5
        let d = Advice.diagnose(history: h, parameters: 240_000, trainingCharacters: 1_000_000, config: dropped)
        XCTAssertTrue(d.advice[0].contains("try a smaller --rnn-size (now 128) or --num-layers, or more data"), d.advice[0])
    }

    func testUnderfitting() {
        let h = history(train: { _ in 1.90 }, val: [(5000, 1.91)], until: 5000)
        let r = Advice.diagnose(history: h, parameters: 150_000, trainingCharacters: 100_000_000, config: config)
        XCTAssertEqual(r.advice, ["150.0k parameters for 100.00M characters: this model will underfit — try a larger --rnn-size (now 128)"])
    }

    func testTooLargeForItsData() {
        let h = history(train: { _ in 2.5 }, val: [(100, 2.45)], until: 100)
        let r = Advice.diagnose(history: h, parameters: 3_300_000, trainingCharacters: 100_000, config: config)
        XCTAssertEqual(r.advice.count, 1)
        XCTAssertTrue(r.advice[0].contains("this model will overfit quickly — try --dropout 0.5"), r.advice[0])
    }

    func testFine() {
        let h = history(train: { 1.5 - Double($0) / 100000 }, val: [(1000, 1.50), (2000, 1.48)], until: 2000)
        let r = Advice.diagnose(history: h, parameters: 240_000, trainingCharacters: 1_000_000, config: config)
        XCTAssertEqual(r.advice, [])
        XCTAssertTrue(r.line.hasPrefix("fit: mean train_loss 1.4849, val_loss 1.4800 (-0.0049); 240.0k parameters for 1.00M training characters (0.24 per character)"), r.line)
        // Dropout keeps the training loss above the validation loss: no advice.
        let d = history(train: { _ in 1.7 }, val: [(1000, 1.5)], until: 1000)
        XCTAssertEqual(Advice.diagnose(history: d, parameters: 240_000, trainingCharacters: 1_000_000, config: config).advice, [])
    }

    func testNoValidationYet() {
        let r = Advice.diagnose(history: History(), parameters: 240_000, trainingCharacters: 1_000_000, config: config)
        XCTAssertNil(r.gap)
        XCTAssertEqual(r.advice, [])
    }

    func testTrainingCharacters() {
        var o = TrainOptions()
        o.batchSize = 50; o.seqLength = 50; o.trainFrac = 0.95
        XCTAssertEqual(Advice.trainingCharacters(tokens: 1_115_394, options: o), 423 * 2500)   // 446 minibatches, 95 % of them
    }

    /// Every option the advice names is in rnn-train(1)'s OPTIONS (which
    /// Tests/e2e/options.py holds equal to rnn-train --help).
    func testMessagesNameRealOptions() throws {
        let man = try String(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("man/rnn-train.1"), encoding: .utf8)
        var messages: [String] = []
        for (train, val, params, chars) in [(1.4, [(1000, 1.5), (2000, 1.7)], 240_000, 1_000_000),
                                             (1.9, [(1000, 1.91)], 150_000, 100_000_000),
                                             (2.5, [(1000, 2.45)], 3_000_000, 100_000)] {
            for dropout in [0.0, 0.5] {
                var c = config
                c.dropout = dropout
                let h = history(train: { _ in train }, val: val, until: val.last!.0)
                messages += Advice.diagnose(history: h, parameters: params, trainingCharacters: chars, config: c).advice
            }
        }
        XCTAssertGreaterThanOrEqual(messages.count, 6)
        let regex = try NSRegularExpression(pattern: "--[a-z-]+")
        for m in messages {
            for match in regex.matches(in: m, range: NSRange(m.startIndex..., in: m)) {
                let option = String(m[Range(match.range, in: m)!])
                XCTAssertTrue(man.contains(".It Fl -\(option.dropFirst(2))"), "\(option) (in: \(m)) is not an rnn-train option")
            }
        }
    }
}

/// rnn-ckpt trace's states are the network's own: stepping the same text
/// one symbol at a time gives the same hidden and cell states.
final class TraceTests: XCTestCase {
    func testTracedStatesAreTheNetworksOwn() throws {
        for cell in [CellKind.lstm, .gru, .rnn] {
            let config = ModelConfig(cell: cell, rnnSize: 12, numLayers: 2, embeddingSize: cell == .gru ? 5 : 0, dropout: 0, vocabSize: 6)
            var rng = RNG(seed: 9)
            let params = initialParameters(ParamLayout(config), rng: &rng).map { $0 * 4 }
            let vocab = Vocab(unit: .char, symbols: (0..<6).map { 97 + $0 }, counts: Array(repeating: 1, count: 6))
            let ckpt = Checkpoint(config: config, vocab: vocab, params: params, optimizer: nil, options: TrainOptions(),
                                  progress: Progress(), history: History(), stateH: [], stateC: [])
            let ids = (0..<600).map { _ in Int32(rng.below(6)) }   // longer than one chunk of 256
            let trace = try Trace(checkpoint: ckpt, ids: ids, top: 2)
            let stepper = try XCTUnwrap(try CPUEngine().stepper(config: config, params: params, streams: 1, threads: 1) as? CPURunner)
            try stepper.reset()
            var worst = 0.0
            for (t, id) in ids.enumerated() {
                let logits = Array(try stepper.step([id]))
                let (h, c) = try stepper.network.carriedState()
                for k in 0..<2 {
                    for i in 0..<12 {
                        // Relative to the state's size (LSTM cell states grow past 1).
                        let a = trace.h[k][t * 12 + i]
                        worst = max(worst, Double(abs(h[k][i] - a) / max(1, abs(a))))
                        if cell == .lstm {
                            let b = trace.c[k][t * 12 + i]
                            worst = max(worst, Double(abs(c[k][i] - b) / max(1, abs(b))))
                        }
                    }
                }
                if t + 1 < ids.count {
                    let mx = logits.max()!
                    let z = logits.reduce(0) { $0 + exp($1 - mx) }
                    XCTAssertEqual(trace.nextProbability[t], exp(logits[Int(ids[t + 1])] - mx) / z, accuracy: 1e-5)
                }
            }
            XCTAssertLessThan(worst, 1e-6, "\(cell)")
            XCTAssertEqual(trace.h[0].count, 600 * 12)
            XCTAssertEqual(trace.c[0].count, cell == .lstm ? 600 * 12 : 0)
        }
    }
}
