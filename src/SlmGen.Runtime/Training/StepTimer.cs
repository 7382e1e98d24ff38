using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>Measured time of a model's training step, and of its LM head within it.</summary>
/// <param name="MillisecondsPerStep">Median over the timed runs of one step: forward, loss, backward, AdamW, zero grad.</param>
/// <param name="HeadMillisecondsPerStep">Median of the head alone on the same batch: head, loss and their backward (features as input).</param>
/// <param name="Spread">(slowest − fastest) / median of the step's runs.</param>
/// <param name="TokensPerSecond">Input tokens per second at the median step time.</param>
public sealed record StepTiming(double MillisecondsPerStep, double HeadMillisecondsPerStep, double Spread, double TokensPerSecond)
{
    /// <summary>The head's share of the step's time.</summary>
    public double HeadShare => HeadMillisecondsPerStep / MillisecondsPerStep;
}

/// <summary>
/// Times the training step of a model alone, on random token ids: the trainer's step (features, loss, backward, the
/// flat AdamW in the trainer's compute type, zero grad), warmed up, then several runs of N steps with a device
/// synchronisation only at the ends of a run; the median run is reported. The LM head is timed the same way on its
/// own (<see cref="SlmModel.Loss(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)"/> on random features, and its backward), which gives its share of the step: a
/// measured figure to set beside the head's share of the FLOPs.
/// </summary>
public static class StepTimer
{
    /// <summary>Steps a kernel trace holds (<c>trace_summary.py --steps</c>).</summary>
    public const int TraceSteps = 5;

    /// <summary>
    /// The least time the warm-up takes by default (seconds; <c>warmSeconds</c>), as <see cref="SlmGen.Generation.DecodeTimer.WarmUpSeconds"/>:
    /// .NET's tiered compilation runs new methods unoptimised until they have been called 30 times and no new method
    /// has been compiled for 100 ms, then optimises them in the background; ten steps of a few milliseconds end well
    /// before that, so the timed runs of a launch-bound step measured unoptimised managed code (on a 2-core CPU 19–40 ms
    /// a step of the lab's base design from one run to the next, where a run without tiered compilation took 18–20 ms).
    /// </summary>
    public const double WarmUpSeconds = 1.0;

    /// <summary>Times <paramref name="model"/> (moved to <paramref name="device"/>, left in training mode).</summary>
    /// <param name="model">The model (moved to <paramref name="device"/>, left in training mode).</param>
    /// <param name="batch">Windows per step.</param>
    /// <param name="device">Where to time it.</param>
    /// <param name="bf16">bf16 compute on CUDA (as <c>slmgen train</c>); fp32 on the CPU regardless.</param>
    /// <param name="warm">Untimed steps first (at least; see <paramref name="warmSeconds"/>).</param>
    /// <param name="steps">Steps per timed run.</param>
    /// <param name="runs">Timed runs (the median is kept).</param>
    /// <param name="seed">Seed of the random token ids.</param>
    /// <param name="warmSeconds">The warm-up goes on past <paramref name="warm"/> steps until this many seconds have passed (<see cref="WarmUpSeconds"/>; 0: <paramref name="warm"/> steps only).</param>
    /// <param name="graphed">
    /// The step as one CUDA graph, as <c>slmgen train</c> runs it with graphs on (libtorch's fused AdamW with the step
    /// count and rate on the device, captured after the warm-up and replayed); the head is not timed (NaN).
    /// </param>
    /// <param name="recipe">
    /// The training recipe's work besides the plan's, as <c>slmgen train</c> does it: the z-loss in the loss, and a
    /// moving average of the fp32 master weights after each optimizer step (eager after the replay when graphed, as
    /// the trainer runs it). None by default.
    /// </param>
    /// <param name="trace">
    /// CUDA: after timing, 5 more steps under libtorch's kernel profiler, written to this path as a Chrome trace (every
    /// kernel, graph replays included; scripts/gpu/trace_summary.py sums it per kernel class). Null: none.
    /// </param>
    /// <exception cref="InvalidOperationException">Graphed timing where no CUDA graph can be made (not CUDA, no native
    /// library) or the optimizer cannot step on the device; a trace asked for where no profiler is loaded; the message
    /// says which.</exception>
    public static StepTiming Time(SlmModel model, int batch, Device device, bool bf16 = true, int warm = 10, int steps = 30, int runs = 3, long seed = 0, bool graphed = false, StepRecipe? recipe = null, string? trace = null, double warmSeconds = WarmUpSeconds)
    {
        if (trace is not null && SlmGen.Native.CudaNative.WhyNoTrace(device) is { } noTrace)
        {
            throw new InvalidOperationException($"a kernel trace needs CUDA and libslmgen_native's profiler ({noTrace}).");
        }

        if (batch < 1 || warm < 1 || steps < 1 || runs < 1 || !(warmSeconds >= 0))
        {
            throw new ArgumentException("batch, warm-up steps, timed steps and runs must be at least 1, and the warm-up's seconds not negative.");
        }

        if (!model.PredictsEveryPosition)
        {
            throw new ArgumentException($"{model.GetName()} makes one prediction per window; the step timer times models that predict every position.");
        }

        SlmGen.Native.CHeap.PrepareFor(device); // time what trains: the trainer reuses large CPU blocks too
        model.to(device);
        model.train();
        var compute = bf16 && device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
        using var optimizer = new FlatAdamW(model, new AdamWSettings(), compute);
        var generator = new Generator((ulong)seed, device: CPU);
        using var drawn = randint(0, model.DeclaredVocab, new long[] { batch, model.Context + 1 }, generator: generator, dtype: ScalarType.Int64);
        using var ids = drawn.to(device);
        using var inputs = ids.narrow(1, 0, model.Context).contiguous();
        using var targets = ids.narrow(1, 1, model.Context).contiguous();
        using var lossSum = zeros(1, dtype: ScalarType.Float32, device: device);
        recipe ??= StepRecipe.None;
        var zLoss = recipe.ZLoss ? 1e-4 : 0; // the weight does not change the work
        using var ema = recipe.Ema ? optimizer.Master.clone() : null;
        void Average()
        {
            if (ema is not null)
            {
                using var noGrad = no_grad();
                using var decay = 0.999.ToScalar();
                using var rest = 0.001.ToScalar();
                ema.mul_(decay).add_(optimizer.Master, alpha: rest);
            }
        }

        void Step()
        {
            using var scope = NewDisposeScope();
            var loss = model.Loss(model.Features(inputs), targets, zLoss);
            loss.backward();
            lossSum.PlusInPlace(loss.detach());
            optimizer.Step(1e-4);
            optimizer.ZeroGrad();
            Average();
        }

        Tensor features;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            features = scope.Detach(model.Features(inputs).detach().clone());
        }

