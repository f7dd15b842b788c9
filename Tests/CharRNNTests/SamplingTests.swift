// Beam search, samples made together as a batch, the line filter and the
// per-symbol scores (rnn-sample --beam/--count/--lines, rnn-ckpt eval
// --per-char), through the core's Generator on the CPU.
import XCTest
@testable import CharRNNCore

final class SamplingTests: XCTestCase {
    /// A model of `cell` over `V` symbols ("a", "b", ...) with random
    /// weights scaled by `scale` (large: sharp, uneven distributions).
    func model(_ cell: CellKind = .lstm, V: Int = 5, H: Int = 16, layers: Int = 2, seed: UInt64 = 7, scale: Float = 12) -> Checkpoint {
        let config = ModelConfig(cell: cell, rnnSize: H, numLayers: layers, embeddingSize: 0, dropout: 0, vocabSize: V)
        var rng = RNG(seed: seed)
        let params = initialParameters(ParamLayout(config), rng: &rng).map { $0 * scale }
        // Symbol 0 is a newline, so a sample without a prime starts there.
        let vocab = Vocab(unit: .char, symbols: [10] + (1..<UInt32(V)).map { 96 + $0 }, counts: Array(repeating: 1, count: V))
        return Checkpoint(config: config, vocab: vocab, params: params, optimizer: nil, options: TrainOptions(),
                          progress: Progress(), history: History(), stateH: [], stateC: [])
    }

    /// The log-probability of `ids` after `prime`, one step at a time (the
    /// first symbol without a prime is not scored, as in beam search).
    func logProb(_ ckpt: Checkpoint, prime: [Int32], ids: [Int32], temperature: Double = 1) throws -> Double {
        let stepper = try CPUEngine().stepper(config: ckpt.config, params: ckpt.params, streams: 1, threads: 1)
        try stepper.reset()
        var fed = prime
        var rest = ids[...]
        if prime.isEmpty { fed = [rest.removeFirst()] }
        var logits: [Float] = []
        for id in fed { logits = Array(try stepper.step([id])) }
        var total = 0.0
        for id in rest {
            let mx = logits.map(Double.init).max()!
            let sum = logits.reduce(0.0) { $0 + exp((Double($1) - mx) / temperature) }
            total += (Double(logits[Int(id)]) - mx) / temperature - log(sum)
            logits = Array(try stepper.step([id]))
        }
        return total
    }

