using System;
using System.IO;
using System.Linq;
using SlmGen.Timing;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>The device profile on the real CPU (a quick calibration), its file, and the time model's rules.</summary>
[HoldTensors]
public class TimingTests
{
    [Fact]
    public void A_quick_calibration_measures_this_cpu_and_its_file_reads_back()
    {
        var profile = DeviceCalibration.Measure(CPU, quick: true);
        Assert.Equal("cpu", profile.Backend);
        Assert.True(profile.Synchronous);
        Assert.Equal(4, profile.ElementBytes);
        Assert.True(profile.BandwidthBytesPerSecond is > 1e8 and < 1e12, $"{profile.BandwidthBytesPerSecond} B/s");
        Assert.True(profile.LaunchSeconds is > 1e-8 and < 1e-2, $"{profile.LaunchSeconds} s");
        Assert.NotEmpty(profile.Matmul);
        Assert.All(profile.Matmul, p => Assert.True(p.FlopsPerSecond is > 1e6 and < 1e13, $"{p}"));
        Assert.NotEmpty(profile.Attention);
        Assert.True(profile.NoGradLaunchSeconds is > 1e-8 and < 1e-2, $"{profile.NoGradLaunchSeconds} s without autograd");
        Assert.Equal(0, profile.GraphKernelSeconds); // no CUDA graphs on the CPU
        Assert.Empty(profile.GraphMatmul);
        Assert.NotEmpty(profile.UnalignedMatmul);
        Assert.All(profile.UnalignedMatmul, p => Assert.True(p.N % 4 != 0 && p.FlopsPerSecond > 0, $"{p}"));
        // The two gradients of an unaligned layer, in the op's sizes: the input gradient sums over the unaligned size,
        // the weight gradient's rows are it.
        Assert.NotEmpty(profile.UnalignedInputGradient);
        Assert.All(profile.UnalignedInputGradient, p => Assert.True(p.K % 4 != 0 && p.N % 4 == 0 && p.FlopsPerSecond > 0, $"{p}"));
        Assert.NotEmpty(profile.UnalignedWeightGradient);
        Assert.All(profile.UnalignedWeightGradient, p => Assert.True(p.M % 4 != 0 && p.N % 4 == 0 && p.FlopsPerSecond > 0, $"{p}"));

        var path = Path.Combine(Directory.CreateTempSubdirectory("slmgen-profile-").FullName, "cpu.json");
        ProfileFile.Write(profile, path);
        var read = ProfileFile.Read(path);
        Assert.Equal(profile.Matmul.ToList(), read.Matmul.ToList());
        Assert.Equal(profile.BandwidthBytesPerSecond, read.BandwidthBytesPerSecond);
        Assert.Equal(profile.NoGradLaunchSeconds, read.NoGradLaunchSeconds);
        Assert.Equal(profile.UnalignedMatmul.ToList(), read.UnalignedMatmul.ToList());
        Assert.Equal(profile.UnalignedInputGradient.ToList(), read.UnalignedInputGradient.ToList());
        Assert.Equal(profile.UnalignedWeightGradient.ToList(), read.UnalignedWeightGradient.ToList());
        // A CPU never takes the fused kernels; a profile measured with them says so and reads back so.
        Assert.False(profile.FusedKernels);
        Assert.False(DeviceCalibration.FusedKernelsOn(CPU));
        ProfileFile.Write(profile with { FusedKernels = true }, path);
        Assert.Contains("\"fusedKernels\": true", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.True(ProfileFile.Read(path).FusedKernels);

        File.WriteAllText(path, "{ \"device\": \"x\" }");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => ProfileFile.Read(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(path, "not json");
        Assert.Throws<InvalidDataException>(() => ProfileFile.Read(path));
    }

    [Theory]
    [InlineData(3.7e9, true, false)]
    [InlineData(2.1e11, true, false)]
    [InlineData(5e8, false, false)]
    [InlineData(2.6e12, false, true)]
    public void The_in_layer_bandwidth_is_the_one_that_predicts_the_measured_step(double bandwidth, bool synchronous, bool graphed)
    {
        // A real plan's kernels (baby GPT's at batch 8) on a profile whose other figures are fixed: the bandwidth
        // found for the time predicted at a known bandwidth is that bandwidth; a time no bandwidth reaches is clamped.
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.BabyGpt").Create();
        var ops = StepOps.Training(model.Plan, 8, model.Context, 4, model.Cost.Parameters);
        var profile = new DeviceProfile("d", "cpu", 4, 1e9, 2e-5, synchronous, new[] { new MatmulPoint(64, 64, 64, 5e10) }, new[] { new AttentionPoint(8, 64, 16, 2e10, 1e10) }) { GraphKernelSeconds = 2e-6 };
        var seconds = TimeModel.Predict(ops, profile with { BandwidthBytesPerSecond = bandwidth }, graphed).Seconds;
        Assert.Equal(1.0, DeviceCalibration.BandwidthFor(ops, profile, seconds, graphed) / bandwidth, 4);
        Assert.Equal(1e14, DeviceCalibration.BandwidthFor(ops, profile, seconds * 1e-3, graphed));
        Assert.Equal(1e8, DeviceCalibration.BandwidthFor(ops, profile, seconds * 1e3, graphed));
        // A graphed step's time is not a CPU's eager one (which waits for each launch): the bandwidth found for it
        // differs. On CUDA an eager step whose device work hides its launches takes its graphed time (time model v13:
        // steps overlap), never less.
        if (synchronous)
        {
            Assert.NotEqual(DeviceCalibration.BandwidthFor(ops, profile, seconds, graphed), DeviceCalibration.BandwidthFor(ops, profile, seconds, !graphed));
        }
        else
        {
            var at = profile with { BandwidthBytesPerSecond = bandwidth };
            Assert.True(TimeModel.Predict(ops, at, graphed: false).Seconds >= TimeModel.Predict(ops, at, graphed: true).Seconds * (1 - 1e-12));
        }
    }

    [Fact]
    public void Kernels_take_the_larger_of_compute_and_memory_and_launches_add_or_overlap()
    {
        var device = new DeviceProfile("d", "cpu", 4, 1e9, 1e-3, Synchronous: true, new[] { new MatmulPoint(64, 64, 64, 1e9) }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) });
        var matmul = new StepOp("c", "mm", OpPhase.Forward, OpKind.Matmul, 64, 64, 64, 2e9, 1e6, 1);   // 2 s of compute, 1 ms of memory
        var copy = new StepOp("c", "copy", OpPhase.Backward, OpKind.Memory, 1, 0, 0, 0, 5e9, 2);      // 5 s of memory
        var sync = TimeModel.Predict(new[] { matmul, copy }, device);
        Assert.Equal(2 + 5 + 2e-3, sync.Seconds, 9); // the matmul's launch is inside its measured rate; the copy's adds
        Assert.Equal(TimeBound.Memory, sync.Dominant.Bound);
        var overlapped = TimeModel.Predict(new[] { matmul, copy }, device with { Synchronous = false });
        Assert.Equal(7, overlapped.Seconds, 9); // the device busy: every launch hidden, the first one's behind the step before (v13)
        var launchBound = TimeModel.Predict(new[] { matmul with { Flops = 2e3, Bytes = 0, Count = 10 } }, device with { Synchronous = false });
        Assert.Equal(10e-3, launchBound.Seconds, 12); // ten launches; the last kernel's work runs while the next step's first launches
        Assert.Equal(TimeBound.Launch, launchBound.Dominant.Bound);
        Assert.Equal(2e-5, TimeModel.Predict(new[] { matmul with { Flops = 2e3, Bytes = 0, Count = 10 } }, device with { Synchronous = false }, graphed: true).Seconds, 12);
    }

