// The model's shape (cell type, sizes) and its one parameter block, carved
// into named views in PyTorch's order, which is also the checkpoint order.

public enum CellKind: String, CaseIterable, Sendable {
    case lstm, gru, rnn

    /// Gate blocks per layer: LSTM i,f,g,o; GRU r,z,n; RNN one.
    public var gates: Int {
        switch self {
        case .lstm: return 4
        case .gru: return 3
        case .rnn: return 1
        }
    }
}

public struct ModelConfig: Equatable, Sendable {
    public var cell: CellKind
    public var rnnSize: Int
    public var numLayers: Int
    /// 0: one-hot input (char-rnn); > 0: a learned embedding (torch-rnn).
    public var embeddingSize: Int
    public var dropout: Double
    public var vocabSize: Int

    /// char-rnn's defaults (a 2×128 LSTM, one-hot input, no dropout); the
    /// vocabulary size comes from the data.
    public static let defaults = ModelConfig(cell: .lstm, rnnSize: 128, numLayers: 2, embeddingSize: 0, dropout: 0, vocabSize: 1)

    public init(cell: CellKind, rnnSize: Int, numLayers: Int, embeddingSize: Int, dropout: Double, vocabSize: Int) {
        self.cell = cell
        self.rnnSize = rnnSize
        self.numLayers = numLayers
        self.embeddingSize = embeddingSize
        self.dropout = dropout
        self.vocabSize = vocabSize
    }

    /// Width of layer k's input.
    public func inputSize(layer k: Int) -> Int {
        if k > 0 { return rnnSize }
        return embeddingSize > 0 ? embeddingSize : vocabSize
    }

    public var json: JSONValue {
        .object([
            ("model", .string(cell.rawValue)),
            ("rnn_size", .int(rnnSize)),
            ("num_layers", .int(numLayers)),
            ("embedding_size", .int(embeddingSize)),
            ("dropout", .double(dropout)),
            ("vocab_size", .int(vocabSize)),
        ])
    }

    public init(json: JSONValue, name: String) throws {
        func bad(_ key: String) -> CharRNNError {
            CharRNNError("\(name): checkpoint config has no valid '\(key)'", hint: "the checkpoint is corrupt or not from charrnn")
        }
        guard let m = json["model"]?.stringValue, let cell = CellKind(rawValue: m) else { throw bad("model") }
        guard let h = json["rnn_size"]?.intValue, h > 0 else { throw bad("rnn_size") }
        guard let l = json["num_layers"]?.intValue, l > 0 else { throw bad("num_layers") }
        guard let e = json["embedding_size"]?.intValue, e >= 0 else { throw bad("embedding_size") }
        guard let d = json["dropout"]?.doubleValue, d >= 0, d < 1 else { throw bad("dropout") }
        guard let v = json["vocab_size"]?.intValue, v > 0 else { throw bad("vocab_size") }
        self.init(cell: cell, rnnSize: h, numLayers: l, embeddingSize: e, dropout: d, vocabSize: v)
    }

    public var description: String {
        "\(numLayers)×\(rnnSize) \(cell.rawValue.uppercased())" + (embeddingSize > 0 ? ", embedding \(embeddingSize)" : ", one-hot input")
    }
}

/// A named slice of the parameter block.
public struct ParamView: Sendable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// Offsets of every parameter in the one flat block.
public struct ParamLayout: Sendable {
    public let config: ModelConfig
    public private(set) var views: [ParamView] = []
    public private(set) var total = 0

    public struct Layer: Sendable {
        public var weightIH: Int, weightHH: Int, biasIH: Int, biasHH: Int
    }
    public private(set) var encoder: Int? = nil
    public private(set) var layers: [Layer] = []
    public private(set) var decoderWeight = 0
    public private(set) var decoderBias = 0

    public init(_ config: ModelConfig) {
        self.config = config
        var wih = 0, whh = 0, bih = 0
        // The weights in order (ModelConfig.forEachWeight); a config reaching
        // here has sizes that fit (checked where they come from).
        try! config.forEachWeight(name: "") { name, shape in
            let offset = add(name, shape)
            switch name {
            case "encoder.weight": encoder = offset
            case "decoder.weight": decoderWeight = offset
            case "decoder.bias": decoderBias = offset
            case _ where name.hasPrefix("rnn.weight_ih"): wih = offset
            case _ where name.hasPrefix("rnn.weight_hh"): whh = offset
            case _ where name.hasPrefix("rnn.bias_ih"): bih = offset
            default: layers.append(Layer(weightIH: wih, weightHH: whh, biasIH: bih, biasHH: offset))
            }
        }
    }

    /// The number of parameters, or nil when it overflows 64-bit arithmetic
    /// (sizes from a user or a file, checked before any allocation).
    public static func count(_ config: ModelConfig) -> Int? {
        var total = 0
        do {
            try config.forEachWeight(name: "") { _, shape in
                var n = 1
                for d in shape {
                    let (p, o) = n.multipliedReportingOverflow(by: d)
                    if o { throw CharRNNError("overflow") }
                    n = p
                }
                let (t, o) = total.addingReportingOverflow(n)
                if o { throw CharRNNError("overflow") }
                total = t
            }
        } catch {
            return nil
        }
        return total
    }

    private mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = total
        views.append(ParamView(name: name, shape: shape, offset: offset))
        total += shape.reduce(1, *)
        return offset
    }

    public func view(_ name: String) -> ParamView? { views.first { $0.name == name } }
}

/// char-rnn's initialisation: uniform(-0.08, 0.08) everywhere, then the
/// LSTM forget-gate input bias set to 1.
public func initialParameters(_ layout: ParamLayout, rng: inout RNG) -> [Float] {
    var params = [Float](repeating: 0, count: layout.total)
    for i in 0..<params.count { params[i] = Float(rng.uniform() * 0.16 - 0.08) }
    if layout.config.cell == .lstm {
        let h = layout.config.rnnSize
        for layer in layout.layers {
            for j in h..<(2 * h) { params[layer.biasIH + j] = 1 }
        }
    }
    return params
}

extension ModelConfig {
    /// Calls `body` with the name and shape of each weight this config
    /// names, in layout order, computing the shapes without overflow (a
    /// config read from a file may hold any sizes). When `body` throws for
    /// a weight the file lacks, iteration stops there: a huge `num_layers`
    /// costs nothing. Call it before `ParamLayout(config)` on untrusted
    /// configs; once every shape matched a tensor that was really read,
    /// the layout's arithmetic cannot overflow.
    public func forEachWeight(name: String, _ body: (String, [Int]) throws -> Void) throws {
        let (gateRows, overflow) = cell.gates.multipliedReportingOverflow(by: rnnSize)
        if overflow {
            throw CharRNNError("\(name): checkpoint config has rnn_size \(rnnSize), which is out of range",
                               hint: "the checkpoint is corrupt")
        }
        if embeddingSize > 0 {
            try body("encoder.weight", [vocabSize, embeddingSize])
        }
        for k in 0..<numLayers {
            try body("rnn.weight_ih_l\(k)", [gateRows, inputSize(layer: k)])
            try body("rnn.weight_hh_l\(k)", [gateRows, rnnSize])
            try body("rnn.bias_ih_l\(k)", [gateRows])
            try body("rnn.bias_hh_l\(k)", [gateRows])
        }
        try body("decoder.weight", [vocabSize, rnnSize])
        try body("decoder.bias", [vocabSize])
    }
}
