// Text <-> token ids: encoding a text with a vocab (what to do with unknown
// symbols), decoding ids back to the exact text, and tokens files.

public enum UnknownPolicy: Equatable, Sendable {
    case error
    case skip
    case replace(UInt32)

    /// Parses "error", "skip" or "replace:C" (C one character, or an escape
    /// as in vocab files: \n, \u{XXXX}, and \xHH for byte vocabularies).
    public static func parse(_ text: String, unit: TextUnit = .char) -> UnknownPolicy? {
        switch text {
        case "error": return .error
        case "skip": return .skip
        default:
            guard text.hasPrefix("replace:") else { return nil }
            let rest = Substring(text.dropFirst("replace:".count))
            if let v = Vocab.unescape(rest, unit: unit) { return .replace(v) }
            return nil
        }
    }
}

public struct TokenCodec {
    public let vocab: Vocab

    public init(vocab: Vocab) { self.vocab = vocab }

    /// Encodes text bytes to a tokens tensor of the vocab's dtype.
    /// Two passes: count, then fill, so memory is the tokens alone.
    public func encode(_ bytes: UnsafeBufferPointer<UInt8>, name: String, unknown: UnknownPolicy) throws -> Tensor {
        let replacement = try replacementID(unknown)
        let total = try countTokens(bytes, name: name, unknown: unknown)
        let dtype = vocab.tokenDType
        var out = [UInt8](repeating: 0, count: total * dtype.size)
        var position = 0
        try out.withUnsafeMutableBytes { raw in
            try forEachSymbol(bytes, name: name) { symbol, _ in
                guard let id = vocab.id(of: symbol) ?? replacement else { return }
                switch dtype {
                case .U8: raw[position] = UInt8(id)
                case .U16: raw.storeBytes(of: UInt16(id).littleEndian, toByteOffset: 2 * position, as: UInt16.self)
                default: raw.storeBytes(of: UInt32(id).littleEndian, toByteOffset: 4 * position, as: UInt32.self)
                }
                position += 1
            }
        }
        return Tensor(dtype: dtype, shape: [total], bytes: out)
    }

    /// As `encode`, but consumes the text (`bytes` is left empty). With a
    /// vocab of at most 256 symbols (U8 tokens) the ids are written over
    /// the text itself: every symbol takes at least one byte of text and
    /// exactly one byte of tokens, so writing never overtakes reading, and
    /// a 1 GB corpus needs 1 GB of memory instead of 2. Nothing is changed
    /// before every symbol has been checked.
    public func encodeInPlace(_ bytes: inout [UInt8], name: String, unknown: UnknownPolicy) throws -> Tensor {
        guard vocab.tokenDType == .U8, !bytes.isEmpty else {
            let tokens = try bytes.withUnsafeBufferPointer { try encode($0, name: name, unknown: unknown) }
            bytes = []
            return tokens
        }
        let replacement = try replacementID(unknown)
        let total = try bytes.withUnsafeBufferPointer { try countTokens($0, name: name, unknown: unknown) }
        var position = 0
        try bytes.withUnsafeMutableBufferPointer { text in
            let out = text.baseAddress!
            try forEachSymbol(UnsafeBufferPointer(text), name: name) { symbol, _ in
                guard let id = vocab.id(of: symbol) ?? replacement else { return }
                out[position] = UInt8(id)
                position += 1
            }
        }
        precondition(position == total)
        bytes.removeLast(bytes.count - total)
        let tokens = bytes
        bytes = []
        return Tensor(dtype: .U8, shape: [total], bytes: tokens)
    }

    /// The ids of a short text's symbols as an array (a prime, a text to
    /// evaluate), with `unknown` applied; the symbols not in the vocabulary
    /// are counted (symbol → occurrences) unless the policy is .error, which
    /// throws at the first one.
    public func ids(_ bytes: UnsafeBufferPointer<UInt8>, name: String, unknown: UnknownPolicy) throws
        -> (ids: [Int32], unknown: [UInt32: Int]) {
        let replacement = try replacementID(unknown)
        var ids: [Int32] = []
        var missing: [UInt32: Int] = [:]
        try forEachSymbol(bytes, name: name) { symbol, offset in
            if let id = vocab.id(of: symbol) { ids.append(Int32(id)); return }
            switch unknown {
            case .error: throw unknownSymbol(symbol, offset: offset, name: name)
            case .skip: missing[symbol, default: 0] += 1
            case .replace: missing[symbol, default: 0] += 1; ids.append(Int32(replacement!))
            }
        }
        return (ids, missing)
    }

    func unknownSymbol(_ symbol: UInt32, offset: Int, name: String) -> CharRNNError {
        CharRNNError("\(name): \(vocab.describe(symbol)) at byte offset \(offset) is not in the vocabulary",
                     hint: "use a vocab that has it, or --unknown skip / --unknown replace:C")
    }

    /// Symbols not in the vocabulary as a list for messages, most frequent
    /// first: "'Q' (U+0051) ×3, ..." (at most `limit`).
    public func describeUnknown(_ counts: [UInt32: Int], limit: Int = 8) -> String {
        let shown = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(limit)
            .map { "\(vocab.describe($0.key)) ×\($0.value)" }
        return shown.joined(separator: ", ") + (counts.count > limit ? " and \(counts.count - limit) more" : "")
    }