    [Fact]
    public void Eager_cuda_kernels_queue_behind_long_ones_and_the_host_bounds_a_run_of_short_ones()
    {
        // Launch 10 µs; a 1 ms product, then 50 copies of 1 µs each, then another product: the host issues the copies
        // while the device runs the first product, so they cost their work only; a run of 200 copies outlasts that backlog.
        var device = new DeviceProfile("d", "cuda", 2, 1e12, 10e-6, Synchronous: false, new[] { new MatmulPoint(64, 64, 64, 2e9) }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) });
        var product = new StepOp("mlp", "mm", OpPhase.Forward, OpKind.Matmul, 64, 64, 64, 2e6, 0, 1);  // 1 ms
        var copies = new StepOp("norm", "copy", OpPhase.Forward, OpKind.Memory, 1, 0, 0, 0, 1e6, 1) { Count = 50 }; // 1 µs each
        var hidden = TimeModel.Predict(new[] { product, copies, product }, device);
        Assert.Equal(1e-3 + (50 * 1e-6) + 1e-3, hidden.Seconds, 12); // the first launch too: behind the step before (v13)
        Assert.Equal(50 * 1e-6, hidden.Components.Single(c => c.Component == "norm").Seconds, 12);

        // 200 copies: the host issues the last at 10 µs × 201, after the device has drained the backlog; step after
        // step the host's 201 launches are the period (the last copy's work runs while the next step's first launches).
        var exposed = TimeModel.Predict(new[] { product, copies with { Count = 200 } }, device);
        Assert.Equal(201 * 10e-6, exposed.Seconds, 12);
        Assert.Equal(TimeBound.Launch, exposed.Components.Single(c => c.Component == "norm").Bound);

        // Per kernel the larger of launch and work would have charged 200 launches after the product; the queue never
        // predicts more than that, nor less than the device's work or the host's launches.
        var perKernel = 10e-6 + 1e-3 + (200 * 10e-6);
        Assert.True(exposed.Seconds < perKernel && exposed.Seconds >= Math.Max(1e-3 + 200e-6, 201 * 10e-6) * (1 - 1e-12));
    }

    [Fact]
    public void Graphed_kernels_run_at_the_rates_replayed_from_graphs_and_memory_kernels_add_the_replayed_floor()
    {
        var eagerRate = new MatmulPoint(64, 64, 64, 1e9);
        var device = new DeviceProfile("d", "cuda", 2, 1e12, 20e-6, Synchronous: false, new[] { eagerRate }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) });
        var matmul = new StepOp("c", "mm", OpPhase.Forward, OpKind.Matmul, 64, 64, 64, 2e6, 0, 1); // 2 ms at the eager rate
        var tiny = new StepOp("c", "add", OpPhase.Backward, OpKind.Memory, 1, 0, 0, 0, 1e3, 3);   // 1 ns of memory, 3 kernels

        // A profile without graph measurements: graphed kernels at the eager rates, no floor (as before).
        Assert.Equal(2e-3 + 1e-9, TimeModel.Predict(new[] { matmul, tiny }, device, graphed: true).Seconds, 12);

        var graphs = device with { GraphMatmul = new[] { eagerRate with { FlopsPerSecond = 4e9 } }, GraphKernelSeconds = 2e-6 };
        var graphed = TimeModel.Predict(new[] { matmul, tiny }, graphs, graphed: true);
        Assert.Equal(0.5e-3 + (3 * 2e-6) + 1e-9, graphed.Seconds, 12); // the replayed rate; three kernels' floor plus their bytes
        // Eager: eager rates and launches; the tiny kernels queue behind the matmul, and the matmul's launch behind the
        // step before (v13): the device's work alone.
        Assert.Equal(2e-3 + (3 * 2e-6) + 1e-9, TimeModel.Predict(new[] { matmul, tiny }, graphs).Seconds, 12);

        // The fixed time of a step: eager and graphed apart. A graph's replay adds it; an eager step's host does it
        // while the device runs the step before, so it shows only where the host's time (fixed + launches) exceeds the
        // device's.
        var fixedCosts = graphs with { StepSeconds = 1e-3, GraphStepSeconds = 10e-6 };
        Assert.Equal(2e-3 + (3 * 2e-6) + 1e-9, TimeModel.Predict(new[] { matmul, tiny }, fixedCosts).Seconds, 12);
        Assert.Equal(0.5e-3 + (3 * 2e-6) + 1e-9 + 10e-6, TimeModel.Predict(new[] { matmul, tiny }, fixedCosts, graphed: true).Seconds, 12);
        var hostBound = TimeModel.Predict(new[] { matmul, tiny }, fixedCosts with { StepSeconds = 3e-3 });
        Assert.Equal(3e-3 + (4 * 20e-6), hostBound.Seconds, 12); // the host's fixed time and four launches a step
        Assert.True(hostBound.Seconds - hostBound.ForwardSeconds - hostBound.BackwardSeconds - hostBound.OptimizerSeconds > 1e-3); // the fixed time's exposed part
        Assert.Equal(2e-6, TimeModel.Predict(new[] { matmul with { Flops = 2 } }, graphs, graphed: true).Seconds, 12); // a matmul no faster than the floor
    }

    [Fact]
    public void Decoding_launches_without_autograd_where_the_profile_measured_it()
    {
        var device = new DeviceProfile("d", "cuda", 2, 1e12, 24e-6, Synchronous: false, new[] { new MatmulPoint(64, 64, 64, 1e12) }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) });
        var add = new StepOp("c", "add", OpPhase.Forward, OpKind.Memory, 1, 0, 0, 0, 1e3, 4);
        const double last = 1e3 / 1e12 / 4; // the last kernel's work after its launch
        Assert.Equal((4 * 24e-6) + last, TimeModel.Predict(new[] { add }, device, training: false).Seconds, 12); // not measured: the autograd launch
        Assert.Equal((4 * 24e-6) + last + 50e-6, TimeModel.Predict(new[] { add }, device with { TokenSeconds = 50e-6 }, training: false).Seconds, 12); // a token's fixed time
        var measured = device with { NoGradLaunchSeconds = 9e-6 };
        Assert.Equal((4 * 9e-6) + last, TimeModel.Predict(new[] { add }, measured, training: false).Seconds, 12);
        Assert.Equal(4 * 24e-6, TimeModel.Predict(new[] { add }, measured, training: true).Seconds, 12); // training steps overlap (v13): the host's launches

        // A prefill measured apart (time model v6): its own kernel and fixed time; a token keeps the token's; a profile
        // without them gives a prefill the token's figures.
        var apart = measured with { TokenSeconds = 50e-6, PrefillLaunchSeconds = 14e-6, PrefillSeconds = 80e-6 };
        Assert.Equal((4 * 14e-6) + last + 80e-6, TimeModel.Predict(new[] { add }, apart, training: false, prefill: true).Seconds, 12);
        Assert.Equal((4 * 9e-6) + last + 50e-6, TimeModel.Predict(new[] { add }, apart, training: false).Seconds, 12);
        Assert.Equal((4 * 9e-6) + last + 50e-6, TimeModel.Predict(new[] { add }, apart with { PrefillLaunchSeconds = 0 }, training: false, prefill: true).Seconds, 12);
        Assert.Equal(4 * 24e-6, TimeModel.Predict(new[] { add }, apart, training: true, prefill: true).Seconds, 12); // training ignores it

        // Through a model: the prefill (empty cache) takes the prefill's figures, a token after a cache the token's.
        using var model = new SlmGen.Samples.BabyGpt();
        var prefillTime = SlmGen.Timing.TimePrediction.Decoding(model, apart, 1, 16, 0);
        var tokenTime = SlmGen.Timing.TimePrediction.Decoding(model, apart, 1, 1, 16);
        Assert.Equal(TimeModel.Predict(StepOps.Decoding(model.Plan, 1, 16, 0, 2, cacheCapacity: model.Context), apart, training: false, prefill: true).Seconds, prefillTime.Seconds, 12);
        Assert.Equal(TimeModel.Predict(StepOps.Decoding(model.Plan, 1, 1, 16, 2), apart, training: false, prefill: false).Seconds, tokenTime.Seconds, 12);
        Assert.NotEqual(TimeModel.Predict(StepOps.Decoding(model.Plan, 1, 16, 0, 2, cacheCapacity: model.Context), apart, training: false, prefill: false).Seconds, prefillTime.Seconds, 12);
    }

    [Fact]
    public void A_prefill_lists_the_fresh_caches_zero_filled_buffers_and_a_token_does_not()
    {
        // KvCache.Append gives each attention application, on the prefill's pass, keys and values for the whole context.
        using var model = new SlmGen.Samples.BabyGpt();
        var ops = StepOps.Decoding(model.Plan, 2, 16, 0, 2, cacheCapacity: model.Context);
        var allocated = ops.Where(o => o.Name == "KV cache allocated (zero-filled)").ToList();
        var attention = ops.Where(o => o.Name == "KV cache append and read").Sum(o => o.Count);
        Assert.Equal(6, attention); // baby GPT: six blocks
        Assert.Equal(attention, allocated.Sum(o => o.Count));
        Assert.All(allocated, o => Assert.Equal(2, o.Launches));
        Assert.All(allocated, o => Assert.Equal(2.0 * model.Context * 2 * 384 * 2, o.Bytes)); // batch 2, k and v, width 384, bf16
        var without = StepOps.Decoding(model.Plan, 2, 16, 0, 2);
        Assert.Equal(ops.Sum(o => (long)o.Launches * o.Count) - (2 * attention), without.Sum(o => (long)o.Launches * o.Count));
        Assert.DoesNotContain(StepOps.Decoding(model.Plan, 2, 1, 16, 2, cacheCapacity: model.Context), o => o.Name == "KV cache allocated (zero-filled)");
    }

    [Fact]
    public void A_layer_with_unaligned_widths_runs_at_the_unaligned_rates_and_attention_below_the_grid_keeps_its_time()
    {
        var device = new DeviceProfile("d", "cuda", 2, 1e12, 0, Synchronous: false, new[] { new MatmulPoint(64, 64, 64, 8e12) }, new[] { new AttentionPoint(8, 64, 16, 1e12, 1e12) })
        {
            UnalignedMatmul = new[] { new MatmulPoint(64, 65, 64, 2e12) },
        };
        Assert.Equal(8, device.Alignment); // bf16: 16 bytes are 8 elements

        // An odd vocabulary (the head's output 50,257 wide) is unaligned in all three of its products; a layer of widths
        // 64 and 1,024 is not.
        var aligned = new StepOp("c", "mm", OpPhase.Forward, OpKind.Matmul, 64, 64, 64, 2e12, 0, 1) { FeatureDivisor = 64 };
        var unaligned = aligned with { FeatureDivisor = 1 };
        Assert.Equal(0.25, TimeModel.Predict(new[] { aligned }, device).Seconds, 12);
        Assert.Equal(1.0, TimeModel.Predict(new[] { unaligned }, device).Seconds, 12);
        Assert.Equal(0.25, TimeModel.Predict(new[] { unaligned }, device with { UnalignedMatmul = Array.Empty<MatmulPoint>() }).Seconds, 12); // not measured: the aligned rates

        // Its gradients at their own layouts' rates where measured, else at the forward product's (older profiles).
        var inputGradient = unaligned with { Phase = OpPhase.Backward, Layout = MatmulLayout.InputGradient };
        var weightGradient = unaligned with { Phase = OpPhase.Backward, Layout = MatmulLayout.WeightGradient };
        Assert.Equal(1.0, TimeModel.Predict(new[] { inputGradient }, device).Seconds, 12);
        Assert.Equal(1.0, TimeModel.Predict(new[] { weightGradient }, device).Seconds, 12);
        var measured = device with { UnalignedInputGradient = new[] { new MatmulPoint(64, 64, 65, 4e12) }, UnalignedWeightGradient = new[] { new MatmulPoint(65, 64, 64, 5e12) } };
        Assert.Equal(0.5, TimeModel.Predict(new[] { inputGradient }, measured).Seconds, 12);
        Assert.Equal(0.4, TimeModel.Predict(new[] { weightGradient }, measured).Seconds, 12);
        Assert.Equal(1.0, TimeModel.Predict(new[] { unaligned }, measured).Seconds, 12); // the forward product keeps its own
        Assert.Equal(0.25, TimeModel.Predict(new[] { inputGradient with { FeatureDivisor = 64 } }, measured).Seconds, 12); // aligned: the aligned rates

        // Fused attention pads a small head to its tile: below the smallest head size measured (16), a head of 8 takes
        // the time of a head of 16 (half the counted FLOPs at half the rate).
        var attention = new StepOp("c", "sdpa", OpPhase.Forward, OpKind.Attention, 8, 64, 16, 1e12, 0, 1);
        Assert.Equal(1.0, TimeModel.Predict(new[] { attention }, device).Seconds, 12);
        Assert.Equal(1.0, TimeModel.Predict(new[] { attention with { K = 8, Flops = 0.5e12 } }, device).Seconds, 12);
    }

    [Fact]
    public void StepOps_marks_a_head_with_an_odd_vocabulary_unaligned()
    {
        var plan = new PlanStep[]
        {
            new HeadStep("lm_head", HeadKind.Full, 64, 0, 50257, false, true, true, 0),
        };
        var ops = StepOps.Training(plan, 2, 8, 2, 64 * 50257);
        var products = ops.Where(o => o.Kind == OpKind.Matmul).ToList();
        Assert.Equal(3, products.Count); // forward, input gradient, weight gradient
        Assert.All(products, o => Assert.Equal(1, o.FeatureDivisor));
        var even = StepOps.Training(new PlanStep[] { new HeadStep("lm_head", HeadKind.Full, 64, 0, 50304, false, true, true, 0) }, 2, 8, 2, 64 * 50304);
        Assert.All(even.Where(o => o.Kind == OpKind.Matmul), o => Assert.Equal(64, o.FeatureDivisor));
    }

    [Fact]
    public void Rates_between_measured_shapes_are_interpolated_on_the_grid_in_log_space_and_a_missing_corner_is_left_out()
    {
        // Attention measured at batch·heads 8 and 64, lengths 128 and 512, head sizes 32 and 64, every rate a product of
        // one factor per axis, so the log-linear interpolation of v9 recovers it exactly between the grid values.
        static double Rate(long bh, long t, long h) => 1e9 * Math.Pow(bh, 0.5) * Math.Pow(t, 1.2) * Math.Pow(h, 0.8);
        var points = (from bh in new long[] { 8, 64 } from t in new long[] { 128, 512 } from h in new long[] { 32, 64 }
                      select new AttentionPoint(bh, t, h, Rate(bh, t, h), 2 * Rate(bh, t, h))).ToList();
        var profile = new DeviceProfile("d", "cuda", 2, 1e12, 24e-6, Synchronous: false, new[] { new MatmulPoint(64, 64, 64, 1e12) }, points);
        Assert.Equal(Rate(16, 256, 48), profile.AttentionRate(16, 256, 48, backward: false), 1e-9 * Rate(16, 256, 48));
        Assert.Equal(2 * Rate(16, 256, 48), profile.AttentionRate(16, 256, 48, backward: true), 2e-9 * Rate(16, 256, 48));
        // A head size of 64 between the lengths measured takes head size 64's rates only (v8's four nearest shapes
        // by summed distance mixed in head size 32's, half as fast, among equally near ties).
        Assert.Equal(Rate(64, 256, 64), profile.AttentionRate(64, 256, 64, backward: false), 1e-9 * Rate(64, 256, 64));
        // Beyond the grid: the edge's rate (a longer context than measured runs at the longest's rate).
        Assert.Equal(Rate(64, 512, 64), profile.AttentionRate(64, 4096, 64, backward: false), 1e-9 * Rate(64, 512, 64));
        // A corner the calibration skipped is left out; the others' weights are renormalised.
        var holed = profile with { Attention = points.Where(p => !(p.BatchHeads == 64 && p.T == 512 && p.HeadSize == 64)).ToList() };
        var rate = holed.AttentionRate(16, 256, 48, backward: false);
        Assert.True(rate > Rate(8, 128, 32) && rate < Rate(64, 512, 64), $"{rate}");
        Assert.Equal(Rate(8, 128, 32), holed.AttentionRate(8, 128, 32, backward: false));
    }

    [Fact]
    public void A_profile_with_graph_measurements_reads_back_and_one_with_a_negative_time_is_refused()
    {
        var profile = new DeviceProfile("d", "cuda", 2, 1e12, 24e-6, Synchronous: false, new[] { new MatmulPoint(64, 64, 64, 1e12) }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) })
        {
            NoGradLaunchSeconds = 9e-6,
            PrefillLaunchSeconds = 14e-6,
            PrefillSeconds = 80e-6,
            GraphKernelSeconds = 2e-6,
            GraphMatmul = new[] { new MatmulPoint(64, 64, 64, 3e12) },
            GraphAttention = new[] { new AttentionPoint(8, 64, 16, 2e9, 2e9) },
            UnalignedMatmul = new[] { new MatmulPoint(64, 65, 64, 5e11) },
            GraphUnalignedMatmul = new[] { new MatmulPoint(64, 65, 64, 6e11) },
        };
        var path = Path.Combine(Directory.CreateTempSubdirectory("slmgen-profile-").FullName, "gpu.json");
        ProfileFile.Write(profile, path);
        var read = ProfileFile.Read(path);
        Assert.Equal(9e-6, read.NoGradLaunchSeconds);
        Assert.Equal((14e-6, 80e-6), (read.PrefillLaunchSeconds, read.PrefillSeconds));
        Assert.Equal(2e-6, read.GraphKernelSeconds);
        Assert.Equal(profile.GraphMatmul.ToList(), read.GraphMatmul.ToList());
        Assert.Equal(profile.GraphAttention.ToList(), read.GraphAttention.ToList());
        Assert.Equal(3e12, read.MatmulRate(64, 64, 64, graphed: true));
        Assert.Equal(1e12, read.MatmulRate(64, 64, 64, graphed: false));
        Assert.Equal(6e11, read.MatmulRate(64, 65, 64, graphed: true, aligned: false));
        Assert.Equal(5e11, read.MatmulRate(64, 65, 64, graphed: false, aligned: false));

        File.WriteAllText(path, File.ReadAllText(path).Replace("\"graphKernelSeconds\": 2E-06", "\"graphKernelSeconds\": -1", StringComparison.Ordinal));
        Assert.Contains("negative", Assert.Throws<InvalidDataException>(() => ProfileFile.Read(path)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("LeverQat")]
    [InlineData("LeverQatStretched")]
    public void A_qat_step_lists_a_fake_quantisation_of_every_quantised_weight_and_the_recipe_adds_ema_and_z_loss(string name)
    {
        // Every weight the runtime fake-quantises in a forward pass (each QuantLinear's, the tied head's, the embedding
        // table when the model quantises it) is one fake-quantisation entry of the time model's listing, of its size.
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples." + name).Create();
        var embedding = model.Plan.OfType<EmbeddingStep>().Single();
        var head = model.Plan.OfType<HeadStep>().Single();
        var quantised = model.modules().OfType<SlmGen.Layers.QuantLinear>().Sum(q => q.Weight.numel())
            + (model.modules().OfType<SlmGen.Layers.TiedHead>().Any() && head.Bits > 0 ? head.Vocab * head.InWidth : 0)
            + (model.EmbeddingWeightBits > 0 ? embedding.Vocab * embedding.Dim : 0);
        Assert.True(model.modules().OfType<SlmGen.Layers.QuantLinear>().Any(), $"{name} has no quantised linear layer");
        foreach (var fused in new[] { false, true })
        {
            var ops = StepOps.Training(model.Plan, 2, model.Context, 2, model.Cost.Parameters, fused);
            var fakeQuant = ops.Where(o => o.Name.EndsWith("fake quantisation", StringComparison.Ordinal)).ToList();
            Assert.Equal(quantised, fakeQuant.Sum(o => o.M * o.Count));
            Assert.All(fakeQuant, o => Assert.Equal(OpPhase.Forward, o.Phase)); // the straight-through backward adds no kernel
            Assert.Equal(fakeQuant.Sum(o => o.M * o.Count), StepOps.Decoding(model.Plan, 1, 1, 4, 2, fused).Where(o => o.Name.EndsWith("fake quantisation", StringComparison.Ordinal)).Sum(o => o.M * o.Count));

            // The recipe: the EMA is one more pass over every parameter after the optimizer; the z-loss costs nothing in the
            // fused cross-entropy and its own kernels (forward and backward) without it; neither changes a FLOP.
            var ema = StepOps.Training(model.Plan, 2, model.Context, 2, model.Cost.Parameters, fused, new StepRecipe(Ema: true, ZLoss: false));
            var added = ema.Except(ops).ToList();
            Assert.Equal(model.Cost.Parameters, Assert.Single(added).M);
            Assert.Equal(OpPhase.Optimizer, added[0].Phase);
            var zLoss = StepOps.Training(model.Plan, 2, model.Context, 2, model.Cost.Parameters, fused, new StepRecipe(Ema: false, ZLoss: true));
            Assert.Equal(fused ? 0 : 2, zLoss.Count - ops.Count);
            Assert.Equal(ops.Sum(o => o.Flops * o.Count), zLoss.Sum(o => o.Flops * o.Count));
        }

        // The prediction grows with each, and the CPU profile (unfused) prices the z-loss.
        var cpu = ProfileFile.Read(Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "profiles", "cpu-2core.json"));
        var plain = TimePrediction.Training(model, cpu, 2).Seconds;
        Assert.True(TimePrediction.Training(model, cpu, 2, recipe: StepRecipe.Of(0.999, 0)).Seconds > plain);
        Assert.True(TimePrediction.Training(model, cpu, 2, recipe: StepRecipe.Of(0, 1e-4)).Seconds > plain);
        Assert.Equal(plain, TimePrediction.Training(model, cpu, 2, recipe: StepRecipe.Of(0, 0)).Seconds, 12);
    }
}
