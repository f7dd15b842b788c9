// A prime (the text fed to the model before sampling) as vocabulary ids:
// unknown symbols are an error naming them, or skipped.

public enum Prime {
    /// The ids of `bytes` (the prime, called `name`) under the checkpoint's
    /// vocabulary (`checkpointName` in hints); with `skipUnknown` symbols the
    /// model does not know are left out, but not all of them.
    /// With `allowEmpty` (and `skipUnknown`), a prime of unknown symbols
    /// only is empty rather than an error.
    public static func ids(_ bytes: [UInt8], name: String, vocab: Vocab, checkpointName: String, skipUnknown: Bool,
                           allowEmpty: Bool = false) throws -> [Int32] {
        let codec = TokenCodec(vocab: vocab)
        let (ids, unknown): ([Int32], [UInt32: Int])
        do {
            (ids, unknown) = try bytes.withUnsafeBufferPointer { try codec.ids($0, name: name, unknown: .skip) }
        } catch let e as CharRNNError {
            throw CharRNNError(e.what, hint: "\(checkpointName) models UTF-8 characters; give the prime as UTF-8 (e.g. iconv)")
        }
        if unknown.isEmpty || (skipUnknown && allowEmpty) { return ids }
        let all = ids.isEmpty
        if !skipUnknown || all {
            let distinct = unknown.keys.sorted()
            let shown = distinct.prefix(5).map { vocab.describe($0) }.joined(separator: ", ") + (distinct.count > 5 ? " and \(distinct.count - 5) more" : "")
            let what = all ? "no character of the prime is in the vocabulary" : "the prime has characters not in the vocabulary"
            throw CharRNNError("\(what): \(shown)",
                               hint: all ? "use characters the model knows (rnn-ckpt vocab \(checkpointName))" : "remove them, or use --unknown skip")
        }
        return ids
    }
}
