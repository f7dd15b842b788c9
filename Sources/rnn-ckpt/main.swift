// rnn-ckpt: look at, compare, evaluate, export and tidy checkpoints.
import ArgumentParser
import CharRNNCLI
import CharRNNCore
import CharRNNONNX
#if canImport(Glibc)
import Glibc
#endif

struct RnnCkpt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn-ckpt",
        abstract: "Inspect, compare, evaluate, export and prune checkpoints.",
        discussion: "See rnn-ckpt(1).",
        version: Tool.version(of: "rnn-ckpt"),
        subcommands: [Info.self, List.self, Best.self, VocabCommand.self, Eval.self, Trace.self, Export.self, Strip.self, Plot.self, Prune.self,
                      Devices.self])

    func run() throws {
        printError("rnn-ckpt: error: missing subcommand (info, ls, best, vocab, eval, export, strip, plot, prune, devices) — see 'rnn-ckpt --help'")
        throw ExitCode(ExitStatus.usage)
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Model, sizes, progress and training options of a checkpoint.")
    @Argument(help: "A checkpoint (a folder: its best).") var checkpoint: String
    @Flag(help: "Print a JSON record.") var json = false

    func run() throws {
        let s = try CheckpointSummary(path: try resolved(checkpoint))
        try writeOutput(json ? s.json.text + "\n" : CheckpointReport.info(s), to: nil)
    }
}

/// The summaries of the checkpoints named; unreadable ones reported.
func summaries(_ paths: [String]) throws -> [CheckpointSummary] {
    let (found, skipped) = try checkpointSummaries(paths)
    for e in skipped { printError("rnn-ckpt: warning: skipping a checkpoint: \(e)") }
    return found
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "A table of checkpoints sorted by validation loss.")
    @Argument(help: "Folders or checkpoints (default cv).") var paths: [String] = []
    @Flag(help: "Print JSON lines.") var json = false

    func run() throws {
        let all = try summaries(paths)
        try writeOutput(json ? all.map { $0.json.text + "\n" }.joined() : CheckpointReport.table(all), to: nil)
    }
}

struct Best: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the path of the checkpoint with the lowest validation loss.")
    @Argument(help: "Folders or checkpoints (default cv).") var paths: [String] = []

    func run() throws {
        // The best one whose whole file reads back (data and CRC, not just
        // the header), so rnn-sample "$(rnn-ckpt best cv)" works; only
        // among those trained on the newest one's data.
        let (found, skipped) = try checkpointSummaries(paths)
        let place = paths.isEmpty ? "cv" : paths.joined(separator: " ")
        let chosen = try chooseCheckpoint(among: found, skipped: skipped, in: place, .best)
        for e in chosen.skipped { printError("rnn-ckpt: warning: skipping a checkpoint: \(e)") }
        if chosen.otherData > 0 {
            printError("rnn-ckpt: warning: left out \(chosen.otherData) checkpoint\(chosen.otherData == 1 ? "" : "s") trained on other data than the newest (their val_loss does not compare; 'rnn-ckpt ls' shows them apart)")
        }
        try writeOutput(chosen.path + "\n", to: nil)
    }
}

/// A checkpoint argument: a file, or a folder's best checkpoint (named on stderr).
func resolved(_ path: String) throws -> String {
    guard isDirectory(path) else { return path }
    let chosen = try chooseCheckpoint(path, .best)
    if let note = chosen.note { printError("rnn-ckpt: \(note)") }
    return chosen.path
}

struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vocab", abstract: "Print a checkpoint's vocabulary (input for rnn-encode --vocab).")
    @Argument(help: "A checkpoint (a folder: its best).") var checkpoint: String
    func run() throws { try writeOutput(try CheckpointSummary(path: try resolved(checkpoint)).vocab.tsv, to: nil) }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cross-entropy of a text (or tokens file) under a checkpoint.")
    @Argument(help: "A checkpoint (a folder: its best).") var checkpoint: String
    @Argument(help: "Text or tokens file (- or none: stdin).") var file: String?
    @Flag(help: "Print a JSON record.") var json = false
    @Flag(help: "Write a TSV row per character: its probability, its bits and the model's top predictions.") var perChar = false
    @Option(help: "With --per-char: how many top predictions each row gives.") var top: Int = 3
    @Option(help: "Also write the logits to this NumPy .npy file: float32, one row per prediction, one column per symbol (to check an export against).")
    var logits: String?
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if top < 0 { throw ValidationError("--top must be 0 or more (got \(top)).") }
        if perChar && json { throw ValidationError("give --per-char or --json, not both.") }
        if logits == "-" || logits == "" { throw ValidationError("--logits needs a file name (stdout carries the loss).") }
    }

    func run() throws {
        try common.apply(tool: "rnn-ckpt", blasThreads: 1)
        let engine = try deviceOptions.engine()   // an unavailable device fails before reading anything
        let chosen = try chooseCheckpoint(checkpoint, .best)
        if let note = chosen.note, !common.quiet { printError("rnn-ckpt: \(note)") }
        let ckpt = chosen.checkpoint
        if file == nil || file == "-" { noteTerminalInput(tool: "rnn-ckpt", example: "rnn-ckpt eval CKPT input.txt") }
        let source = try FileSource.open(file)
        let (ids, unknown) = try evaluationIDs(try source.readAll(), name: source.name, vocab: ckpt.vocab, checkpointName: chosen.path)
        let skipped = unknown.values.reduce(0, +)
        if skipped > 0 && !common.quiet {
            printError("rnn-ckpt: warning: skipped \(skipped) character\(skipped == 1 ? "" : "s") not in the vocabulary: \(TokenCodec(vocab: ckpt.vocab).describeUnknown(unknown))")
        }
        if ids.count < 2 {
            throw CharRNNError("\(source.name) has \(ids.count) known characters; at least 2 are needed", hint: "give more text in the model's vocabulary")
        }
        // Written under a temporary name, renamed into place once complete.
        let logitsFile = try logits.map { try AtomicFile(path: $0) }
        if perChar {
            let r = try writePerSymbolScores(checkpoint: ckpt, ids: ids, skipped: skipped, top: top, threads: common.threadCount,
                                             engine: engine, to: FileSink.standardOutput(), logits: logitsFile?.sink)
            try logitsFile?.commit()
            if !common.quiet { printError("rnn-ckpt: " + r.line(characters: ids.count)) }
            return
        }
        let r = try evaluate(checkpoint: ckpt, ids: ids, skipped: skipped, threads: common.threadCount, engine: engine,
                             logits: logitsFile?.sink)
        try logitsFile?.commit()
        try writeOutput(json ? r.json(characters: ids.count).text + "\n" : r.line(characters: ids.count) + "\n", to: nil)
    }
}

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Neuron activations and predictions over a text: TSV, NumPy .npz, or an HTML page.")
    @Argument(help: "A checkpoint (a folder: its best).") var checkpoint: String
    @Argument(help: "Text (- or none: stdin).") var file: String?
    @Option(help: "Neurons as LAYER:INDEX,... (c2:5 a cell state; 2 a whole layer); default the last layer.") var neurons: String?
    @Option(help: "tsv or npz (every layer's states).") var format: TraceFormat = .tsv
    @Option(help: "Write a self-contained HTML page to FILE instead.") var html: String?
    @Option(help: "Rank neurons by how well they follow the text REGEX matches (best first).") var find: String?
    @Option(help: "How many top predictions each character gets.") var top: Int = 3
    @Option(name: .shortAndLong, help: "Output file (default stdout).") var output: String?
    @Flag(help: "Write binary output even to a terminal.") var force = false
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if !(0...20).contains(top) { throw ValidationError("--top must be from 0 to 20 (got \(top)).") }
        if html != nil && output != nil { throw ValidationError("give --html FILE or -o FILE, not both.") }
    }

    func run() throws {
        try common.apply(tool: "rnn-ckpt", blasThreads: 1)
        let engine = try deviceOptions.engine()
        if format == .npz && html == nil { try Tool.refuseBinaryOnTerminal(outputPath: output, force: force) }
        let chosen = try chooseCheckpoint(checkpoint, .best)
        if let note = chosen.note, !common.quiet { printError("rnn-ckpt: \(note)") }
        let ckpt = chosen.checkpoint
        if file == nil || file == "-" { noteTerminalInput(tool: "rnn-ckpt", example: "rnn-ckpt trace CKPT input.txt") }
        let source = try FileSource.open(file)
        let (ids, unknown) = try evaluationIDs(try source.readAll(), name: source.name, vocab: ckpt.vocab, checkpointName: chosen.path)
        let skipped = unknown.values.reduce(0, +)
        if skipped > 0 && !common.quiet {
            printError("rnn-ckpt: warning: skipped \(skipped) character\(skipped == 1 ? "" : "s") not in the vocabulary: \(TokenCodec(vocab: ckpt.vocab).describeUnknown(unknown))")
        }
        if ids.isEmpty { throw CharRNNError("\(source.name) has no character the model knows", hint: "give text in the model's vocabulary") }
        let trace = try CharRNNCore.Trace(checkpoint: ckpt, ids: ids, top: top, threads: common.threadCount, engine: engine)
        var chosenNeurons = try trace.parseNeurons(neurons)
        var ranking: [NeuronScore]? = nil
        if let find {
            ranking = rankNeurons(trace, by: try regexFeature(trace, pattern: find), among: neurons == nil ? nil : chosenNeurons)
            if neurons == nil, let r = ranking {
                // The ten best first (of any layer, h or c), then the rest of the last layer.
                let best = r.prefix(10).map(\.neuron)
                chosenNeurons = best + chosenNeurons.filter { !best.contains($0) }
            }
            if !common.quiet, let r = ranking {
                let shown = r.prefix(5).map { "\($0.neuron) (r = \(fixed($0.correlation, 3)))" }.joined(separator: ", ")
                printError("rnn-ckpt: neurons that follow /\(find)/ best: \(shown)")
            }
        }
        if let html {
            let title = "\(chosen.path): \(ckpt.config.description)" + (ckpt.progress.valLoss.map { ", val_loss \(fixed($0, 4))" } ?? "")
            try writeOutput(TracePage.html(trace, neurons: chosenNeurons, ranking: ranking, find: find, title: title), to: html)
            return
        }
        switch format {
        case .npz:
            try writeOutput(try trace.npz(), to: output)
        case .tsv:
            if let ranking, neurons == nil && format == .tsv && find != nil {
                // --find alone: the ranking itself.
                var text = "rank\tneuron\tcorrelation\n"
                for (i, s) in ranking.enumerated() { text += "\(i + 1)\t\(s.neuron)\t\(fixed(s.correlation, 6))\n" }
                try writeOutput(text, to: output)
                return
            }
            try withOutput(to: output) { try trace.tsv(neurons: chosenNeurons, to: $0) }
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the checkpoint as plain safetensors, NumPy .npz, an ONNX model, or a web page that samples from it.")
    @Argument(help: "A checkpoint (a folder: its best).") var checkpoint: String
    @Option(help: "safetensors (the decompressed file), npz (weights + vocab for numpy.load), onnx (a model for onnxruntime and other ONNX runtimes) or html (a self-contained page that samples in the browser).")
    var format: ExportFormat
    @Option(name: .shortAndLong, help: "Output file (default stdout).") var output: String?
    @Flag(help: "Write binary output (or a page) even to a terminal.") var force = false

    func run() throws {
        if format == .html {
            // Text, but a page of megabytes of base64 is no use on a terminal.
            if (output == nil || output == "-") && !force && isTerminal(1) {
                throw CharRNNError("refusing to write an HTML page to a terminal",
                                   hint: "give -o FILE.html, redirect the output (> page.html), or use --force")
            }
        } else {
            try Tool.refuseBinaryOnTerminal(outputPath: output, force: force)
        }
        let path = try resolved(checkpoint)
        let file = try TensorFile.read(path: path, expectFormat: TensorFile.checkpointFormat)
        switch format {
        case .safetensors: try file.write(toPath: output ?? "-", compressed: false)
        case .npz: try writeOutput(try NPZ.export(try Checkpoint(file: file, name: path)), to: output)
        case .onnx:
            let name = path.split(separator: "/").last.map(String.init) ?? path
            try writeOutput(try ONNXExport.model(try Checkpoint(file: file, name: path), name: name, producerVersion: Tool.version),
                            to: output)
        case .html:
            let name = path.split(separator: "/").last.map(String.init) ?? path
            try writeOutput(ExportPage.html(try Checkpoint(file: file, name: path), name: name), to: output)
        }
    }
}

struct Strip: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drop the optimiser state: a smaller file for sampling.")
    @Argument(help: "A checkpoint (a folder: its best).") var checkpoint: String
    @Option(name: .shortAndLong, help: "Output file (default stdout).") var output: String?
    @Flag(help: "Write binary output even to a terminal.") var force = false

    func run() throws {
        try Tool.refuseBinaryOnTerminal(outputPath: output, force: force)
        try Checkpoint.stripped(path: try resolved(checkpoint)).write(toPath: output ?? "-")
    }
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Plot train and validation loss against iteration (SVG, or --ascii).")
    @Argument(help: "Folders or checkpoints (default cv); one curve per run (folder and savefile).") var paths: [String] = []
    @Option(name: .shortAndLong, help: "Write the SVG to FILE instead of standard output (a terminal there gets the --ascii chart).") var output: String?
    @Flag(help: "Draw a small chart with characters instead.") var ascii = false

    func run() throws {
        let runs = LossRun.runs(of: try summaries(paths))
        if runs.isEmpty {
            throw CharRNNError("no checkpoint found in \(paths.isEmpty ? "cv" : paths.joined(separator: " "))", hint: "give folders or checkpoint files")
        }
        // SVG goes to a file or a pipe; a terminal gets the character chart.
        let toTerminal = (output == nil || output == "-") && isTerminal(1)
        try writeOutput(ascii || toTerminal ? plotASCII(runs) : plotSVG(runs), to: output)
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
        _ = try findCheckpoints([folder])   // a missing folder is an error
        let (remove, skipped) = Pruner.excess(folder: folder.hasSuffix("/") && folder.count > 1 ? String(folder.dropLast()) : folder,
                                              keep: keep)
        for e in skipped { printError("rnn-ckpt: warning: skipping a checkpoint: \(e)") }
        var removed = ""
        for path in remove {
            if !dryRun && unlink(path) != 0 { throw CharRNNError("cannot remove \(path)", hint: "check the folder's permissions") }
            removed += (dryRun ? "would remove " : "removed ") + path + "\n"
        }
        try writeOutput(removed, to: nil)
    }
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the compute devices --device accepts (the CPU and every OpenCL device).")
    @Flag(help: "Print JSON lines.") var json = false
    @Flag(help: "List the CPU's kernel paths instead, one per line (the names CHARRNN_KERNELS accepts).") var kernels = false

    func run() throws {
        if kernels { return try writeOutput(KernelOptions.forcibleNames.map { $0 + "\n" }.joined(), to: nil) }
        let (text, problem) = DeviceList.render(json: json)
        try writeOutput(text, to: nil)
        if let problem { printError("rnn-ckpt: warning: \(problem)") }
    }
}

Tool.main(RnnCkpt.self, name: "rnn-ckpt")
