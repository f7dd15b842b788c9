// The network, written once for every backend (NetworkOps.swift): embedding
// or one-hot input, L layers of LSTM/GRU/RNN cells run over the sequence
// one step at a time with the hidden state carried between minibatches,
// dropout between layers and before the decoder, and a linear decoder with
// softmax cross-entropy. backward() is forward's call list read in reverse;
// the gradients are added into the caller's buffer. step() runs one step
// for sampling (batch rows = streams).
// B = batch, T = seq length, N = T·B rows (time-major), H = rnn size,
// GH = gates·H, V = vocab, E = embedding size, In = a layer's input width.

public final class RecurrentNetwork<Ops: NetworkOps> {
    public typealias Floats = Ops.Floats
    public let ops: Ops
    public let config: ModelConfig
    public let layout: ParamLayout
    public let batch: Int
    public let seqLength: Int
    /// Without gradients: no backward buffers (sampling, evaluation).
    public let forwardOnly: Bool
    let H: Int, GH: Int, V: Int, L: Int, N: Int, E: Int

    // Forward activations, per layer.
    let gates: [Floats]       // (N, GH): pre-activations, then activations in place
    let hs: [Floats]          // ((T+1)·B, H): h[0] = carried state
    let cs: [Floats]          // ((T+1)·B, H): LSTM cell
    let tanhC: [Floats]       // (N, H): LSTM tanh(c)
    let hgs: [Floats]         // (N, GH): GRU W_hh h + b_hh per step
    let dropped: [Floats]     // (N, H): masked layer outputs
    let embedded: Floats      // (N, E)
    let logits: Floats        // (N, V): logits, then d loss / d logits
    let bias: [Floats]        // (GH) per layer: the bias the cell kernels add
    let inputs: Ops.Ids       // (N)
    let targets: Ops.Ids      // (N)
    /// Carried hidden state per layer, (B, H); LSTM cell state.
    let carriedH: [Floats]
    let carriedC: [Floats]

    // Backward scratch.
    let dPre: Floats          // (N, GH): d wrt W_ih x + b_ih (LSTM/RNN: also W_hh h + b_hh)
    let dPreHH: Floats        // (N, GH): GRU d wrt W_hh h + b_hh
    let dH: Floats            // (N, H): d wrt the current layer's output
    let dX: Floats            // (N, E): d wrt the embedded input
    let dhNext: Floats        // (B, H)
    let dcNext: Floats        // (B, H)

    var usedDropout = false
    /// Steps of the last forward (a forward-only pass may run fewer than T).
    var lastSteps = 0
    /// This network's rows of a batch split across processes or threads
    /// (dropout masks are drawn for the whole batch so the split changes nothing).
    public var share: BatchShare? = nil

    public init(ops: Ops, config: ModelConfig, batch: Int, seqLength: Int, forwardOnly: Bool = false) throws {
        self.ops = ops
        self.config = config
        self.layout = ParamLayout(config)
        self.batch = batch
        self.seqLength = seqLength
        self.forwardOnly = forwardOnly
        let H = config.rnnSize, GH = config.cell.gates * config.rnnSize
        let V = config.vocabSize, L = config.numLayers, N = batch * seqLength, E = config.embeddingSize
        self.H = H; self.GH = GH; self.V = V; self.L = L; self.N = N; self.E = E
        let lstm = config.cell == .lstm, gru = config.cell == .gru, dropout = config.dropout > 0 && !forwardOnly
        func perLayer(_ n: Int, _ what: String) throws -> [Floats] {
            try (0..<L).map { try ops.floats(n, "\(what) of layer \($0 + 1)") }
        }
        let grads = forwardOnly ? 0 : 1
        gates = try perLayer(N * GH, "the gates")
        hs = try perLayer((seqLength + 1) * batch * H, "the hidden states")
        cs = try perLayer(lstm ? (seqLength + 1) * batch * H : 0, "the cell states")
        tanhC = try perLayer(lstm ? N * H : 0, "tanh of the cell states")
        hgs = try perLayer(gru ? N * GH : 0, "the recurrent projections")
        dropped = try perLayer(dropout ? N * H : 0, "the dropout outputs")
        embedded = try ops.floats(N * E, "the embedded inputs")
        logits = try ops.floats(N * V, "the logits")
        bias = try perLayer(GH, "the bias")
        inputs = try ops.ids(N, "the input tokens")
        targets = try ops.ids(N, "the target tokens")
        carriedH = try perLayer(batch * H, "the carried state")
        carriedC = try perLayer(batch * H, "the carried cell state")
        dPre = try ops.floats(grads * N * GH, "the gate gradients")
        dPreHH = try ops.floats(grads * (gru ? N * GH : 0), "the recurrent gradients")
        dH = try ops.floats(grads * N * H, "the output gradients")
        dX = try ops.floats(grads * N * E, "the input gradients")
        dhNext = try ops.floats(grads * batch * H, "dh")
        dcNext = try ops.floats(grads * batch * H, "dc")
    }

