// Generation one character at a time (batch 1): state and buffers are kept
// between characters, the input projection of a one-hot input is a row
// copy, and each matrix-vector product is one GEMV.
#if canImport(Glibc)
import Glibc
#endif
import CSupport

public final class Sampler {
    public let config: ModelConfig
    let layout: ParamLayout
    let params: FloatBuffer
    let H: Int, GH: Int, V: Int, L: Int
    let weightT: FloatBuffer          // (V, GH) layer-0 W_ih transposed, one-hot only
    var h: [FloatBuffer]              // per layer (H)
    var c: [FloatBuffer]              // per layer (H), LSTM
    let pre: FloatBuffer              // (GH) input part
    let rec: FloatBuffer              // (GH) recurrent part
    let tanhC: FloatBuffer            // (H) scratch
    let scratch: FloatBuffer          // (H) new c or h
    let logits: FloatBuffer           // (V)
    let probs: FloatBuffer            // (V)
    /// Splits each product's rows when the weights are large (a spinning
    /// team: a condition-variable pool measured slower than one thread).
    let team: SpinTeam
    /// Threads that split the products (1 for small models).
    public var threadCount: Int { team.count }

    /// Weights (bytes) from which products are split over threads: below,
    /// they sit in one core's L2 and a character takes a few microseconds.
    public static let splitFromBytes = 4 << 20

    /// y (m) += A (m×n) · x, its rows split over the team.
    @inline(__always)
    func matvec(m: Int, n: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, part: Int) {
        let rows = teamRows(m, part: part)
        if rows.isEmpty { return }
        gemv(m: rows.count, n: n, a: a + rows.lowerBound * n, lda: n, x: x, beta: 1, y: y + rows.lowerBound)
    }

    /// Part `part` of m rows, in blocks of 16.
    @inline(__always)
    func teamRows(_ m: Int, part: Int) -> Range<Int> {
        let parts = team.count
        if parts == 1 { return 0..<m }
        let per = ((m + parts - 1) / parts + 15) & ~15
        let start = min(m, part * per)
        return start..<(part == parts - 1 ? m : min(m, start + per))
    }

    public init(config: ModelConfig, params p: [Float], threads: Int = 1) {
        team = SpinTeam(threads: p.count * 4 >= Sampler.splitFromBytes ? max(1, threads) : 1)
        self.config = config
        layout = ParamLayout(config)
        let H = config.rnnSize, GH = config.cell.gates * config.rnnSize
        let V = config.vocabSize, L = config.numLayers
        self.H = H; self.GH = GH; self.V = V; self.L = L
        let block = FloatBuffer(p.count)
        p.withUnsafeBufferPointer { block.pointer.update(from: $0.baseAddress!, count: p.count) }
        params = block
        let embedding = config.embeddingSize > 0
        weightT = FloatBuffer(embedding ? 0 : V * GH)
        h = (0..<L).map { _ in FloatBuffer(H) }
        c = (0..<L).map { _ in FloatBuffer(H) }
        pre = FloatBuffer(GH)
        rec = FloatBuffer(GH)
        tanhC = FloatBuffer(H)
        scratch = FloatBuffer(H)
        logits = FloatBuffer(V)
        probs = FloatBuffer(V)
        if !embedding {
            let w = params.pointer + layout.layers[0].weightIH
            let wt = weightT.pointer
            for j in 0..<GH { for v in 0..<V { wt[v * GH + j] = w[j * V + v] } }
        }
    }

    /// Zeroes the hidden state (a fresh sample).
    public func reset() {
        for k in 0..<L {
            h[k].pointer.update(repeating: 0, count: H)
            c[k].pointer.update(repeating: 0, count: H)
        }
    }

