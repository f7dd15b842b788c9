// rnn-ckpt: look at, compare, evaluate, export and tidy checkpoints.
import ArgumentParser
import CharRNN
#if canImport(Glibc)
import Glibc
#endif

struct RnnCkpt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-ckpt",
        abstract: "Inspect, compare, evaluate, export and prune checkpoints.",
        discussion: "See rnn-ckpt(1).",
        subcommands: [Info.self, List.self, Best.self, VocabCommand.self, Eval.self, Export.self, Strip.self, Plot.self, Prune.self,
                      Devices.self])

    func run() throws {
        printError("rnn-ckpt: error: missing subcommand (info, ls, best, vocab, eval, export, strip, plot, prune, devices) — see 'rnn-ckpt --help'")
        throw ExitCode(ExitStatus.usage)
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Model, sizes, progress and training options of a checkpoint.")
    @Argument(help: "A checkpoint.") var checkpoint: String
    @Flag(help: "Print a JSON record.") var json = false

    func run() throws {
        let s = try CheckpointSummary(path: checkpoint)
        if json { return try writeOut(s.json.text + "\n") }
        let bits = { (x: Double?) in x.map { "\(fixed($0, 4)) nats (\(fixed($0 / 0.6931471805599453, 3)) bits/char)" } ?? "-" }
        var lines = [
            "file:        \(checkpoint) (\(formatBytes(s.fileSize)))",
            "model:       \(s.config.description), dropout \(s.config.dropout)",
            "parameters:  \(s.parameters)",
            "vocab:       \(s.vocab.count) \(s.vocab.unit == .byte ? "bytes" : "characters")",
            "progress:    iteration \(s.progress.iteration), epoch \(fixed(s.progress.epoch, 2)), learning rate \(shortNumber(s.progress.learningRate))",
            "train loss:  \(bits(s.trainLoss))",
            "val loss:    \(bits(s.valLoss))",
            "best val:    \(bits(s.progress.bestValLoss))",
            "optimizer:   \(s.hasOptimizer ? "\(s.options.optimizer.rawValue) state present" + (s.hasCarriedState ? " (--resume continues exactly)" : "") : "none (stripped; sampling only)")",
        ]
        let o = s.options
        lines.append("training:    batch \(o.batchSize), seq \(o.seqLength), lr \(shortNumber(o.learningRate)), decay \(o.learningRateDecay) after \(o.learningRateDecayAfter) epochs, grad clip \(o.gradClip), seed \(o.seed), savefile \(o.savefile)")
        try writeOut(lines.joined(separator: "\n") + "\n")
    }
}

/// Summaries of the checkpoints named (default cv), unreadable ones reported.
func summaries(_ paths: [String]) throws -> [CheckpointSummary] {
    let files = try findCheckpoints(paths.isEmpty ? ["cv"] : paths)
    var out: [CheckpointSummary] = []
    for f in files {
        do { out.append(try CheckpointSummary(path: f)) } catch let e as CharRNNError {
            printError("rnn-ckpt: warning: skipping a checkpoint: \(e)")
        }
    }
    return out.sorted { ($0.valLoss ?? .infinity, $0.path) < ($1.valLoss ?? .infinity, $1.path) }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "A table of checkpoints sorted by validation loss.")
    @Argument(help: "Folders or checkpoints (default cv).") var paths: [String] = []
    @Flag(help: "Print JSON lines.") var json = false

    func run() throws {
        let all = try summaries(paths)
        if json { return try writeOut(all.map { $0.json.text + "\n" }.joined()) }
        var rows = [["val_loss", "epoch", "model", "layers×size", "dropout", "iteration", "file"]]
        for s in all {
            rows.append([s.valLoss.map { fixed($0, 4) } ?? "-", fixed(s.progress.epoch, 2), s.config.cell.rawValue,
                         "\(s.config.numLayers)×\(s.config.rnnSize)", fixed(s.config.dropout, 2), "\(s.progress.iteration)", s.path])
        }
        try writeOut(table(rows))
    }
}

