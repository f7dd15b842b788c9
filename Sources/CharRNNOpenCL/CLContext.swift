// OpenCL platforms and devices, and the context a backend runs in: one
// device, one in-order queue, charrnn's kernels compiled once, device buffers.
// Every failure is a CharRNNError that names the device and says what to do.
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore
import COpenCL

/// One OpenCL device as `rnn-ckpt devices` lists it.
public struct CLDeviceInfo: Sendable {
    public var platformIndex: Int
    public var deviceIndex: Int
    /// Position in the whole listing (opencl:N).
    public var flatIndex: Int
    public var platformName: String
    public var name: String
    public var vendor: String
    public var kind: String               // GPU, CPU, accelerator, other
    public var isGPU: Bool
    public var computeUnits: Int
    public var clockMHz: Int
    public var globalMemory: Int          // bytes
    public var maxAllocation: Int         // bytes in one buffer
    public var version: String
    public var driverVersion: String
    public var correctlyRoundedDivideSqrt: Bool

    /// `opencl:P.D`, the name --device accepts.
    public var selector: String { "opencl:\(platformIndex).\(deviceIndex)" }
    /// What log lines and errors call it.
    public var label: String { "\(selector) (\(name.trimmingWhitespace))" }
}

/// The names OpenCL gives its error codes (the common ones).
func clErrorName(_ code: cl_int) -> String {
    let names: [cl_int: String] = [
        -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE", -3: "CL_COMPILER_NOT_AVAILABLE",
        -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE", -5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
        -11: "CL_BUILD_PROGRAM_FAILURE", -14: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        -30: "CL_INVALID_VALUE", -32: "CL_INVALID_PLATFORM", -33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT",
        -36: "CL_INVALID_COMMAND_QUEUE", -38: "CL_INVALID_MEM_OBJECT", -43: "CL_INVALID_BUILD_OPTIONS",
        -45: "CL_INVALID_PROGRAM_EXECUTABLE", -46: "CL_INVALID_KERNEL_NAME", -48: "CL_INVALID_KERNEL",
        -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE", -51: "CL_INVALID_ARG_SIZE",
        -52: "CL_INVALID_KERNEL_ARGS", -54: "CL_INVALID_WORK_GROUP_SIZE", -61: "CL_INVALID_BUFFER_SIZE",
        -63: "CL_INVALID_GLOBAL_WORK_SIZE", -1001: "CL_PLATFORM_NOT_FOUND_KHR",
    ]
    return names[code] ?? "OpenCL error \(code)"
}

let installHint = "install an OpenCL driver (pocl-opencl-icd for CPUs, your GPU vendor's ICD for GPUs) and check with 'clinfo -l' and 'rnn-ckpt devices'"

