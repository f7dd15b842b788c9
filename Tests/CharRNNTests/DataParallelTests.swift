// Data-parallel training without MPI: N trainers in N threads joined by an
// in-process Communicator, against one trainer with the whole batch. The
// MPI path (Tests/e2e/mpi.sh) runs the same Trainer code over mpirun.
import XCTest
import Foundation
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI

/// Threads of one process as a process group (sums through shared memory).
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    let condition = NSCondition()
    var arrived = 0
    var generation = 0
    var posted: [UnsafeMutableRawPointer?]

    init(size: Int) {
        self.size = size
        posted = Array(repeating: nil, count: size)
    }

    func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }

    func member(_ rank: Int) -> Member { Member(group: self, rank: rank) }

    final class Member: Communicator {
        let group: ThreadGroup
        let rank: Int
        var size: Int { group.size }
        var calls = 0
        init(group: ThreadGroup, rank: Int) {
            self.group = group
            self.rank = rank
        }

        func reduce<T: FloatingPoint>(_ values: UnsafeMutablePointer<T>, count: Int) {
            calls += 1
            group.posted[rank] = UnsafeMutableRawPointer(values)
            group.barrier()
            var total = [T](repeating: 0, count: count)
            for r in 0..<group.size {   // the same order on every member
                let p = group.posted[r]!.assumingMemoryBound(to: T.self)
                for i in 0..<count { total[i] += p[i] }
            }
            group.barrier()             // everyone has read every buffer
            for i in 0..<count { values[i] = total[i] }
        }

        func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws { reduce(values, count: count) }
        func sum(_ values: UnsafeMutablePointer<Double>, count: Int) throws { reduce(values, count: count) }

        func broadcast(_ bytes: UnsafeMutableRawPointer, count: Int, root: Int) throws {
            calls += 1
            group.posted[rank] = bytes
            group.barrier()
            var copy = [UInt8](repeating: 0, count: count)
            copy.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: group.posted[root]!, byteCount: count) }
            group.barrier()
            copy.withUnsafeBytes { bytes.copyMemory(from: $0.baseAddress!, byteCount: count) }
        }
    }
}

final class DataParallelTests: XCTestCase {
    struct Run {
        var losses: [Double]
        var validations: [Double]
        var checkpoint: Checkpoint
    }

    /// Trains `ranks` trainers together (ranks 1: a plain single trainer).
    func train(_ data: TokensFile, config: ModelConfig, options o: TrainOptions, ranks: Int,
               resume: Checkpoint? = nil, tamper: ((Int, inout [Float]?) -> Void)? = nil) throws -> Run {
        if ranks == 1 {
            let reporter = SilentReporter()
            let t = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "s", options: o,
                                resume: resume, reporter: reporter)
            _ = try t.run()
            return Run(losses: reporter.trainLosses, validations: reporter.validations, checkpoint: try t.checkpoint())
        }
        let group = ThreadGroup(size: ranks)
        final class Results: @unchecked Sendable { var all: [Result<Run, Error>?] = [] }
        let box = Results()
        box.all = Array(repeating: nil, count: ranks)
        let lock = NSLock()
        let threads = (0..<ranks).map { rank in
            Thread {
                let result = Result { () throws -> Run in
                    let reporter = SilentReporter()
                    var start: [Float]? = nil
                    tamper?(rank, &start)
                    let t = try Trainer(config: config, vocab: data.vocab, tokens: data.tokens, tokensName: "s", options: o,
                                        params: start, resume: resume, group: group.member(rank), reporter: reporter)
                    try t.checkProcessesAgree()
                    _ = try t.run()
                    // Checkpoint state is gathered: every rank calls it.
                    let ckpt = try t.checkpoint()
                    return Run(losses: reporter.trainLosses, validations: reporter.validations, checkpoint: ckpt)
                }
                lock.lock(); box.all[rank] = result; lock.unlock()
            }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        while true {
            lock.lock(); let done = box.all.allSatisfy { $0 != nil }; lock.unlock()
            if done { break }
            usleep(1000)
        }
        let runs = try box.all.map { try $0!.get() }
        for r in runs.dropFirst() {
            XCTAssertEqual(r.losses, runs[0].losses, "every rank sees the same (all-reduced) losses")
            XCTAssertEqual(r.checkpoint.params, runs[0].checkpoint.params, "every rank holds the same weights")
        }
        return runs[0]
    }

