// rnn-ckpt trace: the model run over a text, keeping for every symbol each
// layer's hidden (and LSTM cell) state after reading it, the probability it
// gave the symbol that follows and its top predictions; and the neuron
// search (--find), which ranks neurons by how well their activation follows
// the parts of the text a regular expression matches.

#if canImport(Glibc)
import Glibc
#endif

/// One neuron: layer (0-based), index, and whether it is the LSTM cell
/// state (c) rather than the hidden state (h).
public struct Neuron: Hashable, CustomStringConvertible {
    public var layer: Int
    public var index: Int
    public var cell: Bool
    public init(layer: Int, index: Int, cell: Bool = false) { self.layer = layer; self.index = index; self.cell = cell }
    /// "h2:17" (1-based layer, as --neurons writes it).
    public var description: String { "\(cell ? "c" : "h")\(layer + 1):\(index)" }
}

public struct Trace {
    public let config: ModelConfig
    public let vocab: Vocab
    public let ids: [Int32]
    /// Per layer, (n, H): the hidden state after reading symbol t.
    public internal(set) var h: [[Float]]
    /// Per layer, (n, H): the LSTM cell state after symbol t (empty for GRU/RNN).
    public internal(set) var c: [[Float]]
    /// The probability of symbol t + 1 after reading up to t (NaN for the last).
    public internal(set) var nextProbability: [Float]
    /// Per symbol, the `top` most likely next symbols and their probabilities.
    public internal(set) var top: [[(id: Int32, probability: Float)]]

    public var count: Int { ids.count }

    /// Runs `checkpoint`'s model over `ids` from a zero state.
    public init(checkpoint: Checkpoint, ids: [Int32], top K: Int, threads: Int = 1, engine: ComputeEngine = CPUEngine()) throws {
        config = checkpoint.config
        vocab = checkpoint.vocab
        self.ids = ids
        let n = ids.count, H = config.rnnSize, L = config.numLayers, V = vocab.count
        h = Array(repeating: [], count: L)
        c = Array(repeating: [], count: L)
        for k in 0..<L {
            h[k].reserveCapacity(n * H)
            if config.cell == .lstm { c[k].reserveCapacity(n * H) }
        }
        nextProbability = []
        top = []
        guard n > 0 else { return }
        let scorer = try engine.scorer(config: config, params: checkpoint.params, chunk: min(256, n), threads: threads)
        try scorer.reset()
        var position = 0
        var probs = [Double](repeating: 0, count: V)
        while position < n {
            let length = min(scorer.chunk, n - position)
            let inputs = Array(ids[position..<(position + length)])
            // The last symbol has no successor: its target is a stand-in.
            let targets = (0..<length).map { t in position + t + 1 < n ? ids[position + t + 1] : 0 }
            _ = try scorer.loss(inputs: inputs, targets: targets)
            for k in 0..<L {
                let s = try scorer.states(layer: k)
                h[k] += s.h[H..<((length + 1) * H)]      // row 0 is the state the chunk started from
                if config.cell == .lstm { c[k] += s.c[H..<((length + 1) * H)] }
            }
            let logits = try scorer.logits()
            for t in 0..<length {
                softmax(logits[(t * V)..<((t + 1) * V)], into: &probs)
                nextProbability.append(position + t + 1 < n ? Float(probs[Int(targets[t])]) : .nan)
                top.append(topIndices(probs, min(K, V)).map { (Int32($0), Float(probs[$0])) })
            }
            position += length
        }
    }

    /// The activation of `neuron` at every symbol.
    public func activation(_ neuron: Neuron) -> [Float] {
        let H = config.rnnSize
        let rows = neuron.cell ? c[neuron.layer] : h[neuron.layer]
        guard !rows.isEmpty else { return [] }
        return (0..<count).map { rows[$0 * H + neuron.index] }
    }

    /// Every neuron there is: h (and c for LSTM) of every layer.
    public var neurons: [Neuron] {
        var all: [Neuron] = []
        for k in 0..<config.numLayers {
            for cell in config.cell == .lstm ? [false, true] : [false] {
                all += (0..<config.rnnSize).map { Neuron(layer: k, index: $0, cell: cell) }
            }
        }
        return all
    }