/// Enumeration of what the OpenCL ICD loader finds.
public enum OpenCLDevices {
    static func platformIDs() throws -> [cl_platform_id] {
        var count: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &count)
        if status != CL_SUCCESS || count == 0 {
            let why = status == CL_SUCCESS ? "no platforms" : clErrorName(status)
            throw CharRNNError("no OpenCL platform found (clGetPlatformIDs: \(why))", hint: installHint)
        }
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        let again = clGetPlatformIDs(count, &ids, nil)
        if again != CL_SUCCESS {
            throw CharRNNError("no OpenCL platform found (clGetPlatformIDs: \(clErrorName(again)))", hint: installHint)
        }
        return ids.compactMap { $0 }
    }

    static func deviceIDs(_ platform: cl_platform_id) -> [cl_device_id] {
        var count: cl_uint = 0
        guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count) == CL_SUCCESS, count > 0 else { return [] }
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil) == CL_SUCCESS else { return [] }
        return ids.compactMap { $0 }
    }

    static func platformString(_ p: cl_platform_id, _ what: Int32) -> String {
        var size = 0
        guard clGetPlatformInfo(p, cl_platform_info(what), 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        _ = clGetPlatformInfo(p, cl_platform_info(what), size, &bytes, nil)
        return String(cString: bytes)
    }

    static func deviceString(_ d: cl_device_id, _ what: Int32) -> String {
        var size = 0
        guard clGetDeviceInfo(d, cl_device_info(what), 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        _ = clGetDeviceInfo(d, cl_device_info(what), size, &bytes, nil)
        return String(cString: bytes)
    }

    static func deviceValue<T: FixedWidthInteger>(_ d: cl_device_id, _ what: Int32, _ type: T.Type) -> T {
        var value: T = 0
        _ = clGetDeviceInfo(d, cl_device_info(what), MemoryLayout<T>.size, &value, nil)
        return value
    }

    static func info(_ d: cl_device_id, platform: String, platformIndex: Int, deviceIndex: Int, flat: Int) -> CLDeviceInfo {
        let type = deviceValue(d, CL_DEVICE_TYPE, cl_device_type.self)
        let kind: String
        if type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { kind = "GPU" }
        else if type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { kind = "CPU" }
        else if type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { kind = "accelerator" }
        else { kind = "other" }
        let fp = deviceValue(d, CL_DEVICE_SINGLE_FP_CONFIG, cl_device_fp_config.self)
        return CLDeviceInfo(
            platformIndex: platformIndex, deviceIndex: deviceIndex, flatIndex: flat, platformName: platform,
            name: deviceString(d, CL_DEVICE_NAME), vendor: deviceString(d, CL_DEVICE_VENDOR), kind: kind,
            isGPU: kind == "GPU",
            computeUnits: Int(deviceValue(d, CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint.self)),
            clockMHz: Int(deviceValue(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, cl_uint.self)),
            globalMemory: Int(deviceValue(d, CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong.self)),
            maxAllocation: Int(deviceValue(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong.self)),
            version: deviceString(d, CL_DEVICE_VERSION), driverVersion: deviceString(d, CL_DRIVER_VERSION),
            correctlyRoundedDivideSqrt: fp & cl_device_fp_config(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0)
    }

    /// Every device of every platform, in listing order (throws when there
    /// is no platform at all).
    public static func list() throws -> [CLDeviceInfo] {
        try all().map(\.info)
    }

    static func all() throws -> [(id: cl_device_id, info: CLDeviceInfo)] {
        var out: [(cl_device_id, CLDeviceInfo)] = []
        for (p, platform) in try platformIDs().enumerated() {
            let name = platformString(platform, CL_PLATFORM_NAME)
            for (d, device) in deviceIDs(platform).enumerated() {
                out.append((device, info(device, platform: name, platformIndex: p, deviceIndex: d, flat: out.count)))
            }
        }
        return out
    }

    /// The device a selector names, or an error saying what there is.
    static func select(_ selector: OpenCLSelector) throws -> (cl_device_id, CLDeviceInfo) {
        let platforms = try platformIDs()
        let devices = try all()
        let listHint = "'rnn-ckpt devices' lists the OpenCL devices of this machine"
        if devices.isEmpty {
            throw CharRNNError("no OpenCL device found (\(platforms.count) platform\(platforms.count == 1 ? "" : "s"), no devices)", hint: installHint)
        }
        switch selector {
        case .automatic:
            return devices.first { $0.info.isGPU } ?? devices[0]
        case .flat(let n):
            guard n < devices.count else {
                throw CharRNNError("opencl:\(n): no such OpenCL device (this machine has \(devices.count): opencl:0 to opencl:\(devices.count - 1))", hint: listHint)
            }
            return devices[n]
        case .indexed(let p, let d):
            guard p < platforms.count else {
                throw CharRNNError("opencl:\(p).\(d): no OpenCL platform \(p) (this machine has \(platforms.count): 0 to \(platforms.count - 1))", hint: listHint)
            }
            let onPlatform = devices.filter { $0.info.platformIndex == p }
            guard d < onPlatform.count else {
                throw CharRNNError("opencl:\(p).\(d): platform \(p) (\(platformString(platforms[p], CL_PLATFORM_NAME))) has no device \(d) (it has \(onPlatform.count))", hint: listHint)
            }
            return onPlatform[d]
        }
    }
}

/// A device, its context and in-order queue, and charrnn's kernels built
/// for it. One per device per process (`CLContext.shared`), so the kernels
/// (ours and CLBlast's) are compiled once.
public final class CLContext {
    public let info: CLDeviceInfo
    let device: cl_device_id
    let context: cl_context
    var queue: cl_command_queue?
    let program: cl_program
    let kernels: CLKernels
    /// Bytes of device memory this process has allocated in this context.
    private(set) var allocated = 0

    nonisolated(unsafe) private static var cache: [OpenCLSelector: CLContext] = [:]
    nonisolated(unsafe) private static var byDevice: [String: CLContext] = [:]

    /// The context for a selector, created on first use; selectors that
    /// name the same device (opencl, opencl:0, opencl:0.0) share one.
    public static func shared(_ selector: OpenCLSelector) throws -> CLContext {
        if let c = cache[selector] { return c }
        let (_, info) = try OpenCLDevices.select(selector)
        let c = try byDevice[info.selector] ?? CLContext(selector)
        byDevice[info.selector] = c
        cache[selector] = c
        return c
    }

    public init(_ selector: OpenCLSelector) throws {
        (device, info) = try OpenCLDevices.select(selector)
        var status: cl_int = 0
        var dev: cl_device_id? = device
        guard let ctx = clCreateContext(nil, 1, &dev, nil, nil, &status), status == CL_SUCCESS else {
            throw CharRNNError("cannot create an OpenCL context on \(info.label): \(clErrorName(status))", hint: installHint)
        }
        context = ctx
        guard let q = clCreateCommandQueue(ctx, device, 0, &status), status == CL_SUCCESS else {
            clReleaseContext(ctx)
            throw CharRNNError("cannot create an OpenCL queue on \(info.label): \(clErrorName(status))", hint: installHint)
        }
        queue = q
        do {
            var options = "-cl-std=CL1.2"
            if info.correctlyRoundedDivideSqrt { options += " -cl-fp32-correctly-rounded-divide-sqrt" }
            let built = try CLContext.build(source: clKernelSource, options: options, context: ctx, device: device, info: info)
            do {
                kernels = try CLKernels(program: built, device: device, info: info)
            } catch {
                clReleaseProgram(built)
                throw error
            }
            program = built
        } catch {
            clReleaseCommandQueue(q)
            clReleaseContext(ctx)
            throw error
        }
    }

    deinit {
        kernels.release()
        clReleaseProgram(program)
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    /// Compiles OpenCL C source; a failure reports the compiler's log.
    static func build(source: String, options: String, context: cl_context, device: cl_device_id, info: CLDeviceInfo) throws -> cl_program {
        var status: cl_int = 0
        let program: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return clCreateProgramWithSource(context, 1, &pointer, &length, &status)
        }
        guard let program, status == CL_SUCCESS else {
            throw CharRNNError("cannot load the OpenCL kernels on \(info.label): \(clErrorName(status))", hint: installHint)
        }
        var dev: cl_device_id? = device
        let built = clBuildProgram(program, 1, &dev, options, nil, nil)
        if built != CL_SUCCESS {
            var size = 0
            _ = clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
            var log = [CChar](repeating: 0, count: size + 1)
            _ = clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &log, nil)
            clReleaseProgram(program)
            let text = String(cString: log).trimmingWhitespace
            throw CharRNNError("the OpenCL kernels did not build on \(info.label) (\(clErrorName(built))); build log:\n\(text.isEmpty ? "(empty)" : text)\n",
                               hint: "the device's OpenCL compiler rejected them; report this with the log, and use --device cpu meanwhile")
        }
        return program
    }

    /// Throws a CharRNNError for a failed OpenCL call.
    @inline(__always)
    func check(_ status: cl_int, _ what: @autoclosure () -> String) throws {
        if status != CL_SUCCESS { throw failure(status, what()) }
    }

    func failure(_ status: cl_int, _ what: String) -> CharRNNError {
        let memory = status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES || status == CL_OUT_OF_HOST_MEMORY
        return CharRNNError("OpenCL \(what) failed on \(info.label): \(clErrorName(status))" + (memory ? " (\(formatBytes(allocated)) allocated)" : ""),
                            hint: memory ? "the device ran out of memory; use a smaller model or batch, or another device" : "try --device cpu; report this if it persists")
    }

    /// Waits for everything queued.
    public func finish() throws {
        try check(clFinish(queue), "clFinish")
    }

    /// A buffer of `bytes`, zero-filled; `name` appears in errors.
    func allocate(bytes: Int, name: String) throws -> cl_mem {
        let size = max((bytes + 3) / 4 * 4, 4)   // whole 4-byte words, for the zero fill
        func tooBig(_ why: String) -> CharRNNError {
            CharRNNError("cannot allocate \(formatBytes(size)) for \(name) on \(info.label): \(why)",
                         hint: "use a smaller --rnn-size, --batch-size or --seq-length, or another device")
        }
        if size > info.maxAllocation {
            throw tooBig("the device allows at most \(formatBytes(info.maxAllocation)) in one buffer")
        }
        if allocated + size > info.globalMemory {
            throw tooBig("that would make \(formatBytes(allocated + size)) of its \(formatBytes(info.globalMemory))")
        }
        var status: cl_int = 0
        guard let mem = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), size, nil, &status), status == CL_SUCCESS else {
            throw tooBig(clErrorName(status))
        }
        // Fill now, so that a lazy allocation fails here and not mid-run.
        var zero: Float = 0
        let filled = clEnqueueFillBuffer(queue, mem, &zero, 4, 0, size, 0, nil, nil)
        let done = filled == CL_SUCCESS ? clFinish(queue) : filled
        if done != CL_SUCCESS {
            clReleaseMemObject(mem)
            throw tooBig(clErrorName(done))
        }
        allocated += size
        return mem
    }

    func released(bytes: Int) { allocated -= max((bytes + 3) / 4 * 4, 4) }
}