func table(_ rows: [[String]]) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
        row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count) }
            .joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

struct Best: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the path of the checkpoint with the lowest validation loss.")
    @Argument(help: "Folders or checkpoints (default cv).") var paths: [String] = []

    func run() throws {
        // The best one whose whole file reads back (data and CRC, not just
        // the header), so rnn-sample "$(rnn-ckpt best cv)" works.
        for candidate in try summaries(paths) where candidate.valLoss != nil {
            do {
                _ = try Checkpoint.load(path: candidate.path)
                return try writeOut(candidate.path + "\n")
            } catch let e as CharRNNError {
                printError("rnn-ckpt: warning: skipping a checkpoint: \(e)")
            }
        }
        throw CharRNNError("no checkpoint found in \(paths.isEmpty ? "cv" : paths.joined(separator: " "))", hint: "train one with rnn-train, or give the right folder")
    }
}

struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vocab", abstract: "Print a checkpoint's vocabulary (input for rnn-encode --vocab).")
    @Argument(help: "A checkpoint.") var checkpoint: String
    func run() throws { try writeOut(try CheckpointSummary(path: checkpoint).vocab.tsv) }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cross-entropy of a text (or tokens file) under a checkpoint.")
    @Argument(help: "A checkpoint.") var checkpoint: String
    @Argument(help: "Text or tokens file (- or none: stdin).") var file: String?
    @Flag(help: "Print a JSON record.") var json = false
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply(tool: "rnn-ckpt", blasThreads: 1)
        try deviceOptions.open()   // an unavailable device fails before reading anything
        let ckpt = try Checkpoint.load(path: checkpoint)
        let source = try FileSource.open(file)
        let bytes = try source.readAll()
        let vocab = ckpt.vocab
        var ids: [Int32] = []
        var unknown: [UInt32: Int] = [:]
        if bytes.starts(with: [0x1f, 0x8b]) || looksLikeSafetensors(bytes) {
            let tokens = try TokensFile.read(from: MemorySource(bytes), name: source.name)
            if tokens.vocab.unit != vocab.unit {
                throw CharRNNError("\(source.name) holds \(tokens.vocab.unit == .byte ? "bytes" : "characters") but \(checkpoint) models \(vocab.unit == .byte ? "bytes" : "characters")",
                                   hint: "evaluate the text itself, or encode it \(vocab.unit == .byte ? "with" : "without") --bytes")
            }
            let toids = TokenIDs(tokens.tokens)
            // Map through symbols, so a tokens file with another vocab still works.
            let map = tokens.vocab.symbols.map { vocab.id(of: $0).map(Int32.init) }
            for i in 0..<toids.count {
                if let id = map[toids[i]] { ids.append(id) } else { unknown[tokens.vocab.symbols[toids[i]], default: 0] += 1 }
            }
        } else {
            try bytes.withUnsafeBufferPointer { buf in
                let add = { (s: UInt32) in
                    if let id = vocab.id(of: s) { ids.append(Int32(id)) } else { unknown[s, default: 0] += 1 }
                }
                if vocab.unit == .byte { for b in buf { add(UInt32(b)) } }
                else {
                    do { try UTF8Scan.forEachScalar(buf, name: source.name) { s, _ in add(s) } } catch let e as CharRNNError {
                        throw CharRNNError(e.what, hint: "\(checkpoint) models UTF-8 characters; convert the text (e.g. iconv)")
                    }
                }
            }
        }
        let skipped = unknown.values.reduce(0, +)
        if skipped > 0 && !common.quiet {
            let shown = unknown.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(8).map { "\(vocab.describe($0.key)) ×\($0.value)" }
            printError("rnn-ckpt: warning: skipped \(skipped) character\(skipped == 1 ? "" : "s") not in the vocabulary: \(shown.joined(separator: ", "))")
        }
        if ids.count < 2 {
            throw CharRNNError("\(source.name) has \(ids.count) known characters; at least 2 are needed", hint: "give more text in the model's vocabulary")
        }
        let r = try evaluate(checkpoint: ckpt, ids: ids, skipped: skipped, threads: common.threadCount, device: deviceOptions.computeDevice)
        if json {
            try writeOut(JSONValue.object([("loss", .double(r.loss)), ("bits_per_char", .double(r.bitsPerChar)),
                                           ("perplexity", .double(r.perplexity)), ("characters", .int(ids.count)),
                                           ("predictions", .int(r.predictions)), ("skipped", .int(skipped))]).text + "\n")
        } else {
            try writeOut("loss \(fixed(r.loss, 4)) nats/char, \(fixed(r.bitsPerChar, 4)) bits/char, perplexity \(fixed(r.perplexity, 3)), \(ids.count) characters (\(r.predictions) predicted, \(skipped) skipped)\n")
        }
    }
}

