// Which kernel makes each matrix product of the CPU network: the plan, and
// the planner that chooses it by timing the candidates for this model's
// shapes on this machine (cached per CPU model and shape): see
// KernelPlanner.swift.
#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS
import CSupport

/// How the network makes one kind of product.
public enum ProductPath: Hashable, CustomStringConvertible {
    /// A packed-panel kernel (an index of charrnn_gemm_kernel_*), one step at a time.
    case packed(Int32)
    /// OpenBLAS one step at a time.
    case blasStep
    /// OpenBLAS over all timesteps at once (input products only).
    case blasWhole

    public var kernel: Int32? {
        if case .packed(let k) = self { return k }
        return nil
    }

    public var description: String {
        switch self {
        case .packed(let k): return String(cString: charrnn_gemm_kernel_name(k))
        case .blasStep: return "openblas-step"
        case .blasWhole: return "openblas"
        }
    }

    /// The path called `name` ("openblas", "openblas-step" or a kernel's name).
    public init?(name: String) {
        switch name {
        case "openblas": self = .blasWhole
        case "openblas-step": self = .blasStep
        default:
            guard let k = PackedKernels.index(named: name) else { return nil }
            self = .packed(k)
        }
    }
}

/// The products of one layer (m = the network's batch rows, T steps).
public struct LayerPlan: Equatable {
    /// h_{t-1} (m×H) · W_hh^T → (m×GH), every step.
    public var forwardRecurrent: ProductPath
    /// d pre-activations (m×GH) · W_hh → (m×H), every step.
    public var backwardRecurrent: ProductPath
    /// x_t (m×In) · W_ih^T → (m×GH) (not for one-hot input, a row gather).
    public var forwardInput: ProductPath
    /// d pre-activations (m×GH) · W_ih → (m×In) (not for one-hot input).
    public var backwardInput: ProductPath

    public init(forwardRecurrent: ProductPath, backwardRecurrent: ProductPath, forwardInput: ProductPath,
                backwardInput: ProductPath) {
        self.forwardRecurrent = forwardRecurrent
        self.backwardRecurrent = backwardRecurrent
        self.forwardInput = forwardInput
        self.backwardInput = backwardInput
    }
}

/// Every product of a network, and the instruction set of its element-wise kernels.
public struct KernelPlan: Equatable {
    public var isa: Int32
    public var layers: [LayerPlan]
    /// One line per product: its shape, the path chosen and the times that
    /// chose it (for --verbose); empty for a plan that was not measured.
    public var notes: [String] = []

    public init(isa: Int32, layers: [LayerPlan], notes: [String] = []) {
        self.isa = isa
        self.layers = layers
        self.notes = notes
    }

    public static func == (a: KernelPlan, b: KernelPlan) -> Bool { a.isa == b.isa && a.layers == b.layers }

    /// Every product on `path` where it applies: a packed kernel only where
    /// the product's width is a multiple of 16 (else OpenBLAS step by step);
    /// `.blasWhole` for the recurrent products means step by step.
    public static func uniform(_ path: ProductPath, config: ModelConfig, isa: Int32? = nil) -> KernelPlan {
        let GH = config.cell.gates * config.rnnSize
        func fit(_ p: ProductPath, width n: Int, recurrent: Bool) -> ProductPath {
            switch p {
            case .packed: return n % 16 == 0 ? p : .blasStep
            case .blasWhole: return recurrent ? .blasStep : .blasWhole
            case .blasStep: return .blasStep
            }
        }
        let kernelISA = path.kernel.map { charrnn_gemm_kernel_isa($0) }.flatMap { $0 >= 0 ? $0 : nil }
        let layers = (0..<config.numLayers).map { k in
            LayerPlan(forwardRecurrent: fit(path, width: GH, recurrent: true),
                      backwardRecurrent: fit(path, width: config.rnnSize, recurrent: true),
                      forwardInput: fit(path, width: GH, recurrent: false),
                      backwardInput: fit(path, width: config.inputSize(layer: k), recurrent: false))
        }
        return KernelPlan(isa: isa ?? kernelISA ?? charrnn_isa_best(), layers: layers)
    }