/// A device buffer of `count` elements of T, owned by this object.
public final class CLBuffer<T> {
    let mem: cl_mem
    let count: Int
    let context: CLContext
    var bytes: Int { count * MemoryLayout<T>.stride }

    init(_ context: CLContext, count: Int, name: String) throws {
        self.context = context
        self.count = count
        mem = try context.allocate(bytes: count * MemoryLayout<T>.stride, name: name)
    }

    deinit {
        clReleaseMemObject(mem)
        context.released(bytes: bytes)
    }

    /// Copies host values in (blocking: the host array may change right after).
    func write(_ values: UnsafePointer<T>, count n: Int, at offset: Int = 0) throws {
        precondition(offset + n <= count)
        if n == 0 { return }
        let stride = MemoryLayout<T>.stride
        try context.check(clEnqueueWriteBuffer(context.queue, mem, cl_bool(CL_TRUE), offset * stride, n * stride, values, 0, nil, nil),
                          "writing \(formatBytes(n * stride)) to the device")
    }

    func write(_ values: [T], at offset: Int = 0) throws {
        try values.withUnsafeBufferPointer { try write($0.baseAddress!, count: $0.count, at: offset) }
    }

    /// Copies device values out (blocking; waits for the queue up to here).
    func read(into out: UnsafeMutablePointer<T>, count n: Int, at offset: Int = 0) throws {
        precondition(offset + n <= count)
        if n == 0 { return }
        let stride = MemoryLayout<T>.stride
        try context.check(clEnqueueReadBuffer(context.queue, mem, cl_bool(CL_TRUE), offset * stride, n * stride, out, 0, nil, nil),
                          "reading \(formatBytes(n * stride)) from the device")
    }

