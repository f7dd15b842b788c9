// The planner: times each product's candidate paths on this machine for
// the network's shapes and keeps the fastest (KernelPlan.swift). A product
// is timed as one step's call (a packed kernel's per-pass packing spread
// over the T steps; OpenBLAS over all steps divided by T), the best of a
// few interleaved rounds, so another process taking the core for a moment
// changes nothing. Results are cached per CPU model, kernel set and shape
// in a TSV file (PlanCache), so that later runs on this machine start at
// once and choose the same way.
#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS
import CSupport

public enum KernelPlanner {
    /// The plan for a network of `rows` batch rows and `seqLength` steps.
    public static func plan(config: ModelConfig, rows: Int, seqLength: Int, options: KernelOptions) -> KernelPlan {
        var candidates: [ProductPath]
        var isa = charrnn_isa_best()
        if let forced = options.forced {
            if let path = ProductPath(name: forced) {
                var plan = KernelPlan.uniform(path, config: config)
                plan.notes = ["kernels forced by CHARRNN_KERNELS=\(forced)"]
                return plan
            }
            guard let forcedISA = PackedKernels.isa(named: forced) else { return .standard(config: config) }
            isa = forcedISA
            candidates = PackedKernels.available.filter { charrnn_gemm_kernel_isa($0) == isa }.map { .packed($0) }
        } else {
            // The best set's tiles (the other sets are slower by
            // construction; forcing a set tests them). libxsmm's kernels run
            // only when forced: as fast as these here (bench/results.md),
            // but starting libxsmm costs 11 MB of resident memory.
            candidates = PackedKernels.available.filter { charrnn_gemm_kernel_isa($0) == isa }.map { .packed($0) }
        }
        candidates.append(.blasStep)
        // Measure only what can be kept: a plan measured anew on every run
        // could choose differently, and the same seed give other bytes.
        guard let directory = options.cacheDirectory, PlanCache.usable(directory: directory) else {
            var plan = KernelPlan.standard(config: config)
            if options.forced != nil { plan = .uniform(candidates.first ?? .blasStep, config: config, isa: isa) }
            let why = options.cacheDirectory.map { "cannot write \($0)" } ?? "no cache folder"
            plan.notes = ["kernel plan not measured (\(why)): the default kernels of \(String(cString: charrnn_isa_name(plan.isa)))"]
            return plan
        }
        let cache = PlanCache(directory: directory)
        var timer = ProductTimer(cache: cache, candidates: candidates, seqLength: seqLength)
        let H = config.rnnSize, GH = config.cell.gates * H, m = max(rows, 1)
        var layers: [LayerPlan] = []
        var notes: [String] = []
        for k in 0..<config.numLayers {
            let In = config.inputSize(layer: k)
            let oneHot = k == 0 && config.embeddingSize == 0
            func choose(_ what: String, n: Int, k kk: Int, transposedB: Bool, whole: Bool) -> ProductPath {
                let shape = ProductShape(m: m, n: n, k: kk, transposedB: transposedB, whole: whole)
                let result = timer.fastest(shape)
                notes.append("layer \(k + 1) \(what) \(m)×\(n)×\(kk): \(result.note)")
                return result.path
            }
            let fr = choose("forward recurrent", n: GH, k: H, transposedB: true, whole: false)
            let br = choose("backward recurrent", n: H, k: GH, transposedB: false, whole: false)
            let fi = oneHot ? fr : choose("forward input", n: GH, k: In, transposedB: true, whole: true)
            let bi = oneHot ? br : choose("backward input", n: In, k: GH, transposedB: false, whole: true)
            layers.append(LayerPlan(forwardRecurrent: fr, backwardRecurrent: br, forwardInput: fi, backwardInput: bi))
        }
        timer.save()
        return KernelPlan(isa: isa, layers: layers, notes: notes)
    }

    /// What --verbose prints first: the CPU, its instruction sets and libraries.
    public static var machineLine: String {
        let isa = String(cString: charrnn_isa_name(charrnn_isa_in_use()))
        let xsmm = charrnn_libxsmm_version().map { ", libxsmm \(String(cString: $0))" } ?? ""
        return "kernels for \(cpuModel): \(isa) element-wise\(xsmm), OpenBLAS \(OpenBLAS.coreName)"
    }

