using System;
using System.Runtime.InteropServices;
using SlmGen.Native;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// On glibc, large CPU tensors come from the heap once <see cref="CHeap.ReuseLargeBlocks"/> has run, not from a fresh
/// mmap each (which the kernel faults in and zeroes again every step). Read through glibc's own statistics.
/// </summary>
[HoldTensors]
public class CHeapTests
{
    [Fact]
    public void A_large_cpu_tensor_comes_from_the_heap_not_from_a_fresh_mapping()
    {
        if (!OperatingSystem.IsLinux() || !GlibcStatistics.Available)
        {
            return; // another C library: nothing to reuse, ReuseLargeBlocks changes nothing
        }

        Assert.True(CHeap.ReuseLargeBlocks(), "glibc's mallopt refused the settings");
        Assert.True(CHeap.ReusingLargeBlocks);
        Assert.True(CHeap.ReuseLargeBlocks()); // idempotent

        const long Elements = 12L << 20; // 48 MiB of fp32: over glibc's largest mmap threshold (32 MiB)
        var mappedBefore = GlibcStatistics.MappedBytes();
        using (var big = zeros(Elements, dtype: ScalarType.Float32))
        {
            big.add_(1f);
            var mappedWith = GlibcStatistics.MappedBytes();
            Assert.True(mappedWith - mappedBefore < Elements * 4,
                $"a 48 MiB tensor was mapped on its own ({mappedBefore:N0} → {mappedWith:N0} bytes in mmap'd blocks)");
            Assert.Equal(Elements, big.sum().item<float>());
        }

        CHeap.Trim(); // still callable after the change: the evaluator trims every few batches
    }

    /// <summary>glibc's <c>mallinfo2</c> (2.33 and later): the bytes in blocks served by their own mmap.</summary>
    private static class GlibcStatistics
    {
        public static bool Available
        {
            get
            {
                try
                {
                    _ = mallinfo2();
                    return true;
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    return false;
                }
            }
        }

        public static long MappedBytes() => (long)mallinfo2().Hblkhd;

        [StructLayout(LayoutKind.Sequential)]
        private struct MallInfo2
        {
            public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
        }

        [DllImport("libc")]
        private static extern MallInfo2 mallinfo2();
    }
}