    func read(count n: Int? = nil, at offset: Int = 0) throws -> [T] where T: Numeric {
        let n = n ?? count - offset
        var out = [T](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { try read(into: $0.baseAddress!, count: n, at: offset) }
        return out
    }

    /// Sets elements [offset, offset + n) to zero.
    func zero(count n: Int? = nil, at offset: Int = 0) throws {
        let n = n ?? count - offset
        if n == 0 { return }
        var z: UInt32 = 0
        let stride = MemoryLayout<T>.stride   // 1 or 4: the pattern is one element
        precondition(stride <= 4)
        try context.check(clEnqueueFillBuffer(context.queue, mem, &z, stride, offset * stride, n * stride, 0, nil, nil),
                          "clearing a buffer")
    }
}

/// Device-to-device copy of `count` elements.
func clCopy<T>(_ from: CLBuffer<T>, at fromOffset: Int = 0, to: CLBuffer<T>, at toOffset: Int = 0, count: Int) throws {
    if count == 0 { return }
    precondition(fromOffset + count <= from.count && toOffset + count <= to.count)
    let stride = MemoryLayout<T>.stride
    try from.context.check(clEnqueueCopyBuffer(from.context.queue, from.mem, to.mem, fromOffset * stride, toOffset * stride,
                                               count * stride, 0, nil, nil), "copying on the device")
}

extension String {
    /// Without leading and trailing blanks and NULs (OpenCL strings have them).
    public var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" || c == "\r" || c == "\0" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" || c == "\r" || c == "\0" { s = s.dropLast() }
        return String(s)
    }
}
