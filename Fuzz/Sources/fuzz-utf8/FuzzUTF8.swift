// Fuzz target: the strict UTF-8 tokenizer and the text codec.
//
// Properties, on raw bytes:
// - UTF8Scan.forEachScalar throws (a CharRNNError) exactly when Swift's own
//   validation, String(validating:as:), rejects the bytes.
// - On success its scalars are String(decoding:).unicodeScalars, each at the
//   byte offset where its encoding starts, and UTF8Scan.encode gives back
//   the same bytes.
// - On failure the bytes before the reported point are valid and no valid
//   scalar starts there.
// - Vocab.build + TokenCodec.encode/decode round-trip the bytes exactly
//   (unit=char for valid UTF-8, unit=byte for any bytes), and the built
//   vocab's file text parses back to it (when it has a symbol).
// - TokenCodec.encodeInPlace gives what encode gives, for every unknown
//   policy (with a vocab built from the first half of the input).
import CharRNNCore
import FuzzSupport

func roundTrip(_ bytes: [UInt8], unit: TextUnit) {
    guard let vocab = accepting({ try bytes.withUnsafeBufferPointer { try Vocab.build(from: $0, unit: unit, name: "input") } }) else {
        fatalError("Vocab.build(\(unit)) rejected input that it should accept")
    }
    check(vocab.counts.reduce(0, +) == (unit == .byte ? bytes.count : String(decoding: bytes, as: UTF8.self).unicodeScalars.count),
          "vocab counts do not add up to the input length")
    if vocab.count > 0 {  // a vocab file must list at least one symbol
        let parsed = accepting { try Vocab.parse(vocab.tsv, name: "built") }
        check(parsed == vocab, "built vocab does not round-trip through its file text")
    }
    let codec = TokenCodec(vocab: vocab)
    guard let tokens = accepting({ try bytes.withUnsafeBufferPointer { try codec.encode($0, name: "input", unknown: .error) } }) else {
        fatalError("encoding with the text's own vocab failed")
    }
    let sink = MemorySink()
    guard succeeds({ try codec.decode(tokens, name: "tokens", to: sink) }) else {
        fatalError("decoding fresh tokens failed")
    }
    check(sink.bytes == bytes, "encode/decode round trip differs (unit \(unit))")
    sameInPlace(codec, bytes, unknown: .error)

    // A vocab of the first half only: the rest has unknown symbols. Every
    // policy must give the same result from encode and encodeInPlace.
    let half = Array(bytes.prefix(bytes.count / 2))
    guard half.count > 0, unit == .byte || String(validating: half, as: UTF8.self) != nil,
          let partial = accepting({ try half.withUnsafeBufferPointer { try Vocab.build(from: $0, unit: unit, name: "half") } }),
          let first = partial.symbols.first else { return }
    let partialCodec = TokenCodec(vocab: partial)
    for policy in [UnknownPolicy.error, .skip, .replace(first)] {
        sameInPlace(partialCodec, bytes, unknown: policy)
    }
}

/// encodeInPlace (U8 ids written over the text) agrees with encode.
func sameInPlace(_ codec: TokenCodec, _ bytes: [UInt8], unknown: UnknownPolicy) {
    let expected = accepting { try bytes.withUnsafeBufferPointer { try codec.encode($0, name: "input", unknown: unknown) } }
    var text = bytes
    let inPlace = accepting { try codec.encodeInPlace(&text, name: "input", unknown: unknown) }
    check(inPlace == expected, "encodeInPlace differs from encode (\(unknown), \(codec.vocab.count) symbols)")
    if inPlace != nil { check(text.isEmpty, "encodeInPlace left text behind") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUTF8(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    var scalars: [(UInt32, Int)] = []
    let ok = succeeds {
        try bytes.withUnsafeBufferPointer { buf in
            try UTF8Scan.forEachScalar(buf, name: "input") { scalar, offset in scalars.append((scalar, offset)) }
        }
    }
    let swiftValid = String(validating: bytes, as: UTF8.self) != nil
    check(ok == swiftValid, "UTF8Scan \(ok ? "accepts" : "rejects") what Swift \(swiftValid ? "accepts" : "rejects")")

    // Offsets: each scalar starts where the previous one's encoding ends.
    var consumed = 0
    for (scalar, offset) in scalars {
        check(offset == consumed, "scalar offset \(offset), expected \(consumed)")
        guard let s = Unicode.Scalar(scalar) else { fatalError("UTF8Scan produced the non-scalar \(scalar)") }
        let encoded = UTF8Scan.encode(scalar)
        check(encoded == Array(String(s).utf8), "UTF8Scan.encode(\(scalar)) differs from Swift's")
        check(Array(bytes[offset..<min(bytes.count, offset + encoded.count)]) == encoded, "scalar \(scalar) is not the bytes at \(offset)")
        consumed += encoded.count
    }
    if ok {
        check(consumed == bytes.count, "scalars cover \(consumed) of \(bytes.count) bytes")
        let expected = String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value)
        check(scalars.map(\.0) == expected, "scalars differ from String(decoding:)")
        roundTrip(bytes, unit: .char)
    } else {
        check(consumed < bytes.count, "rejected after consuming all bytes")
        check(String(validating: bytes[..<consumed], as: UTF8.self) != nil, "the prefix before the error is invalid")
        for k in 1...4 where consumed + k <= bytes.count {
            check(String(validating: bytes[consumed..<(consumed + k)], as: UTF8.self) == nil,
                  "a valid \(k)-byte scalar starts at the rejected offset \(consumed)")
        }
    }
    roundTrip(bytes, unit: .byte)
    return 0
}
