using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using SlmGen;
using SlmGen.Samples;
using SlmGen.Samples.Bench;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;

// Training-step benchmark. Each mode builds a fresh BenchGpt, warms up, then times several runs of N steps
// (forward, backward, optimizer step, zero grad) on one fixed random batch, synchronising only at the ends
// of a run; it reports the median. MFU = SlmGen's exact training FLOPs per step over the bf16 matmul rate
// measured in this process (8192³, random data).
var cli = new CommandLine(args);
var deviceName = cli.String("device", "auto", "auto, cpu or cuda");
var modes = cli.String("modes", "all", "comma list: fp32, tf32, bf16, bf16-views (gradients as views of the flat buffer), bf16-torchadamw, bf16-fwdbwd (no optimizer), bf16-fwd (forward only), opt-flat and opt-torch (an AdamW step alone, fp32), bf16-fused (libtorch's fused AdamW through libslmgen_native), bf16-graph (the whole step as one CUDA graph, fused AdamW); all = the usual set");
var batch = cli.Int("batch", 64, "sequences per step");
var warm = cli.Int("warm", 10, "warm-up steps per mode");
var iters = cli.Int("iters", 50, "steps per timed run");
var runs = cli.Int("runs", 5, "timed runs per mode (the median is reported)");
var output = cli.Optional("json", "also write the results to this JSON file");
var profile = cli.Optional("profile", "CUDA: after every mode has been timed, each mode's 5 more steps under libtorch's profiler, written to PREFIX-MODE.json as a Chrome trace (every kernel, graph replays included; scripts/gpu/trace_summary.py sums it per kernel)");
var weightStream = cli.Flag("weight-stream", "instead of timing steps: batch-1 products (a decoded token's) cycling over distinct weights of --stream-in x --stream-out, working sets of 1-128 MiB: the weights' bytes per second from cache and from memory");
var streamIn = cli.Int("stream-in", 512, "with --weight-stream: a weight's input features");
var streamOut = cli.Int("stream-out", 512, "with --weight-stream: a weight's output features");
var checkFused = cli.Flag("check-fused", "instead of timing: check the fused CUDA kernels against the unfused layers (forward and gradients, random shapes, fp32 and bf16; --json gets one line per case); exit status = failed cases");
if (cli.WantsHelp)
{
    Console.WriteLine("Bench: time training steps of a generated baby GPT.\n" + cli.Usage);
    return 0;
}

cli.EnsureAllKnown();
var device = Devices.Resolve(deviceName);
if (weightStream)
{
    return WeightStream.Run(device, streamIn, streamOut, secondsEach: 1.0);
}

if (checkFused)
{
    return Math.Min(FusedCheck.Run(device, output), 100);
}

var isCuda = device.type == DeviceType.CUDA;
var chosen = modes == "all"
    ? (isCuda ? new[] { "fp32", "tf32", "bf16-torchadamw", "bf16" } : new[] { "fp32", "fp32-torchadamw" })
    : modes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

var tokens = (long)batch * BenchGpt.ContextLength;
var flopsPerStep = (double)BenchGpt.TrainingFlopsPerToken * tokens;
Console.WriteLine($"SlmGen bench | {Describe(device)} | BenchGpt {BenchGpt.ParameterCount:N0} parameters | batch {batch} x {BenchGpt.ContextLength} = {tokens:N0} tokens/step");
Console.WriteLine($"exact training FLOPs/step (FlopCounterMode convention): {flopsPerStep:N0} ({flopsPerStep / 1e12:0.0000} TFLOP)");
var peak = isCuda ? PeakBf16(device) : double.NaN;
if (isCuda)
{
    Console.WriteLine($"bf16 matmul 8192^3: {peak / 1e12:0.0} TFLOP/s (MFU peak)");
    Console.WriteLine(SlmGen.Native.FusedKernels.Status);
}

if (profile is not null && isCuda && !SlmGen.Native.CudaNative.HasProfiler)
{
    Console.WriteLine("--profile: no kernel profiler in this process (" + (SlmGen.Native.CudaNative.Available ? "libslmgen_native was built without kernel_profiler.cpp: src/SlmGen.Native/build.sh's nvcc path builds it" : SlmGen.Native.CudaNative.Reason) + "); timing only");
    profile = null;
}