    /// A plan made without measuring, the same on every run: the best
    /// instruction set's first packed kernel for every product it fits, the
    /// input products step by step while W_ih is at most 1 MB (else OpenBLAS
    /// over all steps, which streams large weights better). For the library,
    /// tests, and a tool that has no plan cache to keep a measured plan in.
    public static func standard(config: ModelConfig) -> KernelPlan {
        let isa = charrnn_isa_best()
        guard let first = PackedKernels.available.first(where: { charrnn_gemm_kernel_isa($0) == isa }) else {
            return uniform(.blasStep, config: config)
        }
        var plan = uniform(.packed(first), config: config)
        let GH = config.cell.gates * config.rnnSize
        for k in plan.layers.indices where config.inputSize(layer: k) * GH > 1 << 18 {
            plan.layers[k].forwardInput = .blasWhole
            plan.layers[k].backwardInput = .blasWhole
        }
        return plan
    }
}

/// The packed-panel kernels built in (kernels.h).
public enum PackedKernels {
    public static var all: [Int32] { Array(0..<charrnn_gemm_kernel_count()) }
    /// Those this CPU runs.
    public static var available: [Int32] { all.filter { charrnn_gemm_kernel_available($0) != 0 } }
    public static func name(_ k: Int32) -> String { String(cString: charrnn_gemm_kernel_name(k)) }
    public static func index(named name: String) -> Int32? { all.first { Self.name($0) == name } }
    public static func panel(_ k: Int32) -> Int { Int(charrnn_gemm_kernel_panel(k)) }
    /// The instruction set names this build has, and whether the CPU runs each.
    public static var isaNames: [String] { (0..<CHARRNN_ISA_COUNT).map { String(cString: charrnn_isa_name(Int32($0))) } }
    public static func isa(named name: String) -> Int32? {
        isaNames.firstIndex(of: name).map { Int32($0) }
    }
}

/// What the planner may do, decided by the tool (environment, cache folder).
public struct KernelOptions: Equatable {
    /// A path forced for every product ("openblas", "openblas-step", a
    /// kernel's name) or an instruction set ("avx2": its kernels and
    /// OpenBLAS are the candidates, its element-wise kernels run).
    public var forced: String?
    /// Folder of the plan cache. The planner measures only when it can keep
    /// what it measured there (so that every run on a machine chooses the
    /// same kernels and gives the same bytes); without one the plan is
    /// KernelPlan.standard.
    public var cacheDirectory: String?

    public init(forced: String? = nil, cacheDirectory: String? = nil) {
        self.forced = forced
        self.cacheDirectory = cacheDirectory
    }

    /// Every name `forced` accepts, for messages.
    public static var forcibleNames: [String] {
        ["openblas", "openblas-step"] + PackedKernels.available.map(PackedKernels.name)
            + PackedKernels.isaNames.enumerated().filter { charrnn_isa_supported(Int32($0.offset)) != 0 }.map(\.element)
    }

    /// Checks `forced` names something this machine runs.
    public func validate() throws {
        guard let forced else { return }
        if let path = ProductPath(name: forced) {
            if let k = path.kernel, charrnn_gemm_kernel_available(k) == 0 {
                throw CharRNNError("kernel \(forced) needs an instruction set this CPU lacks",
                                   hint: "use one of: \(Self.forcibleNames.joined(separator: ", "))")
            }
            return
        }
        if let isa = PackedKernels.isa(named: forced) {
            if charrnn_isa_supported(isa) == 0 {
                throw CharRNNError("this CPU cannot run the \(forced) kernels",
                                   hint: "use one of: \(Self.forcibleNames.joined(separator: ", "))")
            }
            return
        }
        throw CharRNNError("unknown kernel '\(forced)' in CHARRNN_KERNELS",
                           hint: "use one of: \(Self.forcibleNames.joined(separator: ", ")), or unset it")
    }
}