    /// Layer k's output as the next stage sees it (masked when dropout ran).
    func output(_ k: Int) -> (Floats, Int) {
        usedDropout ? (dropped[k], 0) : (hs[k], batch * H)
    }

    /// The input of layer k for the products.
    func layerInput(_ k: Int) -> LayerInput<Floats, Ops.Ids> {
        if k > 0 { let (b, o) = output(k - 1); return .dense(b, o) }
        return layout.encoder == nil ? .oneHot(inputs) : .dense(embedded, 0)
    }

    /// Runs the network over `steps` (default T; fewer only without
    /// training) timesteps of time-major tokens (B·steps each) from the
    /// carried state, leaves the final state carried, and returns the mean
    /// cross-entropy against `targets`. With `training`, dropout is drawn
    /// from `rng` and d loss / d logits is kept for `backward`.
    public func forward(params: Floats, inputs x: UnsafePointer<Int32>, targets y: UnsafePointer<Int32>, steps: Int? = nil,
                        training: Bool, rng: inout RNG) throws -> Double {
        let T = steps ?? seqLength, rows = batch * T
        precondition(T >= 1 && T <= seqLength && (!training || (T == seqLength && !forwardOnly)))
        try ops.upload(y, count: rows, to: targets)
        try layers(params: params, tokens: x, steps: T, training: training, rng: &rng)
        let (top, at) = output(L - 1)
        let total = try ops.decoder(params: params, top: top, at: at, rows: rows, logits: logits, targets: targets,
                                    gradientScale: training ? 1 / Float(rows) : nil)
        return total / Double(rows)
    }

    /// One step for each of the B rows (streams) from the carried state:
    /// the logits of the next token, (B, V) in `out`.
    public func step(params: Floats, tokens: UnsafePointer<Int32>, logits out: UnsafeMutablePointer<Float>) throws {
        var rng = RNG(seed: 0)  // unused without training
        try layers(params: params, tokens: tokens, steps: 1, training: false, rng: &rng)
        let (top, at) = output(L - 1)
        _ = try ops.decoder(params: params, top: top, at: at, rows: batch, logits: logits, targets: nil, gradientScale: nil)
        try ops.download(logits, at: 0, count: batch * V, into: out)
    }