System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.SustainedLowLatency;
var results = new List<(string Mode, double Ms, double Spread, double TokensPerSecond, double Mfu, float FirstLoss, float LastLoss)>();
foreach (var mode in chosen)
{
    results.Add(RunMode(mode));
}

// The traces after every mode is timed: a profiler once started slows every later kernel launch of the process (session
// 26: decoding timed after another model's trace cost up to twice the host time a kernel).
foreach (var mode in profile is not null && isCuda ? chosen : Array.Empty<string>())
{
    RunMode(mode, trace: true);
}

Console.WriteLine();
Console.WriteLine($"{"mode",-18} {"ms/step",9} {"spread",7} {"tokens/s",12} {"TFLOP/s",8} {"MFU",6}  loss");
foreach (var r in results)
{
    Console.WriteLine($"{r.Mode,-18} {r.Ms,9:0.00} {r.Spread,6:0.0}% {r.TokensPerSecond,12:N0} {flopsPerStep / (r.Ms / 1e3) / 1e12,8:0.0} {(double.IsNaN(r.Mfu) ? "-" : (100 * r.Mfu).ToString("0.0", CultureInfo.InvariantCulture) + "%"),6}  {r.FirstLoss:0.000}->{r.LastLoss:0.000}");
}

if (output is not null)
{
    var report = new
    {
        device = Describe(device),
        fused_kernels = isCuda && SlmGen.Native.FusedKernels.Ready,
        batch,
        flops_per_step = flopsPerStep,
        peak_bf16_flops = double.IsNaN(peak) ? (double?)null : peak,
        results = results.Select(r => new { mode = r.Mode, ms_per_step = r.Ms, spread_percent = r.Spread, tokens_per_second = r.TokensPerSecond, mfu = double.IsNaN(r.Mfu) ? (double?)null : r.Mfu }),
    };
    File.WriteAllText(output, System.Text.Json.JsonSerializer.Serialize(report, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
}

return 0;

(string, double, double, double, double, float, float) RunMode(string mode, bool trace = false)
{
    var bf16 = mode.StartsWith("bf16", StringComparison.Ordinal);
    var torchAdam = mode.EndsWith("torchadamw", StringComparison.Ordinal);
    var noOptimizer = mode.EndsWith("-fwdbwd", StringComparison.Ordinal);
    var views = mode.EndsWith("-views", StringComparison.Ordinal) || mode == "opt-flat";
    var optimizerOnly = mode.StartsWith("opt-", StringComparison.Ordinal);
    torchAdam |= mode == "opt-torch";
    var forwardOnly = mode.EndsWith("-fwd", StringComparison.Ordinal);
    var graphed = mode.EndsWith("-graph", StringComparison.Ordinal);
    var fused = graphed || mode.EndsWith("-fused", StringComparison.Ordinal);
    if (isCuda)
    {
        backends.cuda.matmul.allow_tf32 = mode != "fp32";
    }

    manual_seed(1337);
    using var model = new BenchGpt();
    model.to(device);
    model.train();
    var settings = new AdamWSettings(0.9, 0.99, 1e-8, WeightDecay: 0.1, GradientClip: 0, GatherGradients: !views);
    FlatAdamW? flat = null;
    optim.Optimizer? reference = null;
    if (torchAdam)
    {
        if (bf16)
        {
            model.to(ScalarType.BFloat16);
        }

        reference = optim.AdamW(model.parameters(), lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.1);
    }
    else
    {
        flat = new FlatAdamW(model, settings, bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
    }

    manual_seed(0);
    using var data = randint(0, BenchGpt.VocabularySize, new long[] { batch, BenchGpt.ContextLength + 1 }, dtype: ScalarType.Int64, device: device);
    using var x = data.narrow(1, 0, BenchGpt.ContextLength).contiguous();
    using var y = data.narrow(1, 1, BenchGpt.ContextLength).contiguous();
    using var lossSum = zeros(1, dtype: ScalarType.Float32, device: device);
    using var lrValue = 1e-3f.ToScalar();
    using var lrDevice = full(Array.Empty<long>(), lrValue, dtype: ScalarType.Float32, device: device);
    using var stepDevice = zeros(Array.Empty<long>(), dtype: ScalarType.Float32, device: device);
    using var graph = graphed ? SlmGen.Native.CudaGraph.TryCreate(device, out var why) ?? throw new InvalidOperationException("bf16-graph: " + why) : null;
    if (optimizerOnly)
    {
        // The optimizer alone: gradients are filled once and every step reuses them.
        using (no_grad())
        {
            if (flat is not null)
            {
                flat.Gradients.normal_(0, 1e-3);
            }
            else
            {
                foreach (var p in model.parameters())
                {
                    p.grad = randn_like(p).Times(1e-3);
                }
            }
        }
    }

    void Step()
    {
        using var scope = NewDisposeScope();
        if (optimizerOnly)
        {
            if (flat is not null)
            {
                flat.Step(1e-3);
            }
            else
            {
                reference!.step();
            }

            return;
        }

        if (forwardOnly)
        {
            using var noGrad = no_grad();
            lossSum.copy_(model.Loss(model.Features(x), y));
            return;
        }

        // The trainer's loss (NextTokenLoss: the fused cross-entropy where the kernels are on).
        var loss = model.Loss(model.Features(x), y);
        loss.backward();
        lossSum.copy_(loss.detach());
        if (noOptimizer)
        {
            flat!.ZeroGrad();
        }
        else if (flat is not null)
        {
            if (fused)
            {
                flat.StepOnDevice(lrDevice, stepDevice);
            }
            else
            {
                flat.Step(1e-3);
            }

            flat.ZeroGrad();
        }
        else
        {
            reference!.step();
            reference.zero_grad();
        }
    }

    // The graphed mode: three eager steps on the capture stream, the capture, then one replay per step.
    var warmedUp = 0;
    void Run()
    {
        if (graph is null)
        {
            Step();
        }
        else if (warmedUp < 3)
        {
            graph.Warmup(Step);
            warmedUp++;
        }
        else
        {
            if (!graph.Captured)
            {
                graph.Capture(Step);
            }

            graph.Replay();
        }
    }

    Run();
    var first = lossSum.item<float>();
    for (var i = 1; i < Math.Max(warm, graphed ? 5 : 0); i++)
    {
        Run();
    }

    Sync();
    if (trace)
    {
        var traceFile = $"{profile}-{mode}.json";
        SlmGen.Native.CudaNative.RecordTrace(traceFile, 5, Run, Sync);
        Console.WriteLine($"{mode}: 5 steps profiled -> {traceFile}");
        flat?.Dispose();
        reference?.Dispose();
        return (mode, double.NaN, double.NaN, double.NaN, double.NaN, first, lossSum.item<float>());
    }

    var times = new List<double>();
    var gen0 = GC.CollectionCount(0);
    for (var r = 0; r < runs; r++)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iters; i++)
        {
            Run();
        }

        Sync();
        times.Add(clock.Elapsed.TotalMilliseconds / iters);
    }

    var last = lossSum.item<float>();
    var collections = GC.CollectionCount(0) - gen0;
    times.Sort();
    var median = times[times.Count / 2];
    var spread = 100 * (times[^1] - times[0]) / median;
    flat?.Dispose();
    reference?.Dispose();
    var tps = tokens / (median / 1e3);
    var mfu = isCuda ? flopsPerStep / (median / 1e3) / peak : double.NaN;
    Console.WriteLine($"{mode,-18} {median,8:0.00} ms/step (runs {string.Join(" ", times.Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))}) {tps,11:N0} tok/s loss {first:0.000}->{last:0.000}, {collections} gen0 GCs in {runs * iters} steps");
    return (mode, median, spread, tps, mfu, first, last);
}

void Sync()
{
    if (isCuda)
    {
        cuda.synchronize();
    }
}

static double PeakBf16(Device device)
{
    const int n = 8192;
    using var scope = NewDisposeScope();
    var a = randn(new long[] { n, n }, dtype: ScalarType.BFloat16, device: device);
    var b = randn(new long[] { n, n }, dtype: ScalarType.BFloat16, device: device);
    for (var i = 0; i < 3; i++)
    {
        a.matmul(b).Dispose();
    }

    cuda.synchronize();
    var clock = Stopwatch.StartNew();
    const int reps = 10;
    for (var i = 0; i < reps; i++)
    {
        a.matmul(b).Dispose();
    }

    cuda.synchronize();
    return 2.0 * n * n * n * reps / clock.Elapsed.TotalSeconds;
}

static string Describe(Device device) =>
    device.type == DeviceType.CUDA ? $"cuda ({Environment.GetEnvironmentVariable("SLMGEN_DEVICE_NAME") ?? "GPU"})" : $"cpu ({get_num_threads()} threads)";
