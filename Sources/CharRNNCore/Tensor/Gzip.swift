// gzip (RFC 1952) streams through zlib: a compressing sink and a
// decompressing source that checks the CRC32 and reports truncation.
import CZlib

/// Compresses everything written into a gzip stream on `next`.
public final class GzipSink: ByteSink {
    private let next: ByteSink
    private var stream = z_stream()
    private var out: UnsafeMutableRawBufferPointer
    private var finished = false

    /// `level` 1 (fast) to 9 (small); tensor files default to 1: their
    /// float data barely compresses and tokens compress well even so.
    public init(next: ByteSink, level: Int32 = 1) throws {
        self.next = next
        out = .allocate(byteCount: 1 << 17, alignment: 16)
        // windowBits 15 + 16 asks zlib for a gzip wrapper.
        let rc = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            out.deallocate()
            throw CharRNNError("zlib could not start compressing (code \(rc))")
        }
    }

    deinit {
        deflateEnd(&stream)
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        // zlib's avail_in is 32-bit: feed large buffers in pieces.
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset)
            stream.avail_in = UInt32(piece)
            try pump(flush: Z_NO_FLUSH)
            offset += piece
        }
    }

    private func pump(flush: Int32) throws {
        repeat {
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.avail_out = UInt32(out.count)
            let rc = deflate(&stream, flush)
            if rc == Z_STREAM_ERROR { throw CharRNNError("zlib compression failed") }
            let produced = out.count - Int(stream.avail_out)
            if produced > 0 {
                try next.write(UnsafeRawBufferPointer(rebasing: out[0..<produced]))
            }
            if flush == Z_FINISH && rc == Z_STREAM_END { return }
        } while stream.avail_out == 0 || (flush == Z_FINISH)
    }

    /// Ends the gzip stream (writes the CRC and length) and flushes `next`.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        stream.next_in = nil
        stream.avail_in = 0
        try pump(flush: Z_FINISH)
        try next.flush()
    }

    public func flush() throws {
        try next.flush()
    }
}

/// Decompresses a gzip stream read from `source`. A stream that ends early
/// is "truncated"; a bad CRC or corrupt data names the problem.
public final class GzipSource: ByteSource {
    private let source: ByteSource
    private let name: String
    private var stream = z_stream()
    private var input: UnsafeMutableRawBufferPointer
    private var ended = false
    private var inputEnded = false

    /// `prefix` holds bytes already read from `source` (the sniffed magic).
    public init(source: ByteSource, name: String, prefix: [UInt8] = []) throws {
        self.source = source
        self.name = name
        input = .allocate(byteCount: max(1 << 17, prefix.count), alignment: 16)
        prefix.withUnsafeBytes { p in
            if p.count > 0 { input.baseAddress!.copyMemory(from: p.baseAddress!, byteCount: p.count) }
        }
        stream.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_in = UInt32(prefix.count)
        let rc = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            input.deallocate()
            throw CharRNNError("zlib could not start decompressing (code \(rc))")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if ended || buffer.count == 0 { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(min(buffer.count, 1 << 30))
        let wanted = Int(stream.avail_out)
        while true {
            if stream.avail_in == 0 && !inputEnded {
                let n = try source.read(into: input)
                if n == 0 {
                    inputEnded = true
                } else {
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    stream.avail_in = UInt32(n)
                }
            }
            let rc = inflate(&stream, Z_NO_FLUSH)
            let produced = wanted - Int(stream.avail_out)
            switch rc {
            case Z_STREAM_END:
                ended = true
                // Read ahead once when the stream ended exactly at the end of
                // a read, so that `hasTrailingInput` sees data after it.
                if stream.avail_in == 0 && !inputEnded {
                    let n = try source.read(into: input)
                    if n == 0 {
                        inputEnded = true
                    } else {
                        stream.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        stream.avail_in = UInt32(n)
                    }
                }
                return produced
            case Z_OK:
                if produced > 0 && (stream.avail_out == 0 || stream.avail_in == 0) { return produced }
                if produced > 0 && inputEnded { return produced }
                continue
            case Z_BUF_ERROR:
                if inputEnded {
                    if produced > 0 { return produced }
                    throw CharRNNError("\(name): the file is truncated (the compressed stream ends early)",
                                       hint: "the file was cut short; use a complete copy")
                }
                if produced > 0 { return produced }
                continue
            case Z_DATA_ERROR:
                let msg = stream.msg.map { String(cString: $0) } ?? "corrupt data"
                if msg.contains("check") {
                    throw CharRNNError("\(name): CRC mismatch, the file is corrupt (\(msg))",
                                       hint: "use an intact copy; `gzip -t` checks a file")
                }
                throw CharRNNError("\(name): corrupt compressed data (\(msg))",
                                   hint: "use an intact copy; `gzip -t` checks a file")
            case Z_MEM_ERROR:
                throw CharRNNError("\(name): out of memory while decompressing")
            default:
                throw CharRNNError("\(name): decompression failed (zlib code \(rc))")
            }
        }
    }

    /// Bytes after the end of the gzip stream were present (only meaningful
    /// once `read` returned 0).
    public var hasTrailingInput: Bool { stream.avail_in > 0 }
}