    /// The layers over `steps` steps, the final state carried.
    func layers(params: Floats, tokens x: UnsafePointer<Int32>, steps T: Int, training: Bool, rng: inout RNG) throws {
        let B = batch, H = self.H, GH = self.GH, rows = B * T
        lastSteps = T
        try ops.upload(x, count: rows, to: inputs)
        usedDropout = training && config.dropout > 0
        if let enc = layout.encoder {
            try ops.gatherRows(params: params, table: enc, ids: inputs, row: 0, rows: rows, width: E, into: embedded, at: 0)
        }
        let cell = config.cell
        for k in 0..<L {
            let lay = layout.layers[k]
            let g = gates[k], h = hs[k], c = cs[k], tc = tanhC[k], hg = hgs[k], b = bias[k]
            try ops.copy(carriedH[k], at: 0, to: h, at: 0, count: B * H)
            if cell == .lstm { try ops.copy(carriedC[k], at: 0, to: c, at: 0, count: B * H) }
            try ops.prepareForward(layer: k, params: params, bias: b)
            let input = layerInput(k)
            let oneHot: Bool
            if case .oneHot = input { oneHot = true } else { oneHot = false }
            let byStep = ops.inputByStep(layer: k)
            if !byStep {
                try ops.inputProduct(layer: k, params: params, input: input, row: 0, rows: rows, into: g, at: 0)
            }
            // Each block of rows runs every step (a block's rows never
            // depend on another's).
            try ops.rowBlocks(B) { b0, nb in
                for t in 0..<T {
                    let r0 = t * B + b0
                    let gt = r0 * GH, prev = (t * B + b0) * H, next = ((t + 1) * B + b0) * H
                    // One-hot LSTM/RNN input step by step: the recurrent
                    // product starts from the gathered input columns.
                    let fused = oneHot && byStep && cell != .gru
                    if byStep && !fused {
                        try ops.inputProduct(layer: k, params: params, input: input, row: r0, rows: nb, into: g, at: gt)
                    }
                    switch cell {
                    case .lstm:
                        try ops.recurrentProduct(layer: k, params: params, h: h, at: prev, rows: nb,
                                                 start: fused ? .oneHotInput(inputs, row: r0) : .accumulate, into: g, at: gt)
                        try ops.lstmForward(gates: g, at: gt, bias: b, c: c, prev: prev, next: next, tanhC: tc, at: r0 * H,
                                            h: h, next: next, rows: nb)
                    case .gru:
                        try ops.recurrentProduct(layer: k, params: params, h: h, at: prev, rows: nb, start: .bias(lay.biasHH),
                                                 into: hg, at: gt)
                        try ops.gruForward(xg: g, at: gt, bias: b, hg: hg, at: gt, h: h, prev: prev, next: next, rows: nb)
                    case .rnn:
                        try ops.recurrentProduct(layer: k, params: params, h: h, at: prev, rows: nb,
                                                 start: fused ? .oneHotInput(inputs, row: r0) : .accumulate, into: g, at: gt)
                        try ops.rnnForward(pre: g, at: gt, bias: b, h: h, next: next, rows: nb)
                    }
                }
            }
            // Carry the final state.
            try ops.copy(h, at: T * B * H, to: carriedH[k], at: 0, count: B * H)
            if cell == .lstm { try ops.copy(c, at: T * B * H, to: carriedC[k], at: 0, count: B * H) }
            if usedDropout {
                try ops.dropout(layer: k, keep: Float(1 - config.dropout), rng: &rng, steps: T, batch: B, share: share,
                                input: h, at: B * H, into: dropped[k], count: rows * H)
            }
        }
    }

