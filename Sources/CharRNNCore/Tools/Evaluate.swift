// Cross-entropy of a text under a model: the text is run from a zero state
// in order, each symbol predicting the next (n symbols, n - 1 predictions),
// in chunks through the batched network with the state carried.

#if canImport(Glibc)
import Glibc
#endif

public struct EvalResult {
    public var loss: Double          // nats per character
    public var predictions: Int
    public var skipped: Int
    public var bitsPerChar: Double { loss / ln2 }
    public var perplexity: Double { exp(loss) }

    /// rnn-ckpt eval's line for a text of `characters` known characters.
    public func line(characters: Int) -> String {
        "loss \(fixed(loss, 4)) nats/char, \(fixed(bitsPerChar, 4)) bits/char, perplexity \(fixed(perplexity, 3)), \(characters) characters (\(predictions) predicted, \(skipped) skipped)"
    }

    /// rnn-ckpt eval --json's record.
    public func json(characters: Int) -> JSONValue {
        .object([("loss", .double(loss)), ("bits_per_char", .double(bitsPerChar)), ("perplexity", .double(perplexity)),
                 ("characters", .int(characters)), ("predictions", .int(predictions)), ("skipped", .int(skipped))])
    }
}

/// The loss of `ids` under the checkpoint's model on `engine`. With
/// `logits`, also writes there a .npy file of the logits, float32 of shape
/// (n - 1, V): row t is the model's output after reading ids[0...t], the
/// scores of the symbol at t + 1 (rnn-ckpt eval --logits, for checking an
/// exported model against ours).
public func evaluate(checkpoint: Checkpoint, ids: [Int32], skipped: Int, threads: Int = 1,
                     engine: ComputeEngine = CPUEngine(), logits: ByteSink? = nil) throws -> EvalResult {
    let n = ids.count
    guard n >= 2 else { return EvalResult(loss: .nan, predictions: 0, skipped: skipped) }
    let scorer = try engine.scorer(config: checkpoint.config, params: checkpoint.params, chunk: min(256, n - 1), threads: threads)
    try logits?.write(NPZ.npyHeader(descr: "<f4", shape: [n - 1, checkpoint.vocab.count]))
    var total = 0.0
    var position = 0
    while position < n - 1 {
        let length = min(scorer.chunk, n - 1 - position)
        let inputs = Array(ids[position..<(position + length)])
        let targets = Array(ids[(position + 1)..<(position + 1 + length)])
        total += try scorer.loss(inputs: inputs, targets: targets) * Double(length)
        if let logits { try writeFloat32(try scorer.logits(), to: logits) }
        position += length
    }
    try logits?.flush()
    return EvalResult(loss: total / Double(n - 1), predictions: n - 1, skipped: skipped)
}

/// A text (or tokens file) to evaluate as ids under `vocab`: a tokens file
/// (gzip or safetensors) is mapped through its symbols, so one with
/// another vocabulary still works; text is encoded. Symbols the model does
/// not know are skipped and counted.
public func evaluationIDs(_ bytes: [UInt8], name: String, vocab: Vocab, checkpointName: String) throws
    -> (ids: [Int32], unknown: [UInt32: Int]) {
    if TensorFile.looksLikeTensorFile(bytes) {
        let tokens = try TokensFile.read(from: MemorySource(bytes), name: name)
        if tokens.vocab.unit != vocab.unit {
            throw CharRNNError("\(name) holds \(tokens.vocab.unit == .byte ? "bytes" : "characters") but \(checkpointName) models \(vocab.unit == .byte ? "bytes" : "characters")",
                               hint: "evaluate the text itself, or encode it \(vocab.unit == .byte ? "with" : "without") --bytes")
        }
        let toids = TokenIDs(tokens.tokens)
        let map = tokens.vocab.symbols.map { vocab.id(of: $0).map(Int32.init) }
        var ids: [Int32] = [], unknown: [UInt32: Int] = [:]
        for i in 0..<toids.count {
            if let id = map[toids[i]] { ids.append(id) } else { unknown[tokens.vocab.symbols[toids[i]], default: 0] += 1 }
        }
        return (ids, unknown)
    }
    do {
        return try bytes.withUnsafeBufferPointer { try TokenCodec(vocab: vocab).ids($0, name: name, unknown: .skip) }
    } catch let e as CharRNNError {
        throw CharRNNError(e.what, hint: "\(checkpointName) models UTF-8 characters; convert the text (e.g. iconv)")
    }
}

