using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SlmGen.Native;

/// <summary>
/// libslmgen_native (src/SlmGen.Native, built by its build.sh against the libtorch it runs with): CUDA-graph capture
/// and replay and fused AdamW, which TorchSharp 0.107 does not expose. Optional: it is looked for at SLMGEN_NATIVE (a
/// path), then beside the application; when it is absent or does not load, <see cref="Available"/> is false and
/// <see cref="Reason"/> says why, and SlmGen trains on its eager path.
/// </summary>
public static unsafe class CudaNative
{
    private static readonly Lazy<(bool Ok, string Reason)> Loaded = new(Load);
    private static delegate* unmanaged<int> version;
    private static delegate* unmanaged<IntPtr> lastError;
    private static delegate* unmanaged<int, IntPtr> graphCreate;
    private static delegate* unmanaged<IntPtr, int> graphDestroy;
    private static delegate* unmanaged<IntPtr, int> graphEnter;
    private static delegate* unmanaged<IntPtr, int> graphExit;
    private static delegate* unmanaged<IntPtr, int> graphBegin;
    private static delegate* unmanaged<IntPtr, int> graphEnd;
    private static delegate* unmanaged<IntPtr, int> graphReplay;
    private static delegate* unmanaged<IntPtr*, IntPtr*, IntPtr*, IntPtr*, int, IntPtr, IntPtr, double, double, double, double, int> fusedAdamW;
    private static delegate* unmanaged<IntPtr, IntPtr, IntPtr, double, int, int, IntPtr*, int> norm;
    private static delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, double, int, int, IntPtr*, IntPtr*, int> addNorm;
    private static delegate* unmanaged<IntPtr, IntPtr, int, IntPtr*, int> biasAct;
    private static delegate* unmanaged<IntPtr, IntPtr, IntPtr*, int> swiGlu;
    private static delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, int> linearBias;
    private static delegate* unmanaged<IntPtr, IntPtr, long, double, IntPtr*, int> crossEntropy;
    private static delegate* unmanaged<IntPtr, IntPtr, IntPtr, long, IntPtr*, int> rope;
    private static delegate* unmanaged<int, long*, long*, int> memoryStats;
    private static delegate* unmanaged<int, int> memoryResetPeak;
    private static delegate* unmanaged<int> profilerStart;
    private static delegate* unmanaged<IntPtr, int> profilerStop;

    /// <summary>The library's file name.</summary>
    public const string FileName = "libslmgen_native.so";

    /// <summary>Whether the library is loaded.</summary>
    public static bool Available => Loaded.Value.Ok;

    /// <summary>Why it is not (empty when it is).</summary>
    public static string Reason => Loaded.Value.Reason;

    /// <summary>Whether the loaded library has SlmGen's fused kernels (built with nvcc: src/SlmGen.Native/build.sh).</summary>
    public static bool HasFusedKernels => Available && norm != null && addNorm != null && biasAct != null && swiGlu != null;

    /// <summary>Whether the loaded library reports the CUDA caching allocator's statistics (a separate unit of the build).</summary>
    public static bool HasMemoryStats => Available && memoryStats != null && memoryResetPeak != null;

    /// <summary>Whether the loaded library has libtorch's kernel profiler (a separate unit of the build).</summary>
    public static bool HasProfiler => Available && profilerStart != null && profilerStop != null;

    /// <summary>Why a kernel trace cannot be recorded on <paramref name="device"/> (not CUDA, no library, no profiler in it); null when it can.</summary>
    public static string? WhyNoTrace(TorchSharp.torch.Device device) =>
        device.type != TorchSharp.DeviceType.CUDA ? "this device is " + device.type
        : HasProfiler ? null
        : Available ? "the library was built without kernel_profiler.cpp"
        : Reason;

    /// <summary>Whether the loaded library has the biased linear layer whose bias gradient is SlmGen's column-sum kernel (a separate unit of the nvcc build).</summary>
    public static bool HasLinearKernel => HasFusedKernels && linearBias != null;

    /// <summary>Whether the loaded library has the fused cross-entropy and RoPE kernels too (a separate unit of the nvcc build).</summary>
    public static bool HasLossAndRopeKernels => HasFusedKernels && crossEntropy != null && rope != null;

