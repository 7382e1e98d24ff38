using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Samples.Bench;

/// <summary>
/// Bench's <c>--weight-stream</c>: a decoded token's products at batch 1 read every weight once, so where the model's
/// weights live (a cache, or memory) sets their speed. Each working set is made of distinct (out × in) weights cycled
/// through one batch-1 product each, no autograd, as decoding runs them; the time per product and the weights' bytes
/// per second are printed per working set. Session 25 on the 2-core CPU: the rate falls between about 8 and 20 MiB,
/// and where it falls moves from one run to the next on a shared host (results/lab2/records/q3-b2-seeds/cpu-decode).
/// </summary>
internal static class WeightStream
{
    /// <summary>Times the working sets (MiB) and prints a line each; returns 0.</summary>
    public static int Run(Device device, int inFeatures, int outFeatures, double secondsEach)
    {
        var dtype = device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
        var elementBytes = dtype == ScalarType.BFloat16 ? 2 : 4;
        var weightBytes = (long)inFeatures * outFeatures * elementBytes;
        Console.WriteLine($"weight stream on {device}: ({outFeatures} x {inFeatures}) weights of {weightBytes / 1048576.0:0.00} MiB, one batch-1 product each, {dtype}");
        foreach (var mib in new[] { 1, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 32, 64, 128 })
        {
            var count = (int)Math.Max(1, mib * 1048576L / weightBytes);
            using var scope = NewDisposeScope();
            var weights = Enumerable.Range(0, count).Select(_ => randn(new long[] { outFeatures, inFeatures }, dtype: dtype, device: device)).ToArray();
            var x = randn(new long[] { 1, inFeatures }, dtype: dtype, device: device);
            using var noGrad = no_grad();
            void Pass()
            {
                foreach (var w in weights)
                {
                    using var inner = NewDisposeScope();
                    nn.functional.linear(x, w);
                }
            }

            Pass();
            Pass();
            if (device.type == DeviceType.CUDA)
            {
                cuda.synchronize(device);
            }

            var clock = Stopwatch.StartNew();
            long products = 0;
            while (clock.Elapsed.TotalSeconds < secondsEach)
            {
                Pass();
                products += count;
            }

            if (device.type == DeviceType.CUDA)
            {
                cuda.synchronize(device);
            }

            var seconds = clock.Elapsed.TotalSeconds / products;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count,5} weights ({count * weightBytes / 1048576.0,7:0.0} MiB): {seconds * 1e6,8:0.00} µs a product, {weightBytes / seconds / 1e9,7:0.00} GB/s of weights"));
        }

        return 0;
    }
}