    /// The CPU's model name (/proc/cpuinfo), or "unknown CPU".
    public static let cpuModel: String = {
        guard let f = fopen("/proc/cpuinfo", "r") else { return "unknown CPU" }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, 512, f) != nil {
            let s = String(cString: line)
            if s.hasPrefix("model name"), let colon = s.firstIndex(of: ":") {
                return String(s[s.index(after: colon)...]).trimmingCharacters()
            }
        }
        return "unknown CPU"
    }()
}

/// One product's shape: m×k times k×n, one step's call; with `whole`,
/// OpenBLAS over all steps at once is a candidate too.
struct ProductShape: Hashable {
    var m: Int, n: Int, k: Int
    var transposedB: Bool
    var whole: Bool
}

/// Times candidates, remembering each shape's result (and the cache's).
struct ProductTimer {
    let cache: PlanCache
    let candidates: [ProductPath]
    let seqLength: Int
    var seen: [ProductShape: (path: ProductPath, note: String)] = [:]
    var fresh: [PlanCache.Entry] = []

    init(cache: PlanCache, candidates: [ProductPath], seqLength: Int) {
        self.cache = cache
        self.candidates = candidates
        self.seqLength = seqLength
    }

    mutating func fastest(_ shape: ProductShape) -> (path: ProductPath, note: String) {
        if let known = seen[shape] { return known }
        let paths = candidates.filter { $0.kernel == nil || shape.n % 16 == 0 } + (shape.whole ? [.blasWhole] : [])
        let key = PlanCache.key(shape: shape, seqLength: seqLength, candidates: paths)
        var times: [(ProductPath, Double)]
        var source = ""
        if let cached = cache.lookup(key), cached.count == paths.count,
           let restored = Optional(cached.compactMap { entry in ProductPath(name: entry.0).map { ($0, entry.1) } }),
           restored.count == paths.count {
            times = restored
            source = ", cached"
        } else {
            times = measure(shape, paths)
            fresh.append(PlanCache.Entry(key: key, times: times.map { ($0.0.description, $0.1) }))
        }
        let best = times.min { $0.1 < $1.1 }!
        let others = times.filter { $0.0 != best.0 }.map { "\($0.0) \(micro($0.1))" }.joined(separator: ", ")
        let result = (best.0, "\(best.0) \(micro(best.1)) µs/step (\(others)\(source))")
        seen[shape] = result
        return result
    }

    func save() {
        if !fresh.isEmpty { cache.store(fresh) }
    }

    func micro(_ s: Double) -> String { fixed(s * 1e6, 1) }

    /// Seconds per step of each path: the best of interleaved rounds.
    func measure(_ s: ProductShape, _ paths: [ProductPath]) -> [(ProductPath, Double)] {
        let T = seqLength, wholeRows = s.m * T
        let rows = s.whole ? wholeRows : s.m
        var rng = RNG(seed: 1)
        let a = FloatBuffer(rows * s.k), w = FloatBuffer(s.n * s.k), packed = FloatBuffer(s.n * s.k)
        let c = FloatBuffer(rows * s.n)
        for i in 0..<a.count { a.pointer[i] = Float(rng.uniform() - 0.5) }
        for i in 0..<w.count { w.pointer[i] = Float(rng.uniform() - 0.5) * 0.1 }
        // W as the network holds it: n×k (transposed: the product takes W^T)
        // or k×n.
        let ldw = s.transposedB ? s.k : s.n
        func pack(_ kernel: Int32) {
            charrnn_pack_panels(Int32(s.k), Int32(s.n), w.pointer, ldw, s.transposedB ? 1 : 0,
                                charrnn_gemm_kernel_panel(kernel), packed.pointer)
        }
        func run(_ p: ProductPath) {
            switch p {
            case .packed(let kernel):
                charrnn_gemm_packed(kernel, Int32(s.m), Int32(s.n), Int32(s.k), a.pointer, s.k, packed.pointer,
                                    c.pointer, s.n, 1)
            case .blasStep, .blasWhole:
                gemm(transA: false, transB: s.transposedB, m: p == .blasWhole ? wholeRows : s.m, n: s.n, k: s.k,
                     a: a.pointer, lda: s.k, b: w.pointer, ldb: ldw, beta: 1, c: c.pointer, ldc: s.n)
            }
        }
        func seconds(_ body: () -> Void) -> Double {
            var t0 = timespec(), t1 = timespec()
            clock_gettime(CLOCK_MONOTONIC, &t0)
            body()
            clock_gettime(CLOCK_MONOTONIC, &t1)
            return Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
        }
        // Packing, once per pass, spread over the steps (per panel width).
        var packCost: [Int32: Double] = [:]
        for p in paths {
            guard let kernel = p.kernel else { continue }
            let panel = charrnn_gemm_kernel_panel(kernel)
            if packCost[panel] == nil { packCost[panel] = seconds { pack(kernel) } }
        }
        var best = [Double](repeating: .infinity, count: paths.count)
        // A warm-up call each; then rounds of about 0.5 ms per candidate
        // (at least one call), the best of 7 (at H = 512 about 0.3 s for
        // all the shapes, once per machine with the cache).
        var perCall = paths.map { p -> Double in
            if let kernel = p.kernel { pack(kernel) }
            return seconds { run(p) }
        }
        let rounds = 7
        for round in 0..<rounds {
            for (i, p) in paths.enumerated() {
                if round >= 3 && perCall[i] > 5e-3 { continue }  // long calls (all steps at once) vary less
                if let kernel = p.kernel { pack(kernel) }
                let reps = max(1, min(64, Int(5e-4 / max(perCall[i], 1e-7))))
                let t = seconds { for _ in 0..<reps { run(p) } } / Double(reps)
                perCall[i] = t
                best[i] = min(best[i], t)
            }
        }
        return paths.enumerated().map { i, p in
            switch p {
            case .packed(let kernel): return (p, best[i] + packCost[charrnn_gemm_kernel_panel(kernel)]! / Double(T))
            case .blasStep: return (p, best[i])
            case .blasWhole: return (p, best[i] / Double(T))
            }
        }
    }
}