    func text(_ g: Generator, _ o: SamplingOptions) throws -> String {
        let sink = MemorySink()
        try g.generate(o, to: sink)
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    func testBeamOfOneIsArgmax() throws {
        for cell in [CellKind.lstm, .gru, .rnn] {
            let g = try Generator(checkpoint: model(cell))
            for prime: [Int32] in [[], [1, 2, 3]] {
                var o = SamplingOptions()
                o.length = 60
                o.prime = prime
                o.argmax = true
                let greedy = try text(g, o)
                o.argmax = false
                o.beam = 1
                XCTAssertEqual(try text(g, o), greedy, "\(cell) prime \(prime)")
                o.stop = Array("b".utf8)
                o.beam = 1
                let b = try text(g, o)
                o.beam = nil
                o.argmax = true
                XCTAssertEqual(b, try text(g, o), "\(cell) with --stop")
            }
        }
    }

    /// With a width of all continuations, beam search is exhaustive search.
    func testWideBeamIsExhaustive() throws {
        for cell in [CellKind.lstm, .gru, .rnn] {
            let ckpt = model(cell, V: 3, seed: 3)
            let g = try Generator(checkpoint: ckpt)
            let prime: [Int32] = [1]
            var o = SamplingOptions()
            o.length = 4
            o.temperature = 0.7
            var all: [([Int32], Double)] = []
            for n in 0..<81 {
                let ids = (0..<4).map { Int32(n / Int(pow(3.0, Double($0))) % 3) }
                all.append((ids, try logProb(ckpt, prime: prime, ids: ids, temperature: 0.7)))
            }
            all.sort { $0.1 > $1.1 }
            let found = try g.beamSearch(prime: prime, width: 81, keep: 5, o, endAtNewline: false)
            XCTAssertEqual(found.map(\.ids), all.prefix(5).map(\.0), "\(cell)")
            // (The 81 rows of the beam's batch and the single row here round
            // the logits differently, in the last bits of a float.)
            for (f, a) in zip(found, all) { XCTAssertEqual(f.logProb, a.1, accuracy: 1e-5, "\(cell)") }
        }
    }

    /// Greedy choice is not always the most probable text; a beam finds
    /// better ones, and says their log-probability right.
    func testBeamBeatsGreedy() throws {
        var better = 0
        for seed in UInt64(1)...12 {
            let ckpt = model(.lstm, V: 5, seed: seed, scale: 4)
            let g = try Generator(checkpoint: ckpt)
            var o = SamplingOptions()
            o.length = 12
            let greedy = try g.beamSearch(prime: [1], width: 1, keep: 1, o, endAtNewline: false)[0]
            let wide = try g.beamSearch(prime: [1], width: 8, keep: 1, o, endAtNewline: false)[0]
            XCTAssertEqual(greedy.logProb, try logProb(ckpt, prime: [1], ids: greedy.ids), accuracy: 1e-5)
            XCTAssertEqual(wide.logProb, try logProb(ckpt, prime: [1], ids: wide.ids), accuracy: 1e-5)
            if wide.logProb > greedy.logProb + 1e-4 { better += 1 }
        }
        XCTAssertGreaterThanOrEqual(better, 3, "a beam of 8 found a more probable text than greedy for \(better) of 12 models")
    }

    /// A sample depends on the seed and its index, not on how many are made
    /// together or in which batch shape.
    func testSamplesDoNotDependOnTheBatch() throws {
        for cell in [CellKind.lstm, .gru] {
            let g = try Generator(checkpoint: model(cell, scale: 3), threads: 2)
            var o = SamplingOptions()
            o.length = 300
            o.separator = Array("|".utf8)
            o.topK = 4
            o.count = 1
            let alone = try text(g, o)
            o.count = 64
            let many = try text(g, o).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(many.count, 64)
            XCTAssertEqual(many[0], alone, "\(cell)")
            o.count = 9
            o.batch = 4
            let few = try text(g, o).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(few, Array(many.prefix(9)), "\(cell)")
            XCTAssertEqual(Set(many).count, 64, "the samples differ from each other")
            // Two threads split the 64 rows into two groups with a stepper
            // each; one thread advances them as one batch.
            XCTAssertEqual(g.groupCount(rows: 64), 2)
            let one = try Generator(checkpoint: model(cell, scale: 3), threads: 1)
            XCTAssertEqual(one.groupCount(rows: 64), 1)
            o.count = 64
            o.batch = 64
            XCTAssertEqual(try text(one, o).split(separator: "|", omittingEmptySubsequences: false).map(String.init), many, "\(cell)")
            let three = try Generator(checkpoint: model(cell, scale: 3), threads: 3)
            o.count = 50
            o.batch = 40   // groups of 14, 14, 12, then a second wave of 10 in two groups
            XCTAssertEqual(three.groupCount(rows: 40), 3)
            XCTAssertEqual(try text(three, o).split(separator: "|", omittingEmptySubsequences: false).map(String.init),
                           Array(many.prefix(50)), "\(cell)")
        }
    }

    /// A sink that fails after some writes: the error of a group's writer
    /// comes out of generate, whichever group met it.
    func testAFailingSinkStopsEveryGroup() throws {
        final class FailingSink: ByteSink {
            var writes = 0
            func write(_ bytes: UnsafeRawBufferPointer) throws {
                writes += 1
                if writes > 5 { throw CharRNNError("disk full") }
            }
            func flush() throws {}
        }
        let g = try Generator(checkpoint: model(.lstm, scale: 3), threads: 2)
        var o = SamplingOptions()
        o.length = 50
        o.count = 64
        XCTAssertEqual(g.groupCount(rows: 64), 2)
        XCTAssertThrowsError(try g.generate(o, to: FailingSink())) { error in
            XCTAssertEqual((error as? CharRNNError)?.what, "disk full")
        }
    }

    /// A stop string ends each sample on its own; samples come out in order.
    func testStopPerSample() throws {
        let g = try Generator(checkpoint: model(.lstm, scale: 3))
        var o = SamplingOptions()
        o.length = 400
        o.stop = Array("ab".utf8)
        o.separator = Array("|".utf8)
        o.count = 10
        let samples = try text(g, o).split(separator: "|", omittingEmptySubsequences: false)
        XCTAssertEqual(samples.count, 10)
        for s in samples where s.count < 400 { XCTAssertTrue(s.hasSuffix("ab"), String(s)) }
        XCTAssertTrue(samples.contains { $0.count < 400 })
        o.count = 1
        for i in 0..<3 { XCTAssertEqual(String(samples[0]), try text(g, o), "\(i)") }
    }

    /// Delivers its bytes a few at a time (a pipe).
    final class Trickle: ByteSource {
        let bytes: [UInt8]
        let piece: Int
        var at = 0
        init(_ s: String, piece: Int) { bytes = Array(s.utf8); self.piece = piece }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let n = min(piece, buffer.count, bytes.count - at)
            for i in 0..<n { buffer[i] = bytes[at + i] }
            at += n
            return n
        }
    }