func looksLikeSafetensors(_ b: [UInt8]) -> Bool { b.count > 9 && b[8] == UInt8(ascii: "{") && b[3...7].allSatisfy { $0 == 0 } }

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the checkpoint as plain safetensors or NumPy .npz.")
    @Argument(help: "A checkpoint.") var checkpoint: String
    @Option(help: "safetensors (the decompressed file) or npz (weights + vocab for numpy.load).") var format: String
    @Option(name: .shortAndLong, help: "Output file (default stdout).") var output: String?
    @Flag(help: "Write binary output even to a terminal.") var force = false

    func validate() throws {
        if format != "safetensors" && format != "npz" { throw ValidationError("--format must be safetensors or npz (got '\(format)').") }
    }

    func run() throws {
        try Tool.refuseBinaryOnTerminal(outputPath: output, force: force)
        let file = try TensorFile.read(path: checkpoint, expectFormat: TensorFile.checkpointFormat)
        if format == "safetensors" { return try file.write(toPath: output ?? "-", compressed: false) }
        let bytes = try NPZ.export(try Checkpoint(file: file, name: checkpoint))
        try writeBytes(bytes, to: output)
    }
}

struct Strip: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drop the optimiser state: a smaller file for sampling.")
    @Argument(help: "A checkpoint.") var checkpoint: String
    @Option(name: .shortAndLong, help: "Output file (default stdout).") var output: String?
    @Flag(help: "Write binary output even to a terminal.") var force = false

    func run() throws {
        try Tool.refuseBinaryOnTerminal(outputPath: output, force: force)
        var file = try TensorFile.read(path: checkpoint, expectFormat: TensorFile.checkpointFormat)
        _ = try Checkpoint(file: file, name: checkpoint)  // validate it first
        file.tensors.removeAll { $0.name.hasPrefix("optim.") || $0.name.hasPrefix("state.") }
        try file.write(toPath: output ?? "-")
    }
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Plot train and validation loss against iteration (SVG, or --ascii).")
    @Argument(help: "Folders or checkpoints (default cv); one curve per run (folder and savefile).") var paths: [String] = []
    @Option(name: .shortAndLong, help: "Write the SVG to FILE (default stdout).") var output: String?
    @Flag(help: "Draw a small chart with characters instead.") var ascii = false

    func run() throws {
        let all = try summaries(paths)
        if all.isEmpty {
            throw CharRNNError("no checkpoint found in \(paths.isEmpty ? "cv" : paths.joined(separator: " "))", hint: "give folders or checkpoint files")
        }
        // One run per (folder, savefile): its latest checkpoint has the whole history.
        var latest: [String: CheckpointSummary] = [:]
        for s in all {
            let key = splitPath(s.path).0 + "/" + s.options.savefile
            if let old = latest[key], old.progress.iteration >= s.progress.iteration { continue }
            latest[key] = s
        }
        let runs = latest.keys.sorted().map { key -> LossRun in
            let s = latest[key]!
            return LossRun(label: "\(key) (\(s.config.numLayers)×\(s.config.rnnSize) \(s.config.cell.rawValue))",
                           train: s.history.train, val: s.history.val)
        }
        let text = ascii ? plotASCII(runs) : plotSVG(runs)
        try writeBytes(Array(text.utf8), to: output)
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete all but the best N checkpoints (and the newest) in a folder.")
    @Argument(help: "A folder of checkpoints.") var folder: String
    @Option(help: "How many of the best (lowest val loss) to keep.") var keep: Int
    @Flag(help: "Only list what would be removed.") var dryRun = false

    func validate() throws {
        if keep < 1 { throw ValidationError("--keep must be at least 1 (got \(keep)).") }
    }

    func run() throws {
        let all = try summaries([folder])
        func mtime(_ p: String) -> Int {
            var st = stat()
            return stat(p, &st) == 0 ? Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec) : 0
        }
        let newest = all.max { (mtime($0.path), $0.path) < (mtime($1.path), $1.path) }?.path
        let kept = Set(all.prefix(keep).map(\.path) + [newest].compactMap { $0 })
        var removed = ""
        for s in all where !kept.contains(s.path) {
            if !dryRun && unlink(s.path) != 0 {
                throw CharRNNError("cannot remove \(s.path)", hint: "check the folder's permissions")
            }
            removed += (dryRun ? "would remove " : "removed ") + s.path + "\n"
        }
        try writeOut(removed)
    }
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the compute devices --device accepts (the CPU and every OpenCL device).")
    @Flag(help: "Print JSON lines.") var json = false
    @Flag(help: "List the CPU's kernel paths instead, one per line (the names CHARRNN_KERNELS accepts).") var kernels = false

    func run() throws {
        if kernels {
            try writeOut(KernelOptions.forcibleNames.map { $0 + "\n" }.joined())
            return
        }
        var found: [CLDeviceInfo] = []
        var problem: CharRNNError? = nil
        do { found = try OpenCLDevices.list() } catch let e as CharRNNError { problem = e }
        let automatic = found.first { $0.isGPU } ?? found.first
        if json {
            var lines = [JSONValue.object([("device", .string("cpu")), ("type", .string("CPU")),
                                           ("compute_units", .int(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))]).text]
            for d in found {
                lines.append(JSONValue.object([
                    ("device", .string(d.selector)), ("index", .int(d.flatIndex)), ("platform", .string(d.platformName)),
                    ("name", .string(d.name)), ("vendor", .string(d.vendor)), ("type", .string(d.kind)),
                    ("compute_units", .int(d.computeUnits)), ("clock_mhz", .int(d.clockMHz)),
                    ("global_memory", .int(d.globalMemory)), ("max_allocation", .int(d.maxAllocation)),
                    ("version", .string(d.version)), ("driver", .string(d.driverVersion)),
                    ("default_opencl", .bool(d.selector == automatic?.selector)),
                ]).text)
            }
            try writeOut(lines.map { $0 + "\n" }.joined())
        } else {
            var rows = [["device", "type", "units", "memory", "max buffer", "name"]]
            rows.append(["cpu", "CPU", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))", "-", "-", "this machine's processor (the default)"])
            for d in found {
                let name = "\(d.name.trimmingWhitespace) — \(d.platformName.trimmingWhitespace), \(d.version.trimmingWhitespace)"
                    + (d.selector == automatic?.selector ? " (--device opencl)" : "")
                rows.append(["\(d.selector) = opencl:\(d.flatIndex)", d.kind, "\(d.computeUnits)", formatBytes(d.globalMemory),
                             formatBytes(d.maxAllocation), name])
            }
            try writeOut(table(rows))
        }
        if let problem { printError("rnn-ckpt: warning: \(problem)") }
    }
}

func writeOut(_ text: String) throws {
    let out = FileSink.standardOutput()
    try out.write(text)
    try out.flush()
}

func writeBytes(_ bytes: [UInt8], to path: String?) throws {
    if let path, path != "-" {
        let file = try AtomicFile(path: path)
        try file.sink.write(bytes)
        try file.commit()
    } else {
        let out = FileSink.standardOutput()
        try out.write(bytes)
        try out.flush()
    }
}

Tool.main(RnnCkpt.self, name: "rnn-ckpt")
