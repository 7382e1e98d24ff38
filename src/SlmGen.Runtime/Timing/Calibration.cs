using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using SlmGen.Native;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Timing;

/// <summary>
/// <c>slmgen calibrate</c>'s microbenchmarks, run through TorchSharp on the device training uses (CPU in fp32; CUDA in
/// bf16, as training computes): matmul rates over a grid of shapes, causal attention forward and backward, the bandwidth
/// of a large elementwise kernel, and the host time of launching a tiny kernel with and without autograd; on CUDA with
/// the native library, also the same matmuls and attention and a tiny kernel replayed from CUDA graphs (the device's
/// time without the host's). Each figure is the median of five timed repeats after a warm-up, with the device
/// synchronised at the ends of a repeat.
/// </summary>
public static class DeviceCalibration
{
    /// <summary>The prompt a decoding measurement takes by default (`slmgen time --decode`, and the calibration's decoding).</summary>
    public const int DecodePrompt = 64;

    /// <summary>The tokens a decoding measurement generates after the prompt by default.</summary>
    public const int DecodeTokens = 128;

    /// <summary>Heads per sequence in the attention grid's layout (a batch·heads of 8 or more is split into batch × 8 heads).</summary>
    private const long AttentionHeads = 8;

    /// <summary>The matmul grid's row counts (M).</summary>
    public static readonly long[] Rows = { 32, 256, 2048, 16384, 65536 };

    /// <summary>The matmul grid's column and inner sizes (N, K).</summary>
    public static readonly long[] Sizes = { 16, 64, 256, 1024, 4096, 32768 };