    func options(_ dir: String) -> TrainOptions {
        var o = TrainOptions()
        o.batchSize = 12
        o.seqLength = 16
        o.checkpointDir = dir
        o.evalValEvery = 10
        o.threads = 1
        o.maxIterations = 30
        return o
    }

    func assertClose(_ a: [Double], _ b: [Double], _ tolerance: Double, _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        for (x, y) in zip(a, b) {
            XCTAssertLessThanOrEqual(abs(x - y) / abs(y), tolerance, "\(what): \(x) vs \(y)")
        }
    }

    func testSplitBatchEqualsSingleProcess() throws {
        let data = syntheticCorpus(12_000)
        for (cell, dropout) in [(CellKind.lstm, 0.0), (.gru, 0.0), (.lstm, 0.25), (.rnn, 0.1)] {
            let config = ModelConfig(cell: cell, rnnSize: 32, numLayers: 2, embeddingSize: 0, dropout: dropout,
                                     vocabSize: data.vocab.count)
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let one = try train(data, config: config, options: options(dir + "/1"), ranks: 1)
            for ranks in [2, 3] {
                let many = try train(data, config: config, options: options(dir + "/\(ranks)"), ranks: ranks)
                assertClose(many.losses, one.losses, 1e-5, "\(cell) dropout \(dropout), \(ranks) ranks: train losses")
                assertClose(many.validations, one.validations, 1e-5, "\(cell) \(ranks) ranks: validation losses")
                XCTAssertEqual(many.losses.count, 30)
                // The checkpoint holds the whole batch's carried state, each
                // process's rows in place (misplaced rows would differ by
                // ~0.1; float rounding of 30 steps of training by ~1e-4).
                for (a, b) in zip(many.checkpoint.stateH + many.checkpoint.stateC, one.checkpoint.stateH + one.checkpoint.stateC) {
                    XCTAssertEqual(a.count, b.count)
                    XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? 0, 2e-3, "\(cell) \(ranks) ranks: carried state")
                }
                let saved = listDirectory(dir + "/\(ranks)").filter { $0.hasSuffix(".ckpt") }
                XCTAssertEqual(saved.count, 3, "rank 0 alone writes a checkpoint every 10 iterations: \(saved)")
            }
        }
    }

    func testResumeWithAnotherNumberOfProcesses() throws {
        let data = syntheticCorpus(12_000)
        let config = ModelConfig(cell: .lstm, rnnSize: 24, numLayers: 2, embeddingSize: 0, dropout: 0.2, vocabSize: data.vocab.count)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let straight = try train(data, config: config, options: options(dir + "/a"), ranks: 1)
        var half = options(dir + "/b")
        half.maxIterations = 15
        let first = try train(data, config: config, options: half, ranks: 2)
        let path = dir + "/b.ckpt"
        try first.checkpoint.save(to: path)
        var rest = options(dir + "/c")
        rest.maxIterations = 30
        // 2 processes → 1, and 2 → 3 (12 streams: 4 each).
        for ranks in [1, 3] {
            let resumed = try train(data, config: config, options: rest, ranks: ranks, resume: try Checkpoint.load(path: path))
            assertClose(first.losses + resumed.losses, straight.losses, 1e-5, "2 processes, then \(ranks)")
        }
    }

    func testUnevenSplitAndDisagreeingProcessesAreRefused() throws {
        let data = syntheticCorpus(6_000)
        let config = ModelConfig(cell: .gru, rnnSize: 16, numLayers: 1, embeddingSize: 0, dropout: 0, vocabSize: data.vocab.count)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = options(dir)
        o.batchSize = 10
        XCTAssertThrowsError(try train(data, config: config, options: o, ranks: 3)) { e in
            XCTAssertTrue("\(e)".contains("--batch-size 10 does not split evenly over 3 processes"), "\(e)")
            XCTAssertTrue("\(e)".contains("e.g. 9 or 12"), "\(e)")
        }
        // Rank 1 starting from other weights (as a node with another
        // checkpoint would) is caught before training.
        let layout = ParamLayout(config)
        XCTAssertThrowsError(try train(data, config: config, options: options(dir), ranks: 2, tamper: { rank, start in
            if rank == 1 { start = [Float](repeating: 0.01, count: layout.total) }
        })) { e in
            XCTAssertTrue("\(e)".contains("1 of 2 processes start from other data, weights or options than rank 0"), "\(e)")
        }
    }

    /// The CPU backend splits a batch over threads the same way: every
    /// thread count gives the single thread's loss, gradients, carried
    /// state and RNG stream (to float rounding).
    func testThreadsSplitTheBatchLikeProcesses() throws {
        let B = 24, T = 7
        for cell in CellKind.allCases {
            let config = ModelConfig(cell: cell, rnnSize: 20, numLayers: 2, embeddingSize: 0, dropout: 0.3, vocabSize: 11)
            let layout = ParamLayout(config)
            var init_ = RNG(seed: 3)
            let params = (0..<layout.total).map { _ in Float(init_.uniform() * 0.2 - 0.1) }
            var data = RNG(seed: 4)
            let batches = (0..<2).map { _ in (0..<(2 * B * T)).map { _ in Int32(data.below(11)) } }
            func run(threads: Int) throws -> (losses: [Double], grads: [Float], state: [[Float]], rng: RNG, parts: Int) {
                let backend = CPUTrainingBackend(config: config, batch: B, seqLength: T, threads: threads, params: params,
                                                 optimizer: Optimizer(kind: .rmsprop, count: layout.total, decayRate: 0.95))
                var rng = RNG(seed: 9)
                var losses: [Double] = []
                var grads: [Float] = []
                for tokens in batches {   // the second from the first's carried state
                    losses.append(try backend.lossAndGradients(inputs: tokens, targets: Array(tokens[(B * T)...]), rng: &rng))
                    grads += try backend.gradients()
                }
                losses.append(try backend.loss(inputs: batches[0], targets: Array(batches[1][(B * T)...])))
                let state = try backend.carriedState()
                return (losses, grads, state.h + state.c, rng, backend.dataParallelThreads)
            }
            let one = try run(threads: 1)
            XCTAssertEqual(one.parts, 1)
            for threads in [2, 3, 4] {
                let many = try run(threads: threads)
                XCTAssertEqual(many.parts, min(threads, B / CPUTrainingBackend.minimumRowsPerThread), "\(cell) \(threads) threads")
                assertClose(many.losses, one.losses, 1e-6, "\(cell) \(threads) threads: losses")
                XCTAssertEqual(many.rng, one.rng, "\(cell): the dropout stream ends in the same place")
                let scale = one.grads.map { abs($0) }.max()!
                let worst = zip(many.grads, one.grads).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(cell) \(threads) threads: gradients")
                XCTAssertEqual(many.state.map(\.count), one.state.map(\.count))
                let stateWorst = zip(many.state.joined(), one.state.joined()).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(stateWorst, 1e-5, "\(cell) \(threads) threads: carried state")
            }
        }
    }

    /// Sampling one stream splits each product's rows over a spinning team
    /// when the weights are large: the logits are those of one thread.
    func testSamplerThreadsGiveTheSameLogits() throws {
        func stepper(_ config: ModelConfig, _ params: [Float], threads: Int) throws -> CPURunner {
            try XCTUnwrap(try CPUEngine().stepper(config: config, params: params, streams: 1, threads: threads) as? CPURunner)
        }
        for cell in CellKind.allCases {
            let config = ModelConfig(cell: cell, rnnSize: cell == .rnn ? 800 : 460, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: 37)
            let layout = ParamLayout(config)
            XCTAssertGreaterThanOrEqual(layout.total * 4, CPUEngine.splitFromBytes, "big enough to split")
            var r = RNG(seed: 11)
            let params = (0..<layout.total).map { _ in Float(r.uniform() * 0.3 - 0.15) }
            let one = try stepper(config, params, threads: 1)
            XCTAssertNil(one.network.ops.team)
            for threads in [2, 3] {
                let many = try stepper(config, params, threads: threads)
                XCTAssertEqual(many.network.ops.team?.count, threads)
                var tokens = RNG(seed: 12)
                for step in 0..<40 {
                    let token = [Int32(tokens.below(37))]
                    let a = Array(try one.step(token)), b = Array(try many.step(token))
                    let worst = zip(a, b).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-5, "\(cell) \(threads) threads, step \(step)")
                }
                try one.reset()
            }
        }
        // Small models stay on one thread (they fit in one core's cache).
        let small = ModelConfig(cell: .lstm, rnnSize: 128, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: 65)
        XCTAssertNil(try stepper(small, [Float](repeating: 0, count: ParamLayout(small).total), threads: 2).network.ops.team)
    }
}