    /// The id that `--unknown replace:C` writes, nil for other policies.
    func replacementID(_ unknown: UnknownPolicy) throws -> Int? {
        guard case let .replace(c) = unknown else { return nil }
        guard let id = vocab.id(of: c) else {
            throw CharRNNError("the replacement \(vocab.describe(c)) is not in the vocabulary",
                               hint: "choose a replacement character that the vocab contains")
        }
        return id
    }

    /// Pass 1 of encoding: the number of tokens; an unknown symbol is an
    /// error unless the policy skips or replaces it.
    func countTokens(_ bytes: UnsafeBufferPointer<UInt8>, name: String, unknown: UnknownPolicy) throws -> Int {
        var total = 0
        try forEachSymbol(bytes, name: name) { symbol, offset in
            if vocab.id(of: symbol) != nil {
                total += 1
                return
            }
            switch unknown {
            case .error: throw unknownSymbol(symbol, offset: offset, name: name)
            case .skip: break
            case .replace: total += 1
            }
        }
        return total
    }

    @inline(__always)
    func forEachSymbol(_ bytes: UnsafeBufferPointer<UInt8>, name: String, _ body: (UInt32, Int) throws -> Void) throws {
        switch vocab.unit {
        case .byte:
            for i in 0..<bytes.count { try body(UInt32(bytes[i]), i) }
        case .char:
            try UTF8Scan.forEachScalar(bytes, name: name, body)
        }
    }

    /// Writes the text of a tokens tensor to a sink; ids outside the vocab
    /// are an error naming the position.
    public func decode(_ tokens: Tensor, name: String, to sink: ByteSink) throws {
        let pieces: [[UInt8]] = (0..<vocab.count).map { vocab.bytes(of: $0) }
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 16)
        let n = tokens.count
        try tokens.bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                let id: Int
                switch tokens.dtype {
                case .U8: id = Int(raw[i])
                case .U16: id = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case .U32: id = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case .I32: id = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                default:
                    throw CharRNNError("\(name): tokens have dtype \(tokens.dtype.rawValue)", hint: "tokens must be U8, U16 or U32")
                }
                guard id >= 0 && id < pieces.count else {
                    throw CharRNNError("\(name): token \(id) at position \(i) is outside the vocabulary (size \(pieces.count))",
                                       hint: "the tokens file is corrupt or does not belong to this vocab")
                }
                buffer.append(contentsOf: pieces[id])
                if buffer.count >= 1 << 16 {
                    try sink.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        }
        try sink.write(buffer)
        try sink.flush()
    }
}

/// A tokens file: the ids and the vocab they index.
public struct TokensFile {
    public var vocab: Vocab
    public var tokens: Tensor

    public init(vocab: Vocab, tokens: Tensor) {
        self.vocab = vocab
        self.tokens = tokens
    }

    public var tensorFile: TensorFile {
        TensorFile(tensors: [("tokens", tokens)],
                   metadata: [("format", TensorFile.tokensFormat), ("vocab", vocab.tsv)])
    }

    /// Reads and checks a tokens file (path or "-" for stdin).
    public static func read(path: String?) throws -> TokensFile {
        let source = try FileSource.open(path)
        return try read(from: source, name: source.name)
    }

    public static func read(from source: ByteSource, name: String) throws -> TokensFile {
        let file = try TensorFile.read(from: source, name: name, expectFormat: TensorFile.tokensFormat)
        guard let vocabText = file.meta("vocab") else {
            throw CharRNNError("\(name): the tokens file has no vocab", hint: "remake it with rnn-encode")
        }
        let vocab = try Vocab.parse(vocabText, name: "\(name) (embedded vocab)")
        guard let tokens = file["tokens"] else {
            throw CharRNNError("\(name): the tokens file has no 'tokens' tensor", hint: "remake it with rnn-encode")
        }
        guard tokens.shape.count == 1, [.U8, .U16, .U32].contains(tokens.dtype) else {
            throw CharRNNError("\(name): 'tokens' must be a 1-D U8/U16/U32 tensor, found \(tokens.dtype.rawValue) \(tokens.shape)",
                               hint: "remake it with rnn-encode")
        }
        let ids = TokenIDs(tokens)
        let limit = vocab.count
        for i in 0..<ids.count where ids[i] >= limit {
            throw CharRNNError("\(name): token \(ids[i]) at position \(i) is outside the vocabulary (size \(limit))",
                               hint: "the tokens file is corrupt; remake it with rnn-encode")
        }
        return TokensFile(vocab: vocab, tokens: tokens)
    }
}

/// Random access to the ids of a U8/U16/U32 tokens tensor without widening
/// the whole array to Int.
public struct TokenIDs {
    public let tensor: Tensor
    public let count: Int

    public init(_ tensor: Tensor) {
        self.tensor = tensor
        self.count = tensor.count
    }

    @inline(__always)
    public subscript(i: Int) -> Int {
        tensor.bytes.withUnsafeBytes { raw in
            switch tensor.dtype {
            case .U8: return Int(raw[i])
            case .U16: return Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            default: return Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        }
    }
}
