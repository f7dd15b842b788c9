// What rnn-train trains on: a tokens file as rnn-encode writes it, or text
// (a file or stdin), told apart by their first bytes and encoded on the
// fly — with the vocabulary of the checkpoint a run starts from, else one
// built from the text (characters, or bytes with --bytes).
#if canImport(Glibc)
import Glibc
#endif
import CZlib

public struct TrainingData {
    public enum Kind: String, Sendable { case text, tokens }

    public var file: TokensFile
    /// For messages: the path, or "stdin".
    public var name: String
    public var kind: Kind
    /// What to record in checkpoints about it.
    public var record: DataRecord

    public init(file: TokensFile, name: String, kind: Kind, source: String?, dataDir: String? = nil) {
        self.file = file
        self.name = name
        self.kind = kind
        record = DataRecord(tokens: file.tokens, kind: kind, source: source.map(absolutePath), dataDir: dataDir.map(absolutePath))
    }

    /// Reads `path` (nil or "-": stdin). Text is encoded with `vocab` when
    /// given (unknown symbols per `unknown`), else with a vocabulary built
    /// from it in `unit`; a tokens file must then be in that unit.
    public static func load(path: String?, unit: TextUnit?, vocab: Vocab?, unknown: UnknownPolicy = .error,
                            vocabName: String = "the checkpoint") throws -> TrainingData {
        let source = try FileSource.open(path)
        let name = source.name
        var head = [UInt8](repeating: 0, count: 16)
        let got = try head.withUnsafeMutableBytes { try source.readFully(into: $0) }
        head.removeLast(head.count - got)
        let filePath = path == nil || path == "-" ? nil : path
        if got == 0 {
            throw CharRNNError("\(name) is empty", hint: "give some text to train on (a file, or piped in)")
        }
        if TensorFile.looksLikeTensorFile(head) {
            let file = try TokensFile.read(from: PrefixedSource(prefix: head, source: source), name: name)
            if let unit, unit != file.vocab.unit {
                throw CharRNNError("\(name) is a tokens file of \(file.vocab.unit == .byte ? "bytes" : "characters"); --bytes applies to text",
                                   hint: unit == .byte ? "drop --bytes, or give the text itself" : "remake it with rnn-encode")
            }
            return TrainingData(file: file, name: name, kind: .tokens, source: filePath)
        }
        var text = head
        text += try readRest(source, expected: source.regularFileSize.map { $0 - got })
        let file = try encode(&text, name: name, unit: unit, vocab: vocab, unknown: unknown, vocabName: vocabName)
        return TrainingData(file: file, name: name, kind: .text, source: filePath)
    }

    /// Text as tokens: with `vocab`, or a vocabulary built from it.
    /// Consumes `text` (U8 tokens take its place in memory).
    public static func encode(_ text: inout [UInt8], name: String, unit: TextUnit?, vocab: Vocab?,
                              unknown: UnknownPolicy = .error, vocabName: String = "the checkpoint") throws -> TokensFile {
        if let vocab, let unit, unit != vocab.unit {
            throw CharRNNError("--bytes does not match \(vocabName), which models \(vocab.unit == .byte ? "bytes" : "characters")",
                               hint: vocab.unit == .byte ? "add --bytes" : "drop --bytes")
        }
        let v = try vocab ?? text.withUnsafeBufferPointer { try Vocab.build(from: $0, unit: unit ?? .char, name: name) }
        let count = text.count
        let tokens: Tensor
        do {
            tokens = try TokenCodec(vocab: v).encodeInPlace(&text, name: name, unknown: unknown)
        } catch var e as CharRNNError where vocab != nil && unknown == .error {
            e.hint = "\(vocabName)'s vocabulary lacks it: add --unknown skip (or replace:C) to leave such symbols out, or train a new model on this text"
            throw e
        }
        if tokens.count == 0 {
            throw CharRNNError("\(name) \(count == 0 ? "is empty" : "has no symbol in the vocabulary")", hint: "give some text to train on")
        }
        return TokensFile(vocab: v, tokens: tokens)
    }

    /// The rest of a source; a regular file's size is allocated at once (a
    /// 1 GB corpus takes 1 GB, not up to 2 by doubling).
    static func readRest(_ source: FileSource, expected: Int?) throws -> [UInt8] {
        guard let size = expected, size > 0 else { return try source.readAll() }
        var bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = try source.readFully(into: UnsafeMutableRawBufferPointer(buffer))
        }
        if bytes.count == size { bytes += try source.readAll() }  // it grew meanwhile
        return bytes
    }
}

/// What a checkpoint remembers of the data it was trained on, so that
/// --resume can tell other data from the same and find the file again.
public struct DataRecord: Equatable, Sendable {
    public var tokens: Int
    /// CRC-32 of the token ids as stored ("crc32:0123abcd").
    public var fingerprint: String
    public var kind: String
    /// The absolute path read (nil: stdin).
    public var source: String?
    /// The --data-dir folder, when the data came from one.
    public var dataDir: String?

    public init(tokens: Tensor, kind: TrainingData.Kind, source: String?, dataDir: String?) {
        self.tokens = tokens.count
        let crc = tokens.bytes.withUnsafeBufferPointer { buf -> UInt in
            var c: UInt = 0
            var done = 0
            while done < buf.count {   // zlib takes 32-bit lengths
                let n = min(buf.count - done, 1 << 30)
                c = crc32(c, buf.baseAddress! + done, UInt32(n))
                done += n
            }
            return c
        }
        fingerprint = "crc32:" + String(crc, radix: 16).leftPadded(to: 8)
        self.kind = kind.rawValue
        self.source = source
        self.dataDir = dataDir
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("tokens", .int(tokens)), ("fingerprint", .string(fingerprint)), ("kind", .string(kind))]
        members.append(("source", source.map { .string($0) } ?? .null))
        if let dataDir { members.append(("data_dir", .string(dataDir))) }
        return .object(members)
    }

    public init?(json: JSONValue) {
        guard let tokens = json["tokens"]?.intValue, let fingerprint = json["fingerprint"]?.stringValue else { return nil }
        self.tokens = tokens
        self.fingerprint = fingerprint
        kind = json["kind"]?.stringValue ?? "tokens"
        source = json["source"]?.stringValue
        dataDir = json["data_dir"]?.stringValue
    }

    /// "/home/me/input.txt (1115394 characters)" or "stdin (…)".
    public var description: String {
        "\(dataDir.map { "--data-dir " + $0 } ?? source ?? "stdin") (\(tokens) \(kind == "text" ? "symbols of text" : "tokens"))"
    }

    /// Whether `other` is the same data (the same tokens in the same order).
    public func sameData(as other: DataRecord) -> Bool {
        tokens == other.tokens && fingerprint == other.fingerprint
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// `path` made absolute against the working directory.
public func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    var cwd = String(cString: buffer)
    if !cwd.hasSuffix("/") { cwd += "/" }
    var p = Substring(path)
    while p.hasPrefix("./") { p = p.dropFirst(2) }
    return cwd + p
}

extension FileSource {
    /// The size of a regular file, nil for pipes and terminals.
    public var regularFileSize: Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }
}