    /// --neurons: "2:5,2:7", "c1:3", "h2:*" or "2" (a whole layer), 1-based
    /// layers; nil for the default, the last layer's hidden state.
    public func parseNeurons(_ spec: String?) throws -> [Neuron] {
        guard let spec, !spec.isEmpty else {
            return (0..<config.rnnSize).map { Neuron(layer: config.numLayers - 1, index: $0) }
        }
        var out: [Neuron] = []
        for part in spec.split(separator: ",") {
            var p = Substring(part.trimmingCharacters(in: " "))
            var cell = false
            if p.first == "c" || p.first == "h" { cell = p.first == "c"; p = p.dropFirst() }
            let fields = p.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(fields.count), let layer = Int(fields[0]), (1...config.numLayers).contains(layer) else {
                throw CharRNNError("--neurons: '\(part)' is not LAYER:INDEX with a layer from 1 to \(config.numLayers)",
                                   hint: "give for example 2:17, c1:5, or 2 for a whole layer")
            }
            if cell && config.cell != .lstm {
                throw CharRNNError("--neurons: '\(part)' asks for a cell state, which only LSTM models have", hint: "drop the c")
            }
            if fields.count == 1 || fields[1] == "*" {
                out += (0..<config.rnnSize).map { Neuron(layer: layer - 1, index: $0, cell: cell) }
                continue
            }
            guard let index = Int(fields[1]), (0..<config.rnnSize).contains(index) else {
                throw CharRNNError("--neurons: '\(part)': the index must be from 0 to \(config.rnnSize - 1)", hint: "give for example \(layer):0")
            }
            out.append(Neuron(layer: layer - 1, index: index, cell: cell))
        }
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}

/// How well a neuron follows a feature of the text.
public struct NeuronScore {
    public var neuron: Neuron
    /// Pearson correlation of its activation with the feature (1 inside a
    /// match, 0 outside), in [-1, 1].
    public var correlation: Double
}

/// The neurons ranked by |correlation| with `feature` (one value per
/// symbol), strongest first; constant neurons score 0.
public func rankNeurons(_ trace: Trace, by feature: [Double], among neurons: [Neuron]? = nil) -> [NeuronScore] {
    let n = trace.count
    precondition(feature.count == n)
    let fm = feature.reduce(0, +) / Double(max(n, 1))
    let fd = feature.map { $0 - fm }
    let fss = fd.reduce(0) { $0 + $1 * $1 }
    var scores: [NeuronScore] = []
    for neuron in neurons ?? trace.neurons {
        let a = trace.activation(neuron)
        let am = a.reduce(0.0) { $0 + Double($1) } / Double(max(n, 1))
        var sxy = 0.0, sxx = 0.0
        for t in 0..<n {
            let d = Double(a[t]) - am
            sxy += d * fd[t]
            sxx += d * d
        }
        let r = sxx > 0 && fss > 0 ? sxy / (sxx * fss).squareRoot() : 0
        scores.append(NeuronScore(neuron: neuron, correlation: r))
    }
    return scores.sorted { abs($0.correlation) > abs($1.correlation) }
}

/// 1 for every symbol inside a match of `pattern` in the text, else 0. The
/// text is the symbols in order (bytes as Latin-1 characters for a byte
/// model); matching is on Unicode scalars.
public func regexFeature(_ trace: Trace, pattern: String) throws -> [Double] {
    let regex: Regex<AnyRegexOutput>
    do {
        regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
    } catch {
        throw CharRNNError("--find: '\(pattern)' is not a regular expression (\(error))", hint: "check its brackets and escapes")
    }
    var scalars = String.UnicodeScalarView()
    for id in trace.ids { scalars.append(Unicode.Scalar(trace.vocab.symbols[Int(id)]) ?? "\u{FFFD}") }
    let text = String(scalars)
    var feature = [Double](repeating: 0, count: trace.count)
    var offset = 0
    var at = text.unicodeScalars.startIndex
    for match in text.matches(of: regex) where !match.range.isEmpty {
        offset += text.unicodeScalars.distance(from: at, to: match.range.lowerBound)
        let length = text.unicodeScalars.distance(from: match.range.lowerBound, to: match.range.upperBound)
        for t in offset..<min(offset + length, trace.count) { feature[t] = 1 }
        offset += length
        at = match.range.upperBound
    }
    return feature
}

extension Trace {
    /// The TSV of rnn-ckpt trace: a header, then a row per symbol: its
    /// position, the symbol (escaped as in vocabulary files), each chosen
    /// neuron's activation after reading it, the probability of the symbol
    /// that follows (empty for the last) and the top predictions.
    public func tsv(neurons: [Neuron], to sink: ByteSink) throws {
        let K = top.first?.count ?? 0
        var header = "position\tsymbol"
        for nn in neurons { header += "\t\(nn)" }
        header += "\tnext_probability"
        for r in 0..<K { header += "\ttop\(r + 1)\tp\(r + 1)" }
        try sink.write(Array((header + "\n").utf8))
        let columns = neurons.map { activation($0) }
        let names = vocab.symbols.map { vocab.escaped($0) }
        var text = ""
        for t in 0..<count {
            text += "\(t)\t\(names[Int(ids[t])])"
            for col in columns { text += "\t\(fixed(Double(col[t]), 6))" }
            text += "\t" + (nextProbability[t].isNaN ? "" : probabilityText(Double(nextProbability[t])))
            for p in top[t] { text += "\t\(names[Int(p.id)])\t\(probabilityText(Double(p.probability)))" }
            text += "\n"
            if text.utf8.count > 1 << 16 { try sink.write(Array(text.utf8)); text = "" }
        }
        try sink.write(Array(text.utf8))
    }

    /// --format npz: ids (n), vocab (V, code points or bytes), h1…hL and
    /// for LSTM c1…cL (n, H), next_probability (n; NaN for the last),
    /// top_ids and top_probability (n, K).
    public func npz() throws -> [UInt8] {
        func u32(_ v: [UInt32], _ shape: [Int]) -> Tensor { Tensor(dtype: .U32, shape: shape, bytes: v.withUnsafeBytes { Array($0) }) }
        let n = count, H = config.rnnSize, K = top.first?.count ?? 0
        var arrays: [(String, Tensor)] = [("ids", u32(ids.map { UInt32($0) }, [n])), ("vocab", u32(vocab.symbols, [vocab.count]))]
        for k in 0..<config.numLayers { arrays.append(("h\(k + 1)", Tensor(floats: h[k], shape: [n, H]))) }
        if config.cell == .lstm {
            for k in 0..<config.numLayers { arrays.append(("c\(k + 1)", Tensor(floats: c[k], shape: [n, H]))) }
        }
        arrays.append(("next_probability", Tensor(floats: nextProbability, shape: [n])))
        arrays.append(("top_ids", u32(top.flatMap { $0.map { UInt32($0.id) } }, [n, K])))
        arrays.append(("top_probability", Tensor(floats: top.flatMap { $0.map(\.probability) }, shape: [n, K])))
        return try NPZ.archive(arrays)
    }
}
