using System;
using System.Runtime.InteropServices;

namespace SlmGen.Native;

/// <summary>
/// Returns the C heap's free pages to the system (glibc's <c>malloc_trim</c>; nothing elsewhere). libtorch's CPU tensors
/// come from malloc, and glibc keeps the memory of freed large tensors once its adaptive mmap threshold has risen:
/// a whole-split evaluation of a 24 M-parameter model at context 512 grew to 4–6 GB of resident memory that way, with
/// 1–2 GB live. Called every few evaluation batches on the CPU.
/// </summary>
public static class HeapTrim
{
    private static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>Trims the heap where glibc is the C library; a no-op elsewhere.</summary>
    public static void Now()
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
}
