// Fuzz target: the vocab file parser.
//
// Properties: Vocab.parse either succeeds or throws a CharRNNError; a vocab
// that parses writes (tsv) text that parses back to an equal vocab, and
// that text is stable (writing again gives the same text); every symbol
// can be described for messages; `--unknown replace:C` parsing never traps.
import CharRNNCore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVocab(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    let text = String(decoding: bytes, as: UTF8.self)

    _ = UnknownPolicy.parse(text, unit: .char)
    _ = UnknownPolicy.parse(text, unit: .byte)
    _ = UnknownPolicy.parse("replace:" + text, unit: .char)
    _ = UnknownPolicy.parse("replace:" + text, unit: .byte)

    guard let vocab = accepting({ try Vocab.parse(text, name: "input") }) else { return 0 }
    let tsv = vocab.tsv
    guard let again = accepting({ try Vocab.parse(tsv, name: "written") }) else {
        fatalError("the text written for a parsed vocab does not parse:\n\(tsv)")
    }
    check(again == vocab, "vocab round trip differs:\n\(tsv)")
    check(again.tsv == tsv, "vocab text is not stable")
    for (id, symbol) in vocab.symbols.enumerated() {
        check(vocab.id(of: symbol) == id, "id(of:) disagrees with symbols[\(id)]")
        _ = vocab.describe(symbol)
    }
    return 0
}
