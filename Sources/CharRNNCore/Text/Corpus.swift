// char-rnn's data layout: DIR/input.txt, encoded (its own vocabulary) into
// DIR/input.tokens (DIR/input.bytes.tokens with --bytes) the first time and
// whenever the text is newer, so later runs read the tokens directly.
#if canImport(Glibc)
import Glibc
#endif

public enum Corpus {
    /// The tokens of DIR/input.txt, from the cache when it is fresh;
    /// `encoding` is told when the text is encoded, and the cache is
    /// written only with `writeCache` (one process of a multi-process run).
    public static func load(dataDir: String, unit: TextUnit = .char, writeCache: Bool,
                            encoding: (String) -> Void) throws -> TrainingData {
        let dir = dataDir.count > 1 && dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir
        let text = dir + "/input.txt", cache = dir + (unit == .byte ? "/input.bytes.tokens" : "/input.tokens")
        if modificationTime(dir) != nil && !isDirectory(dir) {
            throw CharRNNError("--data-dir wants a folder holding input.txt, and \(dir) is a file",
                               hint: "give the file itself: rnn-train \(dir)")
        }
        guard let textTime = modificationTime(text) else {
            throw CharRNNError("\(text): no such file", hint: "put the corpus at \(text), or give a text file itself: rnn-train FILE")
        }
        if let cacheTime = modificationTime(cache), cacheTime >= textTime,
           let file = try? TokensFile.read(path: cache), file.vocab.unit == unit {
            return TrainingData(file: file, name: cache, kind: .tokens, source: text, dataDir: dir)
        }
        encoding("encoding \(text) into \(cache)")
        var bytes = try FileSource.open(text).readAll()
        let file = try TrainingData.encode(&bytes, name: text, unit: unit, vocab: nil)
        if writeCache { try file.tensorFile.write(toPath: cache) }
        return TrainingData(file: file, name: text, kind: .text, source: text, dataDir: dir)
    }

    /// A file's modification time in seconds, nil when it does not exist.
    public static func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }
}