    /// Feeds one token; returns the logits for the next one (V values,
    /// valid until the next call).
    @discardableResult
    public func step(token: Int) -> UnsafeMutableBufferPointer<Float> {
        let p = params.pointer
        let pre = self.pre.pointer, rec = self.rec.pointer
        for k in 0..<L {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            // pre = W_ih x + b_ih, rec = W_hh h + b_hh
            (pre).update(from: p + lay.biasIH, count: GH)
            rec.update(from: p + lay.biasHH, count: GH)
            let x: UnsafePointer<Float>?
            if k == 0 {
                if let enc = layout.encoder {
                    x = UnsafePointer(p + enc + token * In)
                } else {
                    x = nil
                    let row = weightT.pointer + token * GH
                    for j in 0..<GH { pre[j] += row[j] }
                }
            } else {
                x = UnsafePointer(h[k - 1].pointer)
            }
            let hPrev = UnsafePointer(h[k].pointer)
            team.run { part in
                if let x { matvec(m: GH, n: In, a: p + lay.weightIH, x: x, y: pre, part: part) }
                matvec(m: GH, n: H, a: p + lay.weightHH, x: hPrev, y: rec, part: part)
            }
            let hk = h[k].pointer, ck = c[k].pointer
            switch config.cell {
            case .lstm:
                // gates = pre + rec (added as the kernel's bias), c and h in place.
                charrnn_lstm_forward(pre, rec, ck, scratch.pointer, tanhC.pointer, hk, 1, H)
                ck.update(from: scratch.pointer, count: H)
            case .gru:
                charrnn_gru_forward(pre, nil, rec, hk, scratch.pointer, 1, H)
                hk.update(from: scratch.pointer, count: H)
            case .rnn:
                charrnn_rnn_forward(pre, rec, hk, 1, H)
            }
        }
        logits.pointer.update(from: p + layout.decoderBias, count: V)
        let top = UnsafePointer(h[L - 1].pointer), z = logits.pointer
        team.run { part in matvec(m: V, n: H, a: p + layout.decoderWeight, x: top, y: z, part: part) }
        return UnsafeMutableBufferPointer(start: logits.pointer, count: V)
    }

    /// The hidden state of layer k (tests).
    public func hidden(layer k: Int) -> [Float] { Array(UnsafeBufferPointer(start: h[k].pointer, count: H)) }
}

/// Draws an index from softmax(logits / temperature), optionally keeping
/// only the `topK` most likely, or the smallest set whose probability
/// reaches `topP`. Uses one uniform draw from `rng`.
public func sampleCategorical(_ logits: UnsafeMutableBufferPointer<Float>, temperature: Double, rng: inout RNG,
                              topK: Int? = nil, topP: Double? = nil) -> Int {
    let n = logits.count
    var mx = -Float.infinity
    for v in 0..<n { mx = max(mx, logits[v]) }
    // In Double, with the largest logit exactly 0 after the shift, so a
    // tiny temperature cannot turn 0 * inf into NaN.
    let invT = 1 / temperature
    var probs = [Double](repeating: 0, count: n)
    var sum = 0.0
    for v in 0..<n {
        let d = Double(logits[v] - mx)
        let e = d == 0 ? 1.0 : exp(d * invT)
        probs[v] = e
        sum += e
    }
    if topK != nil || topP != nil {
        let order = (0..<n).sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
        var keep = n
        if let topK { keep = min(keep, max(1, topK)) }
        if let topP {
            var acc = 0.0
            var count = 0
            for idx in order {
                acc += probs[idx] / sum
                count += 1
                if acc >= topP { break }
            }
            keep = min(keep, max(1, count))
        }
        var kept = [Double](repeating: 0, count: n)
        sum = 0
        for idx in order.prefix(keep) { kept[idx] = probs[idx]; sum += probs[idx] }
        probs = kept
    }
    let u = rng.uniform() * sum
    var acc = 0.0
    var last = 0
    for v in 0..<n where probs[v] > 0 {
        acc += probs[v]
        last = v
        if u < acc { return v }
    }
    return last
}

/// The most likely index (ties: the lowest).
public func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
    var best = 0
    for v in 1..<logits.count where logits[v] > logits[best] { best = v }
    return best
}
