// Generation on an OpenCL device, one character at a time (batch 1): the
// weights and state stay on the device, the token goes up as a kernel
// argument and the V logits come back. Mirrors Sample/Sampler.swift.

public final class CLSampler: CharacterStepper {
    public let config: ModelConfig
    let layout: ParamLayout
    let cl: CLContext
    let ops: CLOps
    let H: Int, GH: Int, V: Int, L: Int
    let params: FloatBuf              // (P)
    let h: [FloatBuf]                 // per layer (H)
    let c: [FloatBuf]                 // per layer (H), LSTM
    let pre: FloatBuf                 // (GH) input part
    let rec: FloatBuf                 // (GH) recurrent part
    let tanhC: FloatBuf               // (H) scratch
    let logits: FloatBuf              // (V)
    let hostLogits: FloatBuffer       // (V) on the host

    public init(context: CLContext, config: ModelConfig, params host: [Float]) throws {
        self.cl = context
        self.ops = CLOps(cl: context)
        self.config = config
        layout = ParamLayout(config)
        let H = config.rnnSize, GH = config.cell.gates * config.rnnSize, V = config.vocabSize, L = config.numLayers
        self.H = H; self.GH = GH; self.V = V; self.L = L
        params = try FloatBuf(context, count: layout.total, name: "the weights")
        try params.write(host)
        h = try (0..<L).map { try FloatBuf(context, count: H, name: "the state of layer \($0)") }
        c = try (0..<L).map { try FloatBuf(context, count: H, name: "the cell of layer \($0)") }
        pre = try FloatBuf(context, count: GH, name: "the gates")
        rec = try FloatBuf(context, count: GH, name: "the recurrent gates")
        tanhC = try FloatBuf(context, count: H, name: "tanh c")
        logits = try FloatBuf(context, count: V, name: "the logits")
        hostLogits = FloatBuffer(V)
    }

    public func reset() throws {
        for k in 0..<L { try h[k].zero(); try c[k].zero() }
    }

    public func step(token: Int) throws -> UnsafeMutableBufferPointer<Float> {
        for k in 0..<L {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            // pre = W_ih x + b_ih
            if k == 0, layout.encoder == nil {
                try ops.biasToken(pre, params: params, bias: lay.biasIH, oneHot: (lay.weightIH, V), token: token, width: GH)
            } else {
                try clCopy(params, at: lay.biasIH, to: pre, count: GH)
                if k == 0, let enc = layout.encoder {
                    try cl.gemv(m: GH, n: In, a: params, lay.weightIH, lda: In, x: params, enc + token * In, beta: 1, y: pre)
                } else {
                    try cl.gemv(m: GH, n: In, a: params, lay.weightIH, lda: In, x: h[k - 1], beta: 1, y: pre)
                }
            }
            // rec = W_hh h + b_hh
            try clCopy(params, at: lay.biasHH, to: rec, count: GH)
            try cl.gemv(m: GH, n: H, a: params, lay.weightHH, lda: H, x: h[k], beta: 1, y: rec)
            switch config.cell {
            case .lstm:
                try ops.addTo(pre, rec, count: GH)
                try ops.lstmForward(gates: pre, 0, c: c[k], cPrev: 0, cNext: 0, tanhC: tanhC, 0, h: h[k], hNext: 0, rows: 1, H: H)
            case .gru:
                try ops.gruForward(xg: pre, 0, hg: rec, 0, h: h[k], hPrev: 0, hNext: 0, rows: 1, H: H)
            case .rnn:
                try ops.addTo(pre, rec, count: GH)
                try ops.rnnForward(pre: pre, 0, h: h[k], hNext: 0, count: H)
            }
        }
        try clCopy(params, at: layout.decoderBias, to: logits, count: V)
        try cl.gemv(m: V, n: H, a: params, layout.decoderWeight, lda: H, x: h[L - 1], beta: 1, y: logits)
        try logits.read(into: hostLogits.pointer, count: V)
        return UnsafeMutableBufferPointer(start: hostLogits.pointer, count: V)
    }

    /// The hidden state of layer k (tests).
    public func hidden(layer k: Int) throws -> [Float] { try h[k].read() }
}
