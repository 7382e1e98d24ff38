using System;
using System.Runtime.InteropServices;
using TorchSharp;

namespace SlmGen.Native;

/// <summary>
/// The C heap under libtorch's CPU tensors (glibc's malloc; nothing happens with another C library or off Linux).
/// <para>
/// <see cref="ReuseLargeBlocks"/>: glibc serves every block over 32 MiB (its largest mmap threshold) with a fresh
/// <c>mmap</c> and returns it with <c>munmap</c> when freed, so a tensor of that size made every step — a batch's
/// logits at vocabulary 8,192 and 1,024 tokens are 33.5 MB, and the loss and its gradient make more of them — is
/// page-faulted in and zeroed by the kernel again each step. On this project's 2-core machine that was most of a CPU
/// training step: three held-out designs ran 334, 392 and 360 ms a step with glibc's defaults and 61, 172 and 144 ms
/// with mmap off and the freed memory kept (system time 33 s → 1.4 s; peak resident memory 676 → 863 MB;
/// results/time/README.md, "CPU, session 23"). The trainer, the evaluator, text generation, the step and decode timers
/// and the calibration call it on the CPU, so what is timed and calibrated is what runs. <c>SLMGEN_CPU_HEAP=system</c>
/// keeps glibc's defaults.
/// </para>
/// <para>
/// <see cref="Trim"/>: returns the heap's free pages to the system (<c>malloc_trim</c>), which the evaluator calls every
/// few batches: a whole-split evaluation of a 24 M-parameter model at context 512 otherwise grew to 4–6 GB of resident
/// memory with 1–2 GB live.
/// </para>
/// </summary>
public static class CHeap
{
    private const int MallocTrimThreshold = -1; // glibc's M_TRIM_THRESHOLD
    private const int MallocMmapMax = -4;       // glibc's M_MMAP_MAX

    private static readonly object Gate = new();
    private static bool unavailable = !OperatingSystem.IsLinux();
    private static bool reusing;

    /// <summary>Whether <see cref="ReuseLargeBlocks"/> has changed the heap's settings in this process.</summary>
    public static bool ReusingLargeBlocks
    {
        get
        {
            lock (Gate)
            {
                return reusing;
            }
        }
    }

    /// <summary>
    /// Large blocks come from the heap and stay there once freed (<c>M_MMAP_MAX</c> 0, <c>M_TRIM_THRESHOLD</c> at its
    /// largest), so the next step's tensors of the same sizes reuse them instead of faulting fresh pages in. Once per
    /// process; only where glibc is the C library and <c>SLMGEN_CPU_HEAP</c> is not <c>system</c>. Returns whether the
    /// heap now reuses large blocks.
    /// </summary>
    public static bool ReuseLargeBlocks()
    {
        if (unavailable || string.Equals(Environment.GetEnvironmentVariable("SLMGEN_CPU_HEAP"), "system", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        lock (Gate)
        {
            if (reusing || unavailable)
            {
                return reusing;
            }

            try
            {
                // mallopt returns 1 on success; a C library without these parameters returns 0 and changes nothing.
                reusing = mallopt(MallocTrimThreshold, int.MaxValue) == 1 && mallopt(MallocMmapMax, 0) == 1;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                unavailable = true;
            }

            return reusing;
        }
    }

    /// <summary><see cref="ReuseLargeBlocks"/> when <paramref name="device"/> is the CPU (its tensors live on the C heap).</summary>
    public static void PrepareFor(torch.Device device)
    {
        if (device.type == DeviceType.CPU)
        {
            ReuseLargeBlocks();
        }
    }

    /// <summary>Trims the heap where glibc is the C library; a no-op elsewhere.</summary>
    public static void Trim()
    {
        if (unavailable)
        {
            return;
        }

        try
        {
            _ = malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true; // musl and other C libraries have no malloc_trim
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