/// rnn-ckpt eval --per-char: for every symbol of `ids` after the first, a
/// TSV row of its position (0-based; the first symbol has no prediction),
/// the symbol, its probability under the model given the text before it,
/// that in bits (the surprise), and the model's `top` most likely symbols
/// with their probabilities. Symbols are written as in vocabulary files
/// (\n, \t, \\ escaped). A header row names the columns. Returns the
/// result that rnn-ckpt eval prints.
@discardableResult
public func writePerSymbolScores(checkpoint: Checkpoint, ids: [Int32], skipped: Int, top: Int, threads: Int = 1,
                                 engine: ComputeEngine = CPUEngine(), to sink: ByteSink,
                                 logits logitsSink: ByteSink? = nil) throws -> EvalResult {
    let n = ids.count
    let vocab = checkpoint.vocab
    let V = vocab.count
    if n >= 2 { try logitsSink?.write(NPZ.npyHeader(descr: "<f4", shape: [n - 1, V])) }
    let k = min(top, V)
    let names = (0..<V).map { vocab.escaped(vocab.symbols[$0]) }
    var header = "position\tsymbol\tprobability\tbits"
    for r in 0..<k { header += "\ttop\(r + 1)\tp\(r + 1)" }
    try sink.write(Array((header + "\n").utf8))
    guard n >= 2 else { return EvalResult(loss: .nan, predictions: 0, skipped: skipped) }
    let scorer = try engine.scorer(config: checkpoint.config, params: checkpoint.params, chunk: min(256, n - 1), threads: threads)
    var total = 0.0
    var position = 0
    var probs = [Double](repeating: 0, count: V)
    while position < n - 1 {
        let length = min(scorer.chunk, n - 1 - position)
        let inputs = Array(ids[position..<(position + length)])
        let targets = Array(ids[(position + 1)..<(position + 1 + length)])
        _ = try scorer.loss(inputs: inputs, targets: targets)
        let logits = try scorer.logits()
        if let logitsSink { try writeFloat32(logits, to: logitsSink) }
        var text = ""
        for t in 0..<length {
            softmax(logits[(t * V)..<((t + 1) * V)], into: &probs)
            let target = Int(targets[t])
            let p = probs[target]
            total -= log(p)
            text += "\(position + t + 1)\t\(names[target])\t\(probabilityText(p))\t\(fixed(-log2(p), 4))"
            if k > 0 {
                for v in topIndices(probs, k) { text += "\t\(names[v])\t\(probabilityText(probs[v]))" }
            }
            text += "\n"
        }
        try sink.write(Array(text.utf8))
        position += length
    }
    try sink.flush()
    try logitsSink?.flush()
    return EvalResult(loss: total / Double(n - 1), predictions: n - 1, skipped: skipped)
}

/// Floats as float32 bytes, little-endian as in tensor files (Tensor(floats:)).
func writeFloat32(_ values: [Float], to sink: ByteSink) throws {
    try values.withUnsafeBytes { try sink.write($0) }
}

/// A probability: 6 decimals, or for small ones 6 significant digits
/// ("0.123456", "1.23457e-07").
func probabilityText(_ p: Double) -> String {
    if p >= 1e-4 || p <= 0 { return fixed(p, 6) }
    var e = 0
    var m = p
    while m < 1 { m *= 10; e += 1 }
    return "\(fixed(m, 5))e-\(e < 10 ? "0" : "")\(e)"
}