    /// <summary>Measures <paramref name="device"/>; <paramref name="quick"/> uses fewer shapes (tests).</summary>
    public static DeviceProfile Measure(Device device, bool quick = false, Action<string>? progress = null)
    {
        SlmGen.Native.CHeap.PrepareFor(device); // the heap as training runs on it
        var cuda = device.type == DeviceType.CUDA;
        var dtype = cuda ? ScalarType.BFloat16 : ScalarType.Float32;
        var elementBytes = cuda ? 2 : 4;
        var maxFlops = cuda ? 2e12 : quick ? 2e8 : 4e9;   // skip shapes whose one product would take long on this device
        var maxElements = cuda ? 1L << 30 : 1L << 26;

        // Launch: the host's time per kernel of a training step — tiny tensors through a forward and backward pass (a
        // multiply, an add and a sum forward; their three gradients and the accumulation backward: 7 kernels), each
        // allocating its output as a step's kernels do.
        using var one = zeros(new long[] { 1, 1 }, dtype: dtype, device: device).requires_grad_();
        var launch = Median(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                using var inner = NewDisposeScope();
                using var two = 2.ToScalar();
                using var unit = 1.ToScalar();
                one.mul(two).add(unit, HeldScalars.One).sum().backward();
            }
        }, device) / (50 * 7);
        one.grad?.Dispose();
        progress?.Invoke($"launch {launch * 1e6:0.0} µs per kernel");

        // The same kernels without autograd (a decoding step's forward): multiply, add, sum.
        var noGradLaunch = Median(() =>
        {
            using var noGrad = no_grad();
            for (var i = 0; i < 50; i++)
            {
                using var inner = NewDisposeScope();
                using var two = 2.ToScalar();
                using var unit = 1.ToScalar();
                one.mul(two).add(unit, HeldScalars.One).sum();
            }
        }, device) / (50 * 3);
        progress?.Invoke($"launch without autograd {noGradLaunch * 1e6:0.0} µs per kernel");

        // Replayed from CUDA graphs (when the native library is there): the device's own time per kernel and its rates.
        var graphs = cuda && CudaNative.Available;
        var graphKernel = 0.0;
        if (graphs)
        {
            using var tiny = zeros(1, dtype: dtype, device: device);
            graphKernel = GraphSeconds(() =>
            {
                using var unit = 1.ToScalar();
                for (var i = 0; i < 200; i++)
                {
                    tiny.add_(unit, HeldScalars.One);
                }
            }, device) / 200;
            progress?.Invoke($"graph replay {graphKernel * 1e6:0.00} µs per kernel");
        }

        // Bandwidth: y = x · 2 over a large tensor (one read, one write).
        var n = cuda ? 1L << 28 : quick ? 1L << 22 : 1L << 25;
        using var x = ones(n, dtype: dtype, device: device);
        using var y = empty(n, dtype: dtype, device: device);
        // Each kernel of a step writes a new tensor: the allocation (and, on the CPU, its first touch) is part of its cost.
        using var twice = 2.ToScalar();
        var copy = Median(() => { using var inner = NewDisposeScope(); _ = x.mul(twice); }, device); // one read, one fresh write
        var bandwidth = 2.0 * n * elementBytes / copy;
        progress?.Invoke($"bandwidth {bandwidth / 1e9:0.0} GB/s");

        var matmul = new List<MatmulPoint>();
        var graphMatmul = new List<MatmulPoint>();
        var unalignedMatmul = new List<MatmulPoint>();
        var graphUnalignedMatmul = new List<MatmulPoint>();
        var unalignedInputGradient = new List<MatmulPoint>();
        var unalignedWeightGradient = new List<MatmulPoint>();
        var graphUnalignedInputGradient = new List<MatmulPoint>();
        var graphUnalignedWeightGradient = new List<MatmulPoint>();
        void MeasureMatmul(long m, long nn, long k, List<MatmulPoint> eagerPoints, List<MatmulPoint> graphPoints, MatmulLayout layout = MatmulLayout.Forward)
        {
            var flops = 2.0 * m * nn * k;
            if (flops > maxFlops || m * k > maxElements || k * nn > maxElements || m * nn > maxElements)
            {
                return;
            }

            using var scope = NewDisposeScope();
            // Each of a layer's products with its operands as autograd stores them (the op's M × N output, K summed):
            // forward x · Wᵀ with W stored (out × in); input gradient dY · W; weight gradient dYᵀ · X, dY stored rows × out.
            var (a, b) = layout switch
            {
                MatmulLayout.InputGradient => (randn(new[] { m, k }, dtype: dtype, device: device), randn(new[] { k, nn }, dtype: dtype, device: device)),
                MatmulLayout.WeightGradient => (randn(new[] { k, m }, dtype: dtype, device: device).t(), randn(new[] { k, nn }, dtype: dtype, device: device)),
                _ => (randn(new[] { m, k }, dtype: dtype, device: device), randn(new[] { nn, k }, dtype: dtype, device: device)),
            };
            var repeats = (int)Math.Clamp(2e9 / flops / (cuda ? 0.01 : 1), 1, 50);
            void Products()
            {
                for (var i = 0; i < repeats; i++)
                {
                    using var inner = NewDisposeScope();
                    _ = layout == MatmulLayout.Forward ? torch.nn.functional.linear(a, b) : a.mm(b);
                }
            }

            var seconds = Median(Products, device) / repeats;
            eagerPoints.Add(new MatmulPoint(m, nn, k, flops / seconds)); // a small product's rate includes its launch (the time model counts it once)
            if (graphs)
            {
                graphPoints.Add(new MatmulPoint(m, nn, k, flops / (GraphSeconds(Products, device) / repeats)));
            }
        }

        foreach (var m in quick ? new long[] { 32, 2048 } : Rows)
        {
            foreach (var nn in quick ? new long[] { 64, 1024 } : Sizes)
            {
                foreach (var k in quick ? new long[] { 64, 1024 } : Sizes)
                {
                    MeasureMatmul(m, nn, k, matmul, graphMatmul);
                }
            }
        }

        // Products with an output size that is not a multiple of 16 bytes' worth of elements (an odd vocabulary): the
        // fast kernels need aligned rows, so these have rates of their own.
        foreach (var m in quick ? new long[] { 256 } : new long[] { 256, 2048, 16384, 65536 })
        {
            foreach (var nn in quick ? new long[] { 1024 } : new long[] { 64, 1024, 32768 })
            {
                foreach (var k in quick ? new long[] { 64 } : new long[] { 64, 256, 1024, 4096 })
                {
                    MeasureMatmul(m, nn + 1, k, unalignedMatmul, graphUnalignedMatmul);
                    // its gradients, each with its own kernel: the unaligned size is what the input gradient sums
                    // over and the weight gradient's rows (the op's sizes: rows × k summed over nn + 1; nn + 1 × k over rows)
                    MeasureMatmul(m, k, nn + 1, unalignedInputGradient, graphUnalignedInputGradient, MatmulLayout.InputGradient);
                    MeasureMatmul(nn + 1, k, m, unalignedWeightGradient, graphUnalignedWeightGradient, MatmulLayout.WeightGradient);
                }
            }
        }

        progress?.Invoke($"{matmul.Count} matmul shapes, {matmul.Max(p => p.FlopsPerSecond) / 1e9:0.0} GFLOP/s at best; {unalignedMatmul.Count} with an unaligned output size (and {unalignedInputGradient.Count} + {unalignedWeightGradient.Count} of their gradients)");

        var attention = new List<AttentionPoint>();
        var graphAttention = new List<AttentionPoint>();
        foreach (var bh in quick ? new long[] { 8 } : new long[] { 8, 64, 512 })
        {
            foreach (var t in quick ? new long[] { 64 } : new long[] { 32, 128, 512, 2048 })
            {
                foreach (var d in quick ? new long[] { 32 } : new long[] { 16, 32, 64, 128, 256, 512 })
                {
                    var flops = 4.0 * bh * t * t * d;
                    // The CPU's attention materialises the T × T scores; CUDA's fused kernels do not (time model v12:
                    // v11 and earlier skipped (512, 2048) there too, so a long context at a large batch·heads — GPT-2
                    // small's (384, 1024) — interpolated without its fastest corner and was predicted 1.5× too slow).
                    if (flops * 3.5 > maxFlops || (cuda ? bh * t * d : bh * t * t) > maxElements)
                    {
                        continue;
                    }

                    using var scope = NewDisposeScope();
                    // In the generated layers' layout (time model v9): q, k and v are views of one (B, T, 3, H, hd)
                    // projection, transposed to (B, H, T, hd), and the output's gradient arrives as the transpose of a
                    // contiguous (B, T, H, hd) tensor (the heads' merge, a copy the step listing counts apart, undone).
                    // v8 and earlier timed contiguous (1, B·H, T, hd) tensors, a layout no generated model hands the kernel.
                    var heads = Math.Min(bh, AttentionHeads);
                    var batch = bh / heads;
                    var qkv = randn(new[] { batch, t, 3, heads, d }, dtype: dtype, device: device).requires_grad_();
                    // The views are taken inside each timed call, as the layers take them every step: views made once
                    // outside would give the backward nodes of the stream they were made on, which a graph's capture refuses.
                    static Tensor Attend((Tensor Q, Tensor K, Tensor V) h) => nn.functional.scaled_dot_product_attention(h.Q, h.K, h.V, is_casual: true);
                    (Tensor Q, Tensor K, Tensor V) Views()
                    {
                        var parts = qkv.unbind(2);
                        return (parts[0].transpose(1, 2), parts[1].transpose(1, 2), parts[2].transpose(1, 2));
                    }

                    var grad = randn(new[] { batch, t, heads, d }, dtype: dtype, device: device).transpose(1, 2);
                    // Backward to q, k and v themselves (time model v10): the attention kernel's backward alone. Through
                    // qkv.backward the time also held the stack of the three gradients into the projection's (a copy the
                    // step listing counts apart) and the leaf's gradient accumulation (no generated layer has one): the
                    // traces of session 15 measured attention at 0.66 of v9's prediction.
                    void Backward((Tensor Q, Tensor K, Tensor V) h)
                    {
                        var o = Attend(h);
                        torch.autograd.grad(new[] { o }, new[] { h.Q, h.K, h.V }, new[] { grad });
                    }

                    // Several calls per timed run, as for matmuls: a small shape's time is its launch, not the synchronisation's.
                    var repeats = (int)Math.Clamp(2e9 / (3.5 * flops) / (cuda ? 0.01 : 1), 1, 20);
                    var forward = Median(() =>
                    {
                        using var noGrad = no_grad();
                        for (var i = 0; i < repeats; i++)
                        {
                            using var inner = NewDisposeScope();
                            Attend(Views());
                        }
                    }, device) / repeats;
                    var both = Median(() =>
                    {
                        for (var i = 0; i < repeats; i++)
                        {
                            using var inner = NewDisposeScope();
                            Backward(Views());
                        }
                    }, device) / repeats;
                    var backward = Math.Max(both - forward, forward * 0.5);
                    attention.Add(new AttentionPoint(bh, t, d, flops / forward, 2.5 * flops / backward));
                    if (graphs)
                    {
                        // As many calls in one graph as in an eager run (time model v12; v11 and earlier captured one call,
                        // so a short kernel's time also held a graph launch, which a step's graph of hundreds of kernels
                        // does not pay per kernel: short contexts were predicted up to 2× too slow).
                        var graphForward = GraphSeconds(() =>
                        {
                            using var noGrad = no_grad();
                            for (var i = 0; i < repeats; i++)
                            {
                                using var inner = NewDisposeScope();
                                Attend(Views());
                            }
                        }, device) / repeats;
                        var graphBoth = GraphSeconds(() =>
                        {
                            for (var i = 0; i < repeats; i++)
                            {
                                using var inner = NewDisposeScope();
                                Backward(Views());
                            }
                        }, device) / repeats;
                        graphAttention.Add(new AttentionPoint(bh, t, d, flops / graphForward, 2.5 * flops / Math.Max(graphBoth - graphForward, graphForward * 0.5)));
                    }
                }
            }
        }

        progress?.Invoke($"{attention.Count} attention shapes" + (graphs ? $"; {graphMatmul.Count} matmul and {graphAttention.Count} attention shapes replayed from graphs" : "; no graph replay (CPU, or no native library)"));
        return new DeviceProfile(Devices.Describe(device), cuda ? "cuda" : "cpu", elementBytes, bandwidth, launch, Synchronous: !cuda, matmul, attention)
        {
            NoGradLaunchSeconds = noGradLaunch,
            GraphKernelSeconds = graphKernel,
            GraphMatmul = graphMatmul,
            UnalignedMatmul = unalignedMatmul,
            GraphUnalignedMatmul = graphUnalignedMatmul,
            UnalignedInputGradient = unalignedInputGradient,
            UnalignedWeightGradient = unalignedWeightGradient,
            GraphUnalignedInputGradient = graphUnalignedInputGradient,
            GraphUnalignedWeightGradient = graphUnalignedWeightGradient,
            GraphAttention = graphAttention,
        };
    }

    /// <summary>
    /// The device time of <paramref name="work"/> replayed from a CUDA graph: captured after two warm-ups, then the
    /// median of five timed runs of ten replays each (per replay), the device synchronised at the ends of a run.
    /// The graph and its memory pool are released afterwards.
    /// </summary>
    private static double GraphSeconds(Action work, Device device)
    {
        using (var graph = CudaGraph.TryCreate(device, out var reason) ?? throw new InvalidOperationException("CUDA graph: " + reason))
        {
            graph.Warmup(work);
            graph.Warmup(work);
            graph.Capture(work);
            return Median(() =>
            {
                for (var i = 0; i < 10; i++)
                {
                    graph.Replay();
                }
            }, device) / 10;
        }
    }

    /// <summary>Whether SlmGen's layers take their fused kernels on <paramref name="device"/> now (what a profile measured there records).</summary>
    public static bool FusedKernelsOn(Device device) => device.type == DeviceType.CUDA && FusedKernels.Ready;

    /// <summary>
    /// The cost of a kernel inside SlmGen's own layers, and the fixed cost of a step around them: tiny models (every
    /// kernel launch-bound) at two depths, timed through a training step at batch 2 (autograd), through cached greedy
    /// decoding (no autograd) and, where CUDA graphs can be made, through the training step replayed from a graph. Per
    /// pair, the slope of time over the kernels the time model lists (<see cref="StepOps"/>) is the cost of a kernel —
    /// module calls, dispose scopes, argument handling and unlisted small kernels included — and the intercept is the
    /// fixed cost of a step (the optimizer's host work, the backward's start) or of a token (reading its id back,
    /// uploading the next); the median over the pairs.
    /// </summary>
    /// <remarks>
    /// Decoding is measured on <paramref name="decodePairs"/> (the same reference models at a context that holds
    /// <see cref="DecodePrompt"/> + <see cref="DecodeTokens"/>, the regime `slmgen time --decode` measures by default):
    /// the per-token times give a token's figures, the prefill times a prefill's own.
    /// </remarks>
    public static InModelCosts MeasureInModels(IReadOnlyList<(SlmModel Shallow, SlmModel Deep)> pairs, IReadOnlyList<(SlmModel Shallow, SlmModel Deep)> decodePairs, Device device, int elementBytes, bool quick = false, Action<string>? progress = null)
    {
        var train = new List<(double Slope, double Intercept)>();
        var decode = new List<(double Slope, double Intercept)>();
        var prefill = new List<(double Slope, double Intercept)>();
        var graph = new List<(double Slope, double Intercept)>();
        var graphs = device.type == DeviceType.CUDA && CudaNative.Available;
        var fused = FusedKernelsOn(device);
        foreach (var (shallow, deep) in decodePairs)
        {
            var (shallowToken, shallowFirst) = Decode(shallow, quick ? 8 : DecodePrompt, quick ? 8 : DecodeTokens);
            var (deepToken, deepFirst) = Decode(deep, quick ? 8 : DecodePrompt, quick ? 8 : DecodeTokens);
            decode.Add(Line(shallowToken, deepToken));
            prefill.Add(Line(shallowFirst, deepFirst));
            progress?.Invoke($"{deep.GetName()}: a kernel {decode[^1].Slope * 1e6:0.0} µs and {decode[^1].Intercept * 1e6:0} µs a token decoding after a prompt of {(quick ? 8 : DecodePrompt)}; "
                + $"{prefill[^1].Slope * 1e6:0.0} µs and {prefill[^1].Intercept * 1e6:0} µs its prefill");
        }

        // A decoded token and the prompt's prefill, each as (seconds, the kernels the time model lists for it).
        ((double Seconds, long Kernels) Token, (double Seconds, long Kernels) First) Decode(SlmModel model, int prompt, int fresh)
        {
            var timing = SlmGen.Generation.DecodeTimer.Time(model, device, prompt, fresh);
            return ((timing.MillisecondsPerToken / 1e3, StepOps.Decoding(model.Plan, 1, 1, prompt + (fresh / 2), elementBytes, fused).Sum(o => (long)o.Launches * o.Count)),
                    (timing.PrefillMilliseconds / 1e3, StepOps.Decoding(model.Plan, 1, prompt, 0, elementBytes, fused, model.Context).Sum(o => (long)o.Launches * o.Count)));
        }

        static (double Slope, double Intercept) Line((double Seconds, long Kernels) a, (double Seconds, long Kernels) b)
        {
            var slope = (b.Seconds - a.Seconds) / (b.Kernels - a.Kernels);
            return slope > 0 ? (slope, Math.Max(0, a.Seconds - (slope * a.Kernels))) : (b.Seconds / b.Kernels, 0); // a noisy pair: no fixed part
        }

        foreach (var (shallow, deep) in pairs)
        {
            (double Seconds, long Kernels) Step(SlmModel model, bool graphed) =>
                (StepTimer.Time(model, 2, device, bf16: true, warm: 5, steps: quick ? 3 : 20, runs: 3, graphed: graphed, warmSeconds: quick ? 0 : StepTimer.WarmUpSeconds).MillisecondsPerStep / 1e3,
                 StepOps.Training(model.Plan, 2, model.Context, elementBytes, model.Cost.Parameters, fused).Sum(o => (long)o.Launches * o.Count));
            train.Add(Line(Step(shallow, false), Step(deep, false)));
            if (graphs)
            {
                graph.Add(Line(Step(shallow, true), Step(deep, true)));
            }

            progress?.Invoke($"{deep.GetName()}: a kernel {train[^1].Slope * 1e6:0.0} µs and a step {train[^1].Intercept * 1e6:0} µs besides them in training"
                + (graphs ? $"; replayed from a graph {graph[^1].Slope * 1e6:0.00} µs and {graph[^1].Intercept * 1e6:0} µs a step" : string.Empty));
        }

        return new InModelCosts(MedianOf(train.Select(t => t.Slope)), MedianOf(train.Select(t => t.Intercept)), MedianOf(decode.Select(t => t.Slope)), MedianOf(decode.Select(t => t.Intercept)),
            MedianOf(graph.Select(t => t.Slope)), MedianOf(graph.Select(t => t.Intercept)))
        {
            PrefillKernel = MedianOf(prefill.Select(t => t.Slope)),
            Prefill = MedianOf(prefill.Select(t => t.Intercept)),
        };
    }

    /// <summary>
    /// The bandwidth memory-bound kernels reach inside SlmGen's layers: each of <paramref name="models"/> — mid-sized
    /// reference models whose steps hold many memory-bound kernels — is timed through a training step at
    /// <paramref name="batch"/> (eager on a CPU, time model v11; replayed from a CUDA graph, <paramref name="graphed"/>,
    /// v12), and the bandwidth at which the time model, with <paramref name="profile"/>'s matmul and attention rates and
    /// in-layer launch figures, predicts that time is found (<see cref="BandwidthFor"/>); the median over the models. A
    /// large copy into a fresh tensor (the profile's bandwidth until then) measures on a CPU the allocator's first touch
    /// of new pages, which a step's kernels mostly do not pay (1.7 to 7.8 GB/s on one machine from one calibration to
    /// the next; the CPU's eager steps were over-predicted by half), and on CUDA more than SlmGen's fused kernels reach.
    /// </summary>
    public static double MeasureBandwidthInModels(IReadOnlyList<SlmModel> models, Device device, DeviceProfile profile, int batch, bool quick = false, Action<string>? progress = null, bool graphed = false)
    {
        var fused = FusedKernelsOn(device);
        var found = new List<double>();
        foreach (var model in models)
        {
            var seconds = StepTimer.Time(model, batch, device, bf16: true, warm: quick ? 1 : 5, steps: quick ? 2 : graphed ? 20 : 5, runs: 3, graphed: graphed, warmSeconds: quick ? 0 : StepTimer.WarmUpSeconds).MillisecondsPerStep / 1e3;
            var ops = StepOps.Training(model.Plan, batch, model.Context, profile.ElementBytes, model.Cost.Parameters, fused);
            var bandwidth = BandwidthFor(ops, profile, seconds, graphed);
            found.Add(bandwidth);
            progress?.Invoke($"{model.GetName()}: a{(graphed ? " graphed" : string.Empty)} step {seconds * 1e3:0.00} ms at batch {batch}, predicted at {bandwidth / 1e9:0.0} GB/s for its memory-bound kernels");
        }

        return MedianOf(found);
    }

    /// <summary>The least bandwidth <see cref="BandwidthFor"/> returns (0.1 GB/s): a step slower than the model predicts at it.</summary>
    public const double LowestBandwidth = 1e8;

    /// <summary>The largest bandwidth <see cref="BandwidthFor"/> returns (100 TB/s): a step faster than the model predicts at any bandwidth.</summary>
    public const double HighestBandwidth = 1e14;

    /// <summary>
    /// The bandwidth at which <see cref="TimeModel"/> predicts <paramref name="ops"/> — eager, or replayed from a CUDA
    /// graph (<paramref name="graphed"/>) — to take <paramref name="seconds"/> on <paramref name="profile"/> otherwise:
    /// bisection of its logarithm (the prediction falls as the bandwidth rises), clamped to 0.1 GB/s – 100 TB/s where no
    /// bandwidth in between predicts that time.
    /// </summary>
    public static double BandwidthFor(IReadOnlyList<StepOp> ops, DeviceProfile profile, double seconds, bool graphed = false)
    {
        const double Lowest = LowestBandwidth, Highest = HighestBandwidth;
        double Predicted(double bandwidth) => TimeModel.Predict(ops, profile with { BandwidthBytesPerSecond = bandwidth }, graphed).Seconds;
        if (Predicted(Highest) >= seconds)
        {
            return Highest;
        }

        if (Predicted(Lowest) <= seconds)
        {
            return Lowest;
        }

        double low = Math.Log(Lowest), high = Math.Log(Highest);
        while (high - low > 1e-6)
        {
            var middle = (low + high) / 2;
            if (Predicted(Math.Exp(middle)) > seconds)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return Math.Exp((low + high) / 2);
    }

    /// <summary>The middle value (the upper of the two middle ones for an even count); 0 for none.</summary>
    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    /// <summary>The median of five timed runs of <paramref name="work"/> after two warm-up runs, the device synchronised at both ends of each.</summary>
    private static double Median(Action work, Device device)
    {
        work();
        work();
        var times = new double[5];
        for (var i = 0; i < times.Length; i++)
        {
            Synchronize(device);
            var clock = Stopwatch.StartNew();
            work();
            Synchronize(device);
            times[i] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times[2];
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}

/// <summary>What <see cref="DeviceCalibration.MeasureInModels"/> measured inside SlmGen's layers (seconds).</summary>
/// <param name="Kernel">A kernel of a training step, through autograd.</param>
/// <param name="Step">A training step's fixed host time besides its kernels.</param>
/// <param name="NoGradKernel">A kernel of a decoding step, without autograd.</param>
/// <param name="Token">A decoded token's fixed time besides its kernels (drawing, reading back, uploading).</param>
/// <param name="GraphKernel">A kernel of a training step replayed from a CUDA graph (0: not measured).</param>
/// <param name="GraphStep">A graphed step's fixed time besides its kernels (0: not measured).</param>
public sealed record InModelCosts(double Kernel, double Step, double NoGradKernel, double Token, double GraphKernel, double GraphStep)
{
    /// <summary>A kernel of a prefill (the prompt's forward, no autograd).</summary>
    public double PrefillKernel { get; init; }

    /// <summary>A prefill's fixed time besides its kernels (with <see cref="PrefillKernel"/>).</summary>
    public double Prefill { get; init; }
}