/// The planner's measurements, kept in DIR/kernel-plans.tsv: one line per
/// product shape and machine, `key TAB path=seconds,...`. The key names
/// the CPU model, the kernel set (names, libxsmm and OpenBLAS core) and the
/// shape, so another machine, build or shape never reuses a line.
struct PlanCache {
    struct Entry {
        var key: String
        var times: [(String, Double)]
    }

    let path: String
    static let fileName = "kernel-plans.tsv"
    static let maxLines = 1000

    init(directory: String) { path = directory + "/" + Self.fileName }

    /// The folder exists or can be made, and can be written.
    static func usable(directory: String) -> Bool {
        guard (try? makeDirectory(directory)) != nil else { return false }
        return access(directory, W_OK) == 0
    }

    static func key(shape s: ProductShape, seqLength: Int, candidates: [ProductPath]) -> String {
        let xsmm = charrnn_libxsmm_version().map { String(cString: $0) } ?? "-"
        let names = candidates.map(\.description).joined(separator: "+")
        return "v1|\(KernelPlanner.cpuModel)|\(OpenBLAS.coreName)|xsmm \(xsmm)|\(names)|"
            + "\(s.m)x\(s.n)x\(s.k)|T\(seqLength)|\(s.transposedB ? "nt" : "nn")"
    }

    func readLines() -> [String] {
        guard let f = fopen(path, "r") else { return [] }
        defer { fclose(f) }
        var lines: [String] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, 4096, f) != nil {
            var s = String(cString: buffer)
            if s.hasSuffix("\n") { s.removeLast() }
            if !s.isEmpty { lines.append(s) }
        }
        return lines
    }

    func lookup(_ key: String) -> [(String, Double)]? {
        for line in readLines().reversed() {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == key else { continue }
            var times: [(String, Double)] = []
            for item in parts[1].split(separator: ",") {
                let kv = item.split(separator: "=")
                guard kv.count == 2, let t = Double(kv[1]), t.isFinite, t > 0 else { return nil }
                times.append((String(kv[0]), t))
            }
            return times
        }
        return nil
    }

    /// Adds the entries (replacing lines with the same keys), written
    /// atomically; a folder that cannot be written is left alone (the plan
    /// is then measured again next time).
    func store(_ entries: [Entry]) {
        let keys = Set(entries.map(\.key))
        var lines = readLines().filter { line in !keys.contains(String(line.prefix { $0 != "\t" })) }
        for e in entries {
            lines.append(e.key + "\t" + e.times.map { "\($0.0)=\($0.1)" }.joined(separator: ","))
        }
        if lines.count > Self.maxLines { lines.removeFirst(lines.count - Self.maxLines) }
        let (dir, _) = splitPath(path)
        guard (try? makeDirectory(dir)) != nil else { return }
        guard let file = try? AtomicFile(path: path) else { return }
        if (try? file.sink.write(lines.joined(separator: "\n") + "\n")) == nil { file.discard(); return }
        try? file.commit()
    }
}
