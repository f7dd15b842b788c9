// char-rnn's data layout: DIR/input.txt, encoded (characters, its own
// vocabulary) into DIR/input.tokens the first time and whenever the text is
// newer, so later runs read the tokens directly.
#if canImport(Glibc)
import Glibc
#endif

public enum Corpus {
    /// The tokens of DIR/input.txt, from the cache when it is fresh;
    /// `encoding` is told when the text is encoded, and the cache is
    /// written only with `writeCache` (one process of a multi-process run).
    public static func load(dataDir: String, writeCache: Bool, encoding: (String) -> Void) throws -> (TokensFile, String) {
        let text = dataDir + "/input.txt", cache = dataDir + "/input.tokens"
        guard let textTime = modificationTime(text) else {
            throw CharRNNError("\(text): no such file", hint: "put the corpus at \(text) (see data/README.md)")
        }
        if let cacheTime = modificationTime(cache), cacheTime >= textTime {
            return (try TokensFile.read(path: cache), cache)
        }
        encoding("encoding \(text) into \(cache)")
        let bytes = try FileSource.open(text).readAll()
        let file = try bytes.withUnsafeBufferPointer { buf -> TokensFile in
            let vocab = try Vocab.build(from: buf, unit: .char, name: text)
            return TokensFile(vocab: vocab, tokens: try TokenCodec(vocab: vocab).encode(buf, name: text, unknown: .error))
        }
        if writeCache { try file.tensorFile.write(toPath: cache) }
        return (file, text)
    }

    /// A file's modification time in seconds, nil when it does not exist.
    public static func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }
}
