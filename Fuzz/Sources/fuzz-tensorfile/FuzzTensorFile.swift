// Fuzz target: the tensor-file reader (plain safetensors and gzip-wrapped),
// and what is built on it: tokens files and checkpoints.
//
// Properties checked on every input:
// - TensorFile.read, TokensFile.read and Checkpoint(file:) either succeed or
//   throw a CharRNNError: no trap, no crash, no other error.
// - The input read plain and the same input gzip-compressed give the same
//   result (both rejected, or the same tensors and metadata).
// - A file that reads back writes out and reads again to the same content.
// - A tokens file decodes to text that encodes back to the same tokens.
// - The header-only read (TensorFile.readHeader) and rnn-ckpt's
//   CheckpointSummary, which read from a path, never trap, and accept what
//   the full reads accept, with the same names, metadata and config.
//
// Input framing: an input that starts with "{" is "header JSON, a zero
// byte, then the data"; the harness prefixes the 8-byte header length, so
// mutations of the JSON (the checkpoint's config, the tensor shapes) keep a
// consistent file. Anything else is fed as it is (a safetensors file that
// started with "{" would claim a header of at least 123 bytes starting with
// the length itself, which no real file does).
import CharRNNCore
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// The readers that take a path (header-only reads, rnn-ckpt's summary) get
/// the input through this file, in $TMPDIR (run.sh points it at its
/// scratch folder).
let scratchPath = (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/fuzz-tensorfile-\(getpid()).bin"

func writeScratch(_ bytes: [UInt8]) {
    guard let f = fopen(scratchPath, "wb") else { fatalError("cannot write \(scratchPath)") }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
    if written != bytes.count { fatalError("short write to \(scratchPath)") }
}

func sameContent(_ a: TensorFile, _ b: TensorFile) -> Bool {
    a.tensors.count == b.tensors.count
        && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
        && a.metadata.count == b.metadata.count
        && zip(a.metadata, b.metadata).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
}

func gzip(_ bytes: [UInt8]) -> [UInt8] {
    let sink = MemorySink()
    // In-memory compression cannot fail: any error here is a finding.
    guard let gz = accepting({ try GzipSink(next: sink) }) else { fatalError("GzipSink failed") }
    guard succeeds({ try bytes.withUnsafeBytes { try gz.write($0) }; try gz.finish() }) else {
        fatalError("gzip compression failed")
    }
    return sink.bytes
}

/// "JSON \0 data" -> a safetensors file (see the framing note above).
func framed(_ input: [UInt8]) -> [UInt8] {
    let split = input.firstIndex(of: 0) ?? input.count
    let header = input[..<split]
    let data = split < input.count ? input[(split + 1)...] : []
    var out = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
    out += header
    out += data
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTensorFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var bytes = fuzzInput(data, size)
    if bytes.first == UInt8(ascii: "{") { bytes = framed(bytes) }
    let isGzip = bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b

    let file = accepting { try TensorFile.read(from: MemorySource(bytes), name: "input") }

    // The same content through the gzip path must read the same.
    if !isGzip {
        let viaGzip = accepting { try TensorFile.read(from: MemorySource(gzip(bytes)), name: "input") }
        switch (file, viaGzip) {
        case (nil, nil): break
        case let (a?, b?): check(sameContent(a, b), "plain and gzip reads differ")
        default: check(false, "plain read \(file == nil ? "failed" : "succeeded") but gzip read \(viaGzip == nil ? "failed" : "succeeded")")
        }
    }

    writeScratch(bytes)
    let header = accepting { try TensorFile.readHeader(path: scratchPath) }
    let summary = accepting { try CheckpointSummary(path: scratchPath) }

    guard let file else { return 0 }
    guard let header else { fatalError("the full read accepts what the header-only read rejects") }
    check(header.tensors.map(\.name) == file.tensors.map(\.name), "header-only read lists other tensors")
    check(header.metadata.map(\.0) == file.metadata.map(\.0) && header.metadata.map(\.1) == file.metadata.map(\.1),
          "header-only read gives other metadata")
    for (name, tensor) in file.tensors {
        check(header.headerShapes[name] == tensor.shape, "header-only shape of '\(name)' differs")
    }

    // Write it out (both forms) and read it back.
    for compressed in [false, true] {
        let sink = MemorySink()
        guard succeeds({ try file.write(to: sink, compressed: compressed) }) else {
            fatalError("writing a file that was read failed")
        }
        guard let again = accepting({ try TensorFile.read(from: MemorySource(sink.bytes), name: "rewritten") }) else {
            fatalError("a rewritten file does not read back (compressed: \(compressed))")
        }
        check(sameContent(file, again), "rewritten file differs (compressed: \(compressed))")
    }

    // What parses on top: a tokens file, a checkpoint.
    if let tokens = accepting({ try TokensFile.read(from: MemorySource(bytes), name: "input") }) {
        let codec = TokenCodec(vocab: tokens.vocab)
        let text = MemorySink()
        guard succeeds({ try codec.decode(tokens.tokens, name: "input", to: text) }) else {
            fatalError("a tokens file that was read does not decode")
        }
        guard let again = accepting({ try text.bytes.withUnsafeBufferPointer { try codec.encode($0, name: "decoded", unknown: .error) } }) else {
            fatalError("decoded text does not encode with its own vocab")
        }
        check(again == tokens.tokens, "tokens -> text -> tokens differs")
    }
    if let checkpoint = accepting({ try Checkpoint(file: file, name: "input") }) {
        // Checkpoint(file:) leaves the format tag to the reader; the summary
        // reads with expectFormat, as Checkpoint.load(path:) does.
        if file.meta("format") == TensorFile.checkpointFormat {
            guard let summary else { fatalError("CheckpointSummary rejects a checkpoint that loads") }
            check(summary.config == checkpoint.config && summary.vocab == checkpoint.vocab
                  && summary.parameters == checkpoint.params.count, "CheckpointSummary disagrees with the loaded checkpoint")
        }
        // Whatever loads must describe itself and save again.
        let rewritten = checkpoint.tensorFile
        _ = checkpoint.config.description
        let sink = MemorySink()
        guard succeeds({ try rewritten.write(to: sink, compressed: false) }) else {
            fatalError("writing a loaded checkpoint failed")
        }
        guard let reread = accepting({ try TensorFile.read(from: MemorySource(sink.bytes), name: "resaved") }),
              let again = accepting({ try Checkpoint(file: reread, name: "resaved") }) else {
            fatalError("a loaded checkpoint, saved again, does not load")
        }
        check(again.params.map(\.bitPattern) == checkpoint.params.map(\.bitPattern) && again.vocab == checkpoint.vocab && again.config == checkpoint.config,
              "checkpoint save/load round trip differs")
    }
    return 0
}