        using var _ = features;
        void HeadStep()
        {
            using var scope = NewDisposeScope();
            var x = features.detach().requires_grad_(true);
            var loss = model.Loss(x, targets);
            loss.backward();
            lossSum.PlusInPlace(loss.detach());
            optimizer.ZeroGrad();
        }

        (double Median, double Spread) step;
        if (graphed)
        {
            using var graph = SlmGen.Native.CudaGraph.TryCreate(device, out var reason) ?? throw new InvalidOperationException($"{model.GetName()}: no graphed step ({reason}).");
            using var rateValue = 1e-4f.ToScalar();
            using var rate = full(Array.Empty<long>(), rateValue, dtype: ScalarType.Float32, device: device);
            using var count = zeros(Array.Empty<long>(), dtype: ScalarType.Float32, device: device);
            void Work()
            {
                using var scope = NewDisposeScope();
                var loss = model.Loss(model.Features(inputs), targets, zLoss);
                loss.backward();
                lossSum.PlusInPlace(loss.detach());
                optimizer.StepOnDevice(rate, count);
                optimizer.ZeroGrad();
            }

            for (var i = 0; i < warm; i++)
            {
                graph.Warmup(Work);
            }

            graph.Capture(Work);
            step = Median(() => { graph.Replay(); Average(); }, 1, warmSeconds, steps, runs, device);
            Trace(() => { graph.Replay(); Average(); });
        }
        else
        {
            step = Median(Step, warm, warmSeconds, steps, runs, device);
            Trace(Step);
        }

        void Trace(Action one)
        {
            if (trace is null)
            {
                return;
            }

            SlmGen.Native.CudaNative.RecordTrace(trace, TraceSteps, one, () => Sync(device));
        }

        var head = graphed ? (Median: double.NaN, Spread: 0.0) : Median(HeadStep, warm, warmSeconds, steps, runs, device); // graphed: the step only
        if (!float.IsFinite(lossSum.item<float>()))
        {
            throw new InvalidOperationException($"{model.GetName()}: the loss is not finite while timing.");
        }

        return new StepTiming(step.Median, head.Median, step.Spread, batch * (double)model.Context / (step.Median / 1e3));
    }

    private static (double Median, double Spread) Median(Action step, int warm, double warmSeconds, int steps, int runs, Device device)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < warm; i++)
        {
            step();
        }

        // Past the warm-up steps until warmSeconds have passed (synchronised, so that the device's queue counts; at most
        // 100,000 steps): the managed code is then optimised and the timed runs measure the steady state.
        Sync(device);
        for (var i = 0; clock.Elapsed.TotalSeconds < warmSeconds && i < 100_000; i++)
        {
            step();
            if (i % 16 == 15)
            {
                Sync(device);
            }
        }

        Sync(device);
        var times = new List<double>();
        for (var r = 0; r < runs; r++)
        {
            clock.Restart();
            for (var i = 0; i < steps; i++)
            {
                step();
            }

            Sync(device);
            times.Add(clock.Elapsed.TotalMilliseconds / steps);
        }

        times.Sort();
        var median = times[times.Count / 2];
        return (median, (times[^1] - times[0]) / median);
    }

    private static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}
