// How rnn-ckpt shows checkpoints and devices: aligned tables and the info
// page (presentation; the facts come from the core and CharRNNOpenCL).
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore
import CharRNNOpenCL

/// Rows of cells as columns separated by two spaces (the last column unpadded).
public func table(_ rows: [[String]]) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
        row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count) }
            .joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

public enum CheckpointReport {
    /// rnn-ckpt info's page.
    public static func info(_ s: CheckpointSummary) -> String {
        let bits = { (x: Double?) in x.map { "\(fixed($0, 4)) nats (\(fixed($0 / ln2, 3)) bits/char)" } ?? "-" }
        let o = s.options
        return [
            "file:        \(s.path) (\(formatBytes(s.fileSize)))",
            "model:       \(s.config.description), dropout \(s.config.dropout)",
            "parameters:  \(s.parameters)",
            "vocab:       \(s.vocab.count) \(s.vocab.unit == .byte ? "bytes" : "characters")",
            "progress:    iteration \(s.progress.iteration), epoch \(fixed(s.progress.epoch, 2)), learning rate \(shortNumber(s.progress.learningRate))",
            "train loss:  \(bits(s.trainLoss))",
            "val loss:    \(bits(s.valLoss))",
            "best val:    \(bits(s.progress.bestValLoss))",
            "optimizer:   \(s.hasOptimizer ? "\(o.optimizer.rawValue) state present" + (s.hasCarriedState ? " (--resume continues exactly)" : "") : "none (stripped; sampling only)")",
            "data:        \(s.data.map { "\($0.description), \($0.fingerprint)" } ?? "not recorded")",
            "training:    batch \(o.batchSize), seq \(o.seqLength), lr \(shortNumber(o.learningRate)), decay \(o.learningRateDecay) after \(o.learningRateDecayAfter) epochs, grad clip \(o.gradClip), seed \(o.seed), savefile \(o.savefile)",
        ].joined(separator: "\n") + "\n" + fitLines(s)
    }

    /// info's diagnosis: the fit line and any advice (Advice).
    static func fitLines(_ s: CheckpointSummary) -> String {
        guard let report = s.fitReport else { return "fit:         not known (the checkpoint does not record its data)\n" }
        var out = "fit:         " + report.line.dropFirst("fit: ".count) + "\n"
        for a in report.advice { out += "advice:      \(a)\n" }
        if report.advice.isEmpty { out += "advice:      none: the losses and the model's size look right for the data\n" }
        return out
    }

    /// rnn-ckpt ls's table, best first; checkpoints trained on different
    /// data in tables of their own (their losses do not compare), the
    /// newest data first.
    public static func table(_ all: [CheckpointSummary]) -> String {
        let groups = groupedByData(all)
        if groups.count <= 1 { return oneTable(all) }
        return groups.map { group in
            let data = group[0].data?.description ?? "data not recorded (a vocabulary of \(group[0].vocab.count) symbols)"
            return "# trained on \(data)\n" + oneTable(group)
        }.joined(separator: "\n")
    }

    static func oneTable(_ all: [CheckpointSummary]) -> String {
        var rows = [["val_loss", "epoch", "model", "layers×size", "dropout", "iteration", "file"]]
        for s in all {
            rows.append([s.valLoss.map { fixed($0, 4) } ?? "-", fixed(s.progress.epoch, 2), s.config.cell.rawValue,
                         "\(s.config.numLayers)×\(s.config.rnnSize)", fixed(s.config.dropout, 2), "\(s.progress.iteration)", s.path])
        }
        return CharRNNCLI.table(rows)
    }
}

public enum DeviceList {
    /// rnn-ckpt devices's listing (table or JSON lines), and why OpenCL
    /// could not be listed, if it could not.
    public static func render(json: Bool) -> (String, CharRNNError?) {
        var found: [CLDeviceInfo] = []
        var problem: CharRNNError? = nil
        do { found = try OpenCLDevices.list() } catch let e as CharRNNError { problem = e } catch {}
        let automatic = found.first { $0.isGPU } ?? found.first
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if json {
            var lines = [JSONValue.object([("device", .string("cpu")), ("type", .string("CPU")), ("compute_units", .int(cores))]).text]
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
            return (lines.map { $0 + "\n" }.joined(), problem)
        }
        var rows = [["device", "type", "units", "memory", "max buffer", "name"]]
        rows.append(["cpu", "CPU", "\(cores)", "-", "-", "this machine's processor (the default)"])
        for d in found {
            let name = "\(d.name.trimmingWhitespace) — \(d.platformName.trimmingWhitespace), \(d.version.trimmingWhitespace)"
                + (d.selector == automatic?.selector ? " (--device opencl)" : "")
            rows.append(["\(d.selector) = opencl:\(d.flatIndex)", d.kind, "\(d.computeUnits)", formatBytes(d.globalMemory),
                         formatBytes(d.maxAllocation), name])
        }
        return (table(rows), problem)
    }
}
