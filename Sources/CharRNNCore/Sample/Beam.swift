// Beam search: the most probable continuations of a prime, found by
// keeping, after each symbol, the `width` most probable partial texts (the
// beams) instead of one sampled text. Each beam is a row of the stepper;
// the rows are reordered as beams are kept or dropped.

#if canImport(Glibc)
import Glibc
#endif

/// A continuation found by beam search: its symbols (without the prime)
/// and its log-probability under the model (natural log, temperature
/// applied), summed in Double.
public struct BeamResult: Equatable {
    public var ids: [Int32]
    public var logProb: Double
}

extension Generator {
    /// The `keep` most probable continuations of `prime` of `o.length`
    /// symbols (fewer where `o.stop`, or with `endAtNewline` a newline,
    /// ended one), most probable first. Without a prime the first symbol is
    /// the one --argmax starts from (a newline), not scored.
    public func beamSearch(prime: [Int32], width: Int, keep: Int, _ o: SamplingOptions, endAtNewline: Bool) throws -> [BeamResult] {
        precondition(width >= 1 && keep >= 1 && keep <= width && o.length >= 1)
        let stepper = try stepper(streams: width)
        let V = stepper.vocabSize
        try stepper.reset()
        struct Beam {
            var ids: [Int32]
            var logProb: Double
            var recent: [UInt8]
        }
        var finished: [Beam] = []
        var live: [Beam]
        func ends(_ b: Beam) -> Bool {
            guard let last = b.ids.last else { return false }
            if b.ids.count == o.length || (endAtNewline && last == newline) { return true }
            if let stop = o.stop, b.recent == stop { return true }
            return false
        }
        func extended(_ b: Beam, _ id: Int32, _ lp: Double) -> Beam {
            var recent = b.recent
            if let stop = o.stop {
                recent += pieces[Int(id)]
                if recent.count > stop.count { recent.removeFirst(recent.count - stop.count) }
            }
            return Beam(ids: b.ids + [id], logProb: b.logProb + lp, recent: recent)
        }
        var tokens = [Int32](repeating: 0, count: width)
        var logits: UnsafeBufferPointer<Float>
        if prime.isEmpty {
            var unused = RNG(seed: 0)
            let first = extended(Beam(ids: [], logProb: 0, recent: []), firstSymbol(o, rng: &unused), 0)
            if ends(first) { return [BeamResult(ids: first.ids, logProb: 0)] }
            live = [first]
            for i in 0..<width { tokens[i] = first.ids[0] }
            logits = try stepper.step(tokens)
        } else {
            live = [Beam(ids: [], logProb: 0, recent: [])]
            logits = UnsafeBufferPointer(start: nil, count: 0)
            for id in prime {
                for i in 0..<width { tokens[i] = id }
                logits = try stepper.step(tokens)
            }
        }
        let invT = 1 / o.temperature
        var scores = [Double](repeating: 0, count: V)
        while !live.isEmpty {
            // Every beam's `width` best extensions, scored.
            var candidates: [(logProb: Double, beam: Int, id: Int32)] = []
            candidates.reserveCapacity(live.count * min(width, V))
            for (b, beam) in live.enumerated() {
                let row = UnsafeBufferPointer(rebasing: logits[(b * V)..<((b + 1) * V)])
                var mx = -Double.infinity
                for v in 0..<V { mx = max(mx, Double(row[v])) }
                var sum = 0.0
                for v in 0..<V {
                    scores[v] = (Double(row[v]) - mx) * invT
                    sum += exp(scores[v])
                }
                let logSum = log(sum)
                let best = topIndices(scores, min(width, V))
                for v in best { candidates.append((beam.logProb + scores[v] - logSum, b, Int32(v))) }
            }
            // Highest first; ties to the earlier beam, then the lower id
            // (so width 1 takes what --argmax takes).
            candidates.sort { $0.logProb != $1.logProb ? $0.logProb > $1.logProb
                                : $0.beam != $1.beam ? $0.beam < $1.beam : $0.id < $1.id }
            var next: [Beam] = []
            var parents: [Int] = []
            for (rank, c) in candidates.enumerated() {
                let beam = extended(live[c.beam], c.id, c.logProb - live[c.beam].logProb)
                if ends(beam) {
                    if rank < width { finished.append(beam) }
                } else if next.count < width {
                    next.append(beam)
                    parents.append(c.beam)
                }
                if next.count == width && rank >= width - 1 { break }
            }
            // Done when `keep` are finished and no live beam can beat them
            // (a beam's log-probability only falls as it grows).
            finished.sort { $0.logProb > $1.logProb }
            if finished.count >= keep, let bestLive = next.first?.logProb, bestLive <= finished[keep - 1].logProb { break }
            live = next
            if live.isEmpty { break }
            for (j, beam) in live.enumerated() { tokens[j] = beam.ids.last! }
            try stepper.reorderStates(parents + Array(repeating: 0, count: width - parents.count))
            logits = try stepper.step(tokens)
        }
        let all = (finished + live.filter(ends)).sorted { $0.logProb > $1.logProb }
        return all.prefix(keep).map { BeamResult(ids: $0.ids, logProb: $0.logProb) }
    }
}