    private static (bool, string) Load()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("SLMGEN_NATIVE"), Path.Combine(AppContext.BaseDirectory, FileName) };
        string? tried = null;
        foreach (var path in candidates)
        {
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                continue;
            }

            tried = path;
            // TorchSharp's libtorch must be loaded first: the library links against the same libtorch.
            _ = TorchSharp.torch.cuda.is_available();
            if (!NativeLibrary.TryLoad(path, out var lib))
            {
                return (false, $"{path} did not load (is it built against this libtorch, and is libtorch on LD_LIBRARY_PATH?)");
            }

            version = (delegate* unmanaged<int>)NativeLibrary.GetExport(lib, "slm_native_version");
            lastError = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "slm_last_error");
            graphCreate = (delegate* unmanaged<int, IntPtr>)NativeLibrary.GetExport(lib, "slm_graph_create");
            graphDestroy = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_graph_destroy");
            graphEnter = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_graph_enter");
            graphExit = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_graph_exit");
            graphBegin = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_graph_begin");
            graphEnd = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_graph_end");
            graphReplay = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_graph_replay");
            fusedAdamW = (delegate* unmanaged<IntPtr*, IntPtr*, IntPtr*, IntPtr*, int, IntPtr, IntPtr, double, double, double, double, int>)NativeLibrary.GetExport(lib, "slm_fused_adamw");
            // The fused kernels are there only when the library was built with nvcc (their entry points absent otherwise).
            if (NativeLibrary.TryGetExport(lib, "slm_fused_version", out var fusedVersion) && ((delegate* unmanaged<int>)fusedVersion)() == 1)
            {
                norm = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, double, int, int, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_norm");
                addNorm = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, double, int, int, IntPtr*, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_add_norm");
                biasAct = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_bias_act");
                swiGlu = (delegate* unmanaged<IntPtr, IntPtr, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_swiglu");
            }

            if (NativeLibrary.TryGetExport(lib, "slm_memory_version", out var memoryVersion) && ((delegate* unmanaged<int>)memoryVersion)() == 1)
            {
                memoryStats = (delegate* unmanaged<int, long*, long*, int>)NativeLibrary.GetExport(lib, "slm_memory_stats");
                memoryResetPeak = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(lib, "slm_memory_reset_peak");
            }

            if (NativeLibrary.TryGetExport(lib, "slm_profiler_version", out var profilerVersion) && ((delegate* unmanaged<int>)profilerVersion)() == 1)
            {
                profilerStart = (delegate* unmanaged<int>)NativeLibrary.GetExport(lib, "slm_profiler_start");
                profilerStop = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(lib, "slm_profiler_stop");
            }

            // A build where those two did not compile keeps the others (build.sh).
            if (NativeLibrary.TryGetExport(lib, "slm_loss_rope_version", out var lossRopeVersion) && ((delegate* unmanaged<int>)lossRopeVersion)() == 1)
            {
                crossEntropy = (delegate* unmanaged<IntPtr, IntPtr, long, double, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_cross_entropy");
                rope = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, long, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_rope");
            }

            if (NativeLibrary.TryGetExport(lib, "slm_linear_version", out var linearVersion) && ((delegate* unmanaged<int>)linearVersion)() == 1)
            {
                linearBias = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, int>)NativeLibrary.GetExport(lib, "slm_linear_bias");
            }

            return version() == 3 ? (true, string.Empty) : (false, $"{path} is version {version()}; this SlmGen needs 3 (rebuild it with src/SlmGen.Native/build.sh)");
        }

        return (false, tried is null ? $"{FileName} not found (set SLMGEN_NATIVE or put it beside the application; build it with src/SlmGen.Native/build.sh)" : $"{tried} did not load");
    }

    private static void Check(int code, string what)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"{what}: {Marshal.PtrToStringUTF8(lastError())}");
        }
    }

    /// <summary>Refuses, with the reason, when the library is not loaded.</summary>
    /// <exception cref="InvalidOperationException">libslmgen_native is not available.</exception>
    internal static void Need()
    {
        if (!Available)
        {
            throw new InvalidOperationException("libslmgen_native is not available: " + Reason);
        }
    }

    internal static IntPtr GraphCreate(int device)
    {
        Need();
        var graph = graphCreate(device);
        return graph != IntPtr.Zero ? graph : throw new InvalidOperationException("CUDA graph: " + Marshal.PtrToStringUTF8(lastError()));
    }

    /// <summary>Destroys a graph and returns the caching allocator's unused memory (the graph's pool included) to the device.</summary>
    /// <returns>False when emptying the cache failed (the graph is destroyed either way; nothing to do but go on).</returns>
    internal static bool GraphDestroy(IntPtr graph) => graphDestroy(graph) == 0;

    internal static void GraphEnter(IntPtr graph) => Check(graphEnter(graph), "CUDA graph (side stream)");

    internal static void GraphExit(IntPtr graph) => Check(graphExit(graph), "CUDA graph (back from the side stream)");

    internal static void GraphBegin(IntPtr graph) => Check(graphBegin(graph), "CUDA graph capture");

    internal static void GraphEnd(IntPtr graph) => Check(graphEnd(graph), "CUDA graph capture");

    internal static void GraphReplay(IntPtr graph) => Check(graphReplay(graph), "CUDA graph replay");

    /// <summary>libtorch's fused AdamW over lists of tensors (in place), with the step and learning rate as device tensors.</summary>
    internal static void FusedAdamW(TorchSharp.torch.Tensor[] parameters, TorchSharp.torch.Tensor[] grads, TorchSharp.torch.Tensor[] expAvgs, TorchSharp.torch.Tensor[] expAvgSqs,
        TorchSharp.torch.Tensor step, TorchSharp.torch.Tensor lr, double beta1, double beta2, double weightDecay, double eps)
    {
        Need();
        var n = parameters.Length;
        var p = stackalloc IntPtr[n];
        var g = stackalloc IntPtr[n];
        var m = stackalloc IntPtr[n];
        var v = stackalloc IntPtr[n];
        for (var i = 0; i < n; i++)
        {
            p[i] = parameters[i].Handle;
            g[i] = grads[i].Handle;
            m[i] = expAvgs[i].Handle;
            v[i] = expAvgSqs[i].Handle;
        }

        Check(fusedAdamW(p, g, m, v, n, step.Handle, lr.Handle, beta1, beta2, weightDecay, eps), "fused AdamW");
        GC.KeepAlive(parameters);
        GC.KeepAlive(grads);
        GC.KeepAlive(expAvgs);
        GC.KeepAlive(expAvgSqs);
        GC.KeepAlive(step);
        GC.KeepAlive(lr);
    }

    internal static TorchSharp.torch.Tensor Norm(TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor? weight, TorchSharp.torch.Tensor? bias, double eps, bool rms, bool doubleRound)
    {
        IntPtr y;
        Check(norm(x.Handle, Handle(weight), Handle(bias), eps, rms ? 1 : 0, doubleRound ? 1 : 0, &y), "fused norm");
        GC.KeepAlive(x);
        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        return TorchSharp.torch.Tensor.UnsafeCreateTensor(y);
    }

    internal static (TorchSharp.torch.Tensor Sum, TorchSharp.torch.Tensor Normed) AddNorm(TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor residual, TorchSharp.torch.Tensor? weight,
        TorchSharp.torch.Tensor? bias, double eps, bool rms, bool doubleRound)
    {
        IntPtr s, y;
        Check(addNorm(x.Handle, residual.Handle, Handle(weight), Handle(bias), eps, rms ? 1 : 0, doubleRound ? 1 : 0, &s, &y), "fused add + norm");
        GC.KeepAlive(x);
        GC.KeepAlive(residual);
        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        return (TorchSharp.torch.Tensor.UnsafeCreateTensor(s), TorchSharp.torch.Tensor.UnsafeCreateTensor(y));
    }

    internal static TorchSharp.torch.Tensor BiasAct(TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor? bias, int activation)
    {
        IntPtr y;
        Check(biasAct(x.Handle, Handle(bias), activation, &y), "fused bias + activation");
        GC.KeepAlive(x);
        GC.KeepAlive(bias);
        return TorchSharp.torch.Tensor.UnsafeCreateTensor(y);
    }

    internal static TorchSharp.torch.Tensor LinearBias(TorchSharp.torch.Tensor rows, TorchSharp.torch.Tensor weight, TorchSharp.torch.Tensor bias)
    {
        IntPtr y;
        Check(linearBias(rows.Handle, weight.Handle, bias.Handle, &y), "fused linear");
        GC.KeepAlive(rows);
        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        return TorchSharp.torch.Tensor.UnsafeCreateTensor(y);
    }

    internal static TorchSharp.torch.Tensor SwiGlu(TorchSharp.torch.Tensor gate, TorchSharp.torch.Tensor value)
    {
        IntPtr y;
        Check(swiGlu(gate.Handle, value.Handle, &y), "fused SwiGLU");
        GC.KeepAlive(gate);
        GC.KeepAlive(value);
        return TorchSharp.torch.Tensor.UnsafeCreateTensor(y);
    }

    /// <summary>Bytes allocated by tensors on CUDA device <paramref name="device"/> now and at the peak since the last reset; null without the statistics.</summary>
    public static (long Allocated, long Peak)? Memory(int device)
    {
        if (!HasMemoryStats)
        {
            return null;
        }

        long allocated, peak;
        Check(memoryStats(device, &allocated, &peak), "CUDA memory statistics");
        return (allocated, peak);
    }

    /// <summary>Starts a new peak on CUDA device <paramref name="device"/> (nothing without the statistics).</summary>
    public static void ResetPeakMemory(int device)
    {
        if (HasMemoryStats)
        {
            Check(memoryResetPeak(device), "CUDA memory statistics (reset)");
        }
    }

    /// <summary>Starts libtorch's profiler (CPU operators, CUDA kernels, copies and sets; those replayed from a graph included).</summary>
    public static void StartProfiler()
    {
        Need();
        if (!HasProfiler)
        {
            throw new InvalidOperationException("this libslmgen_native has no kernel profiler (src/SlmGen.Native/build.sh builds kernel_profiler.cpp on its nvcc path; its log says when it did not compile)");
        }

        Check(profilerStart(), "profiler (start)");
    }

    /// <summary>
    /// Records <paramref name="steps"/> runs of <paramref name="step"/> under the profiler into <paramref name="path"/>
    /// (a Chrome trace): the device is synchronised before the profiler starts and before it stops, so the trace holds
    /// those steps' kernels whole and nothing queued before them.
    /// </summary>
    public static void RecordTrace(string path, int steps, Action step, Action synchronize)
    {
        synchronize();
        StartProfiler();
        for (var i = 0; i < steps; i++)
        {
            step();
        }

        synchronize();
        StopProfiler(path);
    }

    /// <summary>Stops the profiler and writes what it recorded to <paramref name="path"/> as a Chrome trace.</summary>
    public static void StopProfiler(string path)
    {
        Need();
        var utf8 = Marshal.StringToCoTaskMemUTF8(path);
        try
        {
            Check(profilerStop(utf8), "profiler (stop)");
        }
        finally
        {
            Marshal.FreeCoTaskMem(utf8);
        }
    }

    internal static TorchSharp.torch.Tensor CrossEntropy(TorchSharp.torch.Tensor logits, TorchSharp.torch.Tensor targets, long realVocab, double zLoss)
    {
        IntPtr loss;
        Check(crossEntropy(logits.Handle, targets.Handle, realVocab, zLoss, &loss), "fused cross-entropy");
        GC.KeepAlive(logits);
        GC.KeepAlive(targets);
        return TorchSharp.torch.Tensor.UnsafeCreateTensor(loss);
    }

    internal static TorchSharp.torch.Tensor Rope(TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor cos, TorchSharp.torch.Tensor sin, long start)
    {
        IntPtr y;
        Check(rope(x.Handle, cos.Handle, sin.Handle, start, &y), "fused RoPE");
        GC.KeepAlive(x);
        GC.KeepAlive(cos);
        GC.KeepAlive(sin);
        return TorchSharp.torch.Tensor.UnsafeCreateTensor(y);
    }

    private static IntPtr Handle(TorchSharp.torch.Tensor? t) => t is null ? IntPtr.Zero : t.Handle;
}