    /// Adds d loss / d params of the last training forward into `grads`.
    public func backward(params: Floats, grads: Floats) throws {
        precondition(!forwardOnly && lastSteps == seqLength)
        let B = batch, T = seqLength, H = self.H, GH = self.GH, N = self.N
        let (top, topAt) = output(L - 1)
        try ops.decoderBackward(params: params, grads: grads, dz: logits, top: top, at: topAt, rows: N, into: dH)
        let cell = config.cell
        for k in stride(from: L - 1, through: 0, by: -1) {
            if usedDropout { try ops.dropoutBackward(layer: k, d: dH, count: N * H) }
            let h = hs[k], g = gates[k], c = cs[k], tc = tanhC[k], hg = hgs[k]
            let dHH = cell == .gru ? dPreHH : dPre
            try ops.prepareBackward(layer: k, params: params)
            let input = layerInput(k)
            let oneHot: Bool
            if case .oneHot = input { oneHot = true } else { oneHot = false }
            // d wrt the layer input (not for one-hot input): k > 0 straight
            // into dH for the layer below (each step's rows of dH are read
            // before they are overwritten), layer 0 into dX.
            let dx = k > 0 ? dH : dX, In = config.inputSize(layer: k)
            let byStep = !oneHot && ops.inputGradientByStep(layer: k)
            // Back through time, each block of rows by itself.
            try ops.rowBlocks(B) { b0, nb in
                try ops.zero(dhNext, at: b0 * H, count: nb * H)
                try ops.zero(dcNext, at: b0 * H, count: nb * H)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let o = (t * B + b0) * H, og = (t * B + b0) * GH, dn = b0 * H
                    switch cell {
                    case .lstm:
                        try ops.lstmBackward(acts: g, at: og, c: c, prev: o, tanhC: tc, at: o, dAbove: dH, at: o,
                                             dhNext: dhNext, dcNext: dcNext, at: dn, dPre: dPre, at: og, rows: nb)
                        if t > 0 {
                            try ops.recurrentGradient(layer: k, params: params, d: dPre, at: og, rows: nb, accumulate: false,
                                                      into: dhNext, at: dn)
                        }
                    case .gru:
                        try ops.gruBackward(acts: g, at: og, hg: hg, at: og, h: h, prev: o, dAbove: dH, at: o,
                                            dhNext: dhNext, at: dn, dX: dPre, dH: dPreHH, at: og, rows: nb)
                        if t > 0 {
                            try ops.recurrentGradient(layer: k, params: params, d: dPreHH, at: og, rows: nb, accumulate: true,
                                                      into: dhNext, at: dn)
                        }
                    case .rnn:
                        try ops.rnnBackward(acts: g, at: og, dAbove: dH, at: o, dhNext: dhNext, at: dn, dPre: dPre, at: og,
                                            rows: nb)
                        if t > 0 {
                            try ops.recurrentGradient(layer: k, params: params, d: dPre, at: og, rows: nb, accumulate: false,
                                                      into: dhNext, at: dn)
                        }
                    }
                    if byStep {
                        try ops.inputGradient(layer: k, params: params, d: dPre, at: og, rows: nb, into: dx, at: (t * B + b0) * In)
                    }
                }
            }
            // Weight gradients over all steps at once.
            try ops.weightGradients(layer: k, grads: grads, dPre: dPre, dHH: dHH, h: h, input: input, rows: N)
            if !oneHot {
                if !byStep { try ops.inputGradient(layer: k, params: params, d: dPre, at: 0, rows: N, into: dx, at: 0) }
                if k == 0, let enc = layout.encoder {
                    try ops.scatterRows(grads: grads, table: enc, src: dX, ids: inputs, rows: N, width: E)
                }
            }
        }
    }

    /// Zeroes the carried state (every stream starts afresh).
    public func resetState() throws {
        for k in 0..<L {
            try ops.zero(carriedH[k], at: 0, count: batch * H)
            try ops.zero(carriedC[k], at: 0, count: batch * H)
        }
    }

    /// The carried state per layer, (B, H) each; cell state for LSTM (zeros otherwise).
    public func carriedState() throws -> (h: [[Float]], c: [[Float]]) {
        func read(_ b: Floats) throws -> [Float] {
            var v = [Float](repeating: 0, count: batch * H)
            try v.withUnsafeMutableBufferPointer { try ops.download(b, at: 0, count: batch * H, into: $0.baseAddress!) }
            return v
        }
        return (try carriedH.map(read), try carriedC.map(read))
    }

    public func setCarriedState(h: [[Float]], c: [[Float]]) throws {
        precondition(h.count == L && c.count == L)
        for k in 0..<L {
            try h[k].withUnsafeBufferPointer { try ops.upload($0.baseAddress!, count: batch * H, to: carriedH[k], at: 0) }
            if c[k].count == batch * H {
                try c[k].withUnsafeBufferPointer { try ops.upload($0.baseAddress!, count: batch * H, to: carriedC[k], at: 0) }
            }
        }
    }

    /// Row `row`'s carried state is copied from row `from` (beams that
    /// continue another's history); every layer.
    public func copyStateRow(_ from: Int, to row: Int) throws {
        if from == row { return }
        for k in 0..<L {
            try ops.copy(carriedH[k], at: from * H, to: carriedH[k], at: row * H, count: H)
            try ops.copy(carriedC[k], at: from * H, to: carriedC[k], at: row * H, count: H)
        }
    }

    /// The weights changed (an optimiser step): what the backend derived
    /// from them is made again on the next pass.
    public func weightsChanged() { ops.weightsChanged() }

    /// Logits of the last forward-only pass (before a training forward
    /// overwrote them with their gradient), (rows, V).
    public func lastLogits() throws -> [Float] {
        let n = batch * lastSteps * V
        var v = [Float](repeating: 0, count: n)
        try v.withUnsafeMutableBufferPointer { try ops.download(logits, at: 0, count: n, into: $0.baseAddress!) }
        return v
    }

    /// Layer k's hidden states of the last pass, ((steps + 1)·B, H): row 0..<B
    /// the state it started from (tracing).
    public func hiddenStates(layer k: Int) throws -> [Float] {
        let n = (lastSteps + 1) * batch * H
        var v = [Float](repeating: 0, count: n)
        try v.withUnsafeMutableBufferPointer { try ops.download(hs[k], at: 0, count: n, into: $0.baseAddress!) }
        return v
    }

    /// Layer k's LSTM cell states of the last pass, as hiddenStates (empty for GRU/RNN).
    public func cellStates(layer k: Int) throws -> [Float] {
        guard config.cell == .lstm else { return [] }
        let n = (lastSteps + 1) * batch * H
        var v = [Float](repeating: 0, count: n)
        try v.withUnsafeMutableBufferPointer { try ops.download(cs[k], at: 0, count: n, into: $0.baseAddress!) }
        return v
    }
}