    func testLinesDoNotDependOnHowTheyArrive() throws {
        let ckpt = model(.lstm, scale: 3)
        let g = try Generator(checkpoint: ckpt)
        var o = SamplingOptions()
        o.length = 40
        let input = "ab\n\ncab\nd\nbbbb"   // an empty line, and a last line without a newline
        func run(_ source: ByteSource, batch: Int) throws -> [String] {
            o.batch = batch
            let sink = MemorySink()
            let n = try g.completeLines(o, from: source, to: sink) { bytes, _ in
                try Prime.ids(bytes, name: "line", vocab: ckpt.vocab, checkpointName: "m", skipUnknown: false, allowEmpty: true)
            }
            XCTAssertEqual(n, 5)
            return String(decoding: sink.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        let whole = try run(MemorySource(Array(input.utf8)), batch: 64)
        XCTAssertEqual(whole.count, 6)           // 5 lines and the end
        XCTAssertEqual(whole.last, "")
        XCTAssertTrue(whole.dropLast().allSatisfy { $0.count <= 40 })
        XCTAssertEqual(try run(Trickle(input, piece: 1), batch: 64), whole)
        XCTAssertEqual(try run(Trickle(input, piece: 3), batch: 2), whole)
        // Two threads: a batch of 64 in two groups, each with its stepper.
        let two = try Generator(checkpoint: ckpt, threads: 2)
        let sink = MemorySink()
        o.batch = 64
        _ = try two.completeLines(o, from: MemorySource(Array(input.utf8)), to: sink) { bytes, _ in
            try Prime.ids(bytes, name: "line", vocab: ckpt.vocab, checkpointName: "m", skipUnknown: false, allowEmpty: true)
        }
        XCTAssertEqual(String(decoding: sink.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init), whole)
        // A line is completed as --prime after a newline would be.
        o.argmax = true
        let greedy = try run(MemorySource(Array(input.utf8)), batch: 64)
        o.prime = [0] + [3, 1, 2]
        var cut = try text(g, o)
        if let nl = cut.firstIndex(of: "\n") { cut = String(cut[..<nl]) }
        XCTAssertEqual(greedy[2], cut)
    }

    func testPerSymbolScoresAddUpToTheLoss() throws {
        let ckpt = model(.gru, scale: 2)
        var rng = RNG(seed: 5)
        let ids = (0..<700).map { _ in Int32(rng.below(5)) }
        let sink = MemorySink()
        let r = try writePerSymbolScores(checkpoint: ckpt, ids: ids, skipped: 0, top: 3, to: sink)
        let expected = try evaluate(checkpoint: ckpt, ids: ids, skipped: 0)
        XCTAssertEqual(r.loss, expected.loss, accuracy: 1e-5)
        let rows = String(decoding: sink.bytes, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows[0].joined(separator: ","), "position,symbol,probability,bits,top1,p1,top2,p2,top3,p3")
        XCTAssertEqual(rows.count, 700)
        var bits = 0.0
        for (i, row) in rows.dropFirst().enumerated() {
            XCTAssertEqual(row.count, 10)
            XCTAssertEqual(Int(row[0]), i + 1)
            XCTAssertEqual(String(row[1]), ckpt.vocab.escaped(ckpt.vocab.symbols[Int(ids[i + 1])]))
            let p = Double(row[2])!, top1 = Double(row[5])!, top2 = Double(row[7])!
            XCTAssertTrue(p > 0 && p <= top1 + 1e-6 && top2 <= top1)
            bits += Double(row[3])!
        }
        XCTAssertEqual(bits / 699, expected.loss / ln2, accuracy: 1e-4)
    }
}
