using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary>
/// <c>slmgen time</c>: the measured training-step time of each spec's model, one after another in one process (so
/// each is timed alone on the device), with the LM head's own share of it (<see cref="StepTimer"/>).
/// </summary>
public static class TimeCommand
{
    public static Command Create()
    {
        var specs = new Argument<string[]>("spec") { Description = "model specs (YAML)", Arity = ArgumentArity.OneOrMore };
        var batch = new Option<int>("--batch") { Description = "windows per step (default 32)", DefaultValueFactory = _ => 32 }.Check(v => v >= 1, "must be at least 1");
        var steps = new Option<int>("--steps") { Description = "steps per timed run (default 30; 3 runs, the median is kept, after a warm-up of at least 1 s and 10 steps)", DefaultValueFactory = _ => 30 }.Check(v => v >= 1, "must be at least 1");
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda (default auto)", DefaultValueFactory = _ => "auto" };
        var fp32 = new Option<bool>("--fp32") { Description = "fp32 on CUDA too (default: bf16 compute, as train and as sample decodes)" };
        var json = new Option<string?>("--json") { Description = "append one JSON line per model to this file" };
        var graphed = new Option<bool>("--graphed") { Description = "the step as one CUDA graph, as train runs it with graphs (needs CUDA and the native library); the prediction is the graphed one" };
        var decode = new Option<bool>("--decode") { Description = "time decoding instead (batch 1, greedy, the KV cache): the prefill of --prompt-tokens and each new token after it" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "with --decode: the prompt's length (default 64, or a quarter of a shorter context)", DefaultValueFactory = _ => 0 }.Check(v => v >= 0, "must be 1 or more");
        var newTokens = new Option<int>("--new-tokens") { Description = "with --decode: tokens generated after the prompt (default 128, or what the context leaves)", DefaultValueFactory = _ => 0 }.Check(v => v >= 0, "must be 2 or more");
        var profile = new Option<string?>("--device-profile") { Description = "a device profile (slmgen calibrate): also the time model's prediction and its error against the measurement" };
        var predictOnly = new Option<bool>("--predict-only") { Description = "with --device-profile: the time model's predictions only, nothing run (e.g. to predict earlier measurements with a newer profile)" };
        var emaDecay = new Option<double>("--ema-decay") { Description = "the step keeps a moving average of the weights, as train's ema_decay does (0 = none), measured and predicted" }.Check(v => v is >= 0 and < 1, "must be at least 0 and below 1");
        var zLoss = new Option<double>("--z-loss") { Description = "the loss adds the z-loss, as train's z_loss does (0 = none), measured and predicted" }.Check(v => v >= 0, "must be at least 0");
        var trace = new Option<string?>("--kernel-trace") { Description = "CUDA: after every model has been timed (a profiler once started slows every later launch of the process), each model's 5 more training steps (or with --decode one more generation) under libtorch's kernel profiler, written to DIR/MODEL-eager.json, -graphed.json or -decode.json as a Chrome trace (needs libslmgen_native's profiler; scripts/gpu/trace_summary.py sums a step's per kernel class, scripts/gpu/decode_trace.py a generation's per token; --json then holds the prediction by kernel kind beside it)" };
        var checkHost = new Option<bool>("--check-host") { Description = "with --device-profile: first time the calibration reference models at one and four blocks (a few seconds each, as slmgen calibrate does, the median of their per-kernel costs) and set the host's cost per kernel now beside the profile's; a host slower than at its calibration makes host-bound predictions (eager steps of small models, decoding) short by about that ratio (--json records it as host_ratio)" };
        var command = new Command("time", "Time each model's training step alone (random tokens), and its LM head's share of the step.") { specs, batch, steps, device, fp32, graphed, decode, promptTokens, newTokens, json, profile, predictOnly, emaDecay, zLoss, trace, checkHost };
        command.SetAction(r =>
        {
            if (r.GetValue(predictOnly) && r.GetValue(profile) is null)
            {
                throw new CliException("--predict-only needs --device-profile (the profile the predictions are made for).");
            }

            var recipe = StepRecipe.Of(r.GetValue(emaDecay), r.GetValue(zLoss));
            if (r.GetValue(trace) is not null && r.GetValue(predictOnly))
            {
                throw new CliException("--kernel-trace traces what is measured; not with --predict-only.");
            }

            if (r.GetValue(decode) && recipe != StepRecipe.None)
            {
                throw new CliException("--ema-decay and --z-loss shape a training step; --decode times decoding.");
            }

            if (r.GetValue(checkHost) && (r.GetValue(profile) is null || r.GetValue(predictOnly)))
            {
                throw new CliException("--check-host compares this host with a profile's calibration: it needs --device-profile, and something measured (not --predict-only).");
            }

            return r.GetValue(decode)
                ? Decode(r.GetValue(specs)!, r.GetValue(promptTokens), r.GetValue(newTokens), r.GetValue(device)!, r.GetValue(json), r.GetValue(profile), r.GetValue(predictOnly), r.GetValue(trace), r.GetValue(checkHost), r.GetValue(fp32))
                : Run(r.GetValue(specs)!, r.GetValue(batch), r.GetValue(steps), r.GetValue(device)!, r.GetValue(fp32), r.GetValue(graphed), r.GetValue(json), r.GetValue(profile), r.GetValue(predictOnly), recipe, r.GetValue(trace), r.GetValue(checkHost));
        });
        return command;
    }

    private static int Run(string[] specs, int batch, int steps, string deviceName, bool fp32, bool graphed, string? json, string? profilePath, bool predictOnly = false, StepRecipe? recipe = null, string? traceDir = null, bool checkHost = false)
    {
        if (traceDir is not null)
        {
            Directory.CreateDirectory(traceDir);
        }

        var (profile, compiled, device) = Prepare(specs, deviceName, profilePath);
        RefuseUntraceable(traceDir, device);
        var host = CheckHost(checkHost, profile, device, decoding: false);
        var table = new Table().Border(TableBorder.Markdown).AddColumn("model").AddColumn(new TableColumn("ms/step").RightAligned())
            .AddColumn(new TableColumn("tokens/s").RightAligned()).AddColumn(new TableColumn("head ms").RightAligned()).AddColumn(new TableColumn("head share of time").RightAligned())
            .AddColumn(new TableColumn("head share of FLOPs").RightAligned());
        if (profile is not null)
        {
            table.AddColumn(new TableColumn("predicted ms/step").RightAligned()).AddColumn(new TableColumn("error").RightAligned()).AddColumn("dominant (bound)");
        }
        foreach (var spec in specs)
        {
            var descriptor = compiled.Of(spec);
            Devices.Seed(0);
            using var model = descriptor.Create();
            var traceFile = TraceFile(traceDir, descriptor.Name, graphed ? "graphed" : "eager");
            var (t, peak) = predictOnly ? (new StepTiming(double.NaN, double.NaN, double.NaN, double.NaN), null) : WithPeakMemory(device, () => StepTimer.Time(model, batch, device, bf16: !fp32, steps: steps, graphed: graphed, recipe: recipe));
            var cost = model.Cost;
            var headFlops = cost.Components.Where(c => c.Kind == "head").Sum(c => c.TrainingFlopsPerToken);
            var headFlopShare = headFlops / (double)cost.TrainingFlopsPerToken;
            var predicted = profile is null ? null : TimeReport.Training(descriptor, profile, batch, graphed, recipe);
            var cells = new System.Collections.Generic.List<string> { Markup.Escape(descriptor.Name), t.MillisecondsPerStep.ToString("0.000"), t.TokensPerSecond.ToString("N0"), double.IsNaN(t.HeadMillisecondsPerStep) ? "–" : t.HeadMillisecondsPerStep.ToString("0.000"), double.IsNaN(t.HeadShare) ? "–" : t.HeadShare.ToString("P1"), headFlopShare.ToString("P1") };
            if (predicted is not null)
            {
                cells.Add((predicted.Seconds * 1e3).ToString("0.000"));
                cells.Add(((predicted.Seconds * 1e3 - t.MillisecondsPerStep) / t.MillisecondsPerStep).ToString("+0.0%;-0.0%"));
                cells.Add(Markup.Escape($"{predicted.Dominant.Component} ({predicted.Dominant.Bound.ToString().ToLowerInvariant()})"));
            }

            table.AddRow(cells.ToArray());
            if (json is not null)
            {
                var record = new
                {
                    model = descriptor.Name, spec, device = Devices.Describe(device), batch, context = model.Context, width = cost.Width, vocab = cost.Vocab, parameters = cost.Parameters, graphed, ema = recipe?.Ema ?? false, z_loss = recipe?.ZLoss ?? false, bf16 = !fp32 && device.type == TorchSharp.DeviceType.CUDA, fused_kernels = device.type == TorchSharp.DeviceType.CUDA && SlmGen.Native.FusedKernels.Ready,
                    ms_per_step = Measured(t.MillisecondsPerStep), spread = Measured(t.Spread), tokens_per_second = Measured(t.TokensPerSecond),
                    head_ms_per_step = double.IsNaN(t.HeadMillisecondsPerStep) ? (double?)null : t.HeadMillisecondsPerStep, head_share_of_time = double.IsNaN(t.HeadShare) ? (double?)null : t.HeadShare, head_share_of_flops = headFlopShare,
                    predicted_ms_per_step = predicted is null ? (double?)null : predicted.Seconds * 1e3, profile = profile?.Device, profile_measured = profile?.Measured,
                    predicted_kinds_ms = predicted is null ? null : new { matmul = predicted.MatmulSeconds * 1e3, attention = predicted.AttentionSeconds * 1e3, memory = predicted.MemorySeconds * 1e3, fixed_per_step = (predicted.Seconds - predicted.MatmulSeconds - predicted.AttentionSeconds - predicted.MemorySeconds) * 1e3 },
                    kernel_trace = traceFile,
                    predicted_head_ms_per_step = predicted?.Components.Where(c => c.Component.StartsWith("lm_head", StringComparison.Ordinal)).Sum(c => c.Seconds) * 1e3,
                    peak_allocated_bytes = peak, host_kernel_us = host?.KernelSeconds * 1e6, host_ratio = host?.Ratio,
                    commit = Cli.Commit(), command = "slmgen " + string.Join(' ', Environment.GetCommandLineArgs()[1..]),
                };
                File.AppendAllText(json, JsonSerializer.Serialize(record) + "\n");
            }

            ReportPeak(descriptor.Name, peak);
        }

        AnsiConsole.Write(table);
        TraceAfterTiming(traceDir, specs, compiled, (model, file) => StepTimer.Time(model, batch, device, bf16: !fp32, steps: 1, runs: 1, graphed: graphed, recipe: recipe, trace: file), graphed ? "graphed" : "eager");
        return 0;
    }

    /// <summary>
    /// <c>--kernel-trace</c>: each model traced once more, after every model of the process has been timed. libtorch's
    /// profiler, once started, leaves every later kernel launch of the process slower: in session 26's blind check on an
    /// H200 the decoding models timed after the first one's trace cost 31–53 µs a kernel against 21 µs for the first
    /// (results/time/README.md), so tracing between timings corrupted every timing after the first. (Kineto leaves CUPTI
    /// attached after the profiler stops unless <c>TEARDOWN_CUPTI=1</c>, pytorch/pytorch#144455; the teardown is not
    /// relied on here — it has crashed with CUDA graphs on older CUDA.)
    /// </summary>
    private static void TraceAfterTiming(string? traceDir, string[] specs, CompiledSpecs compiled, Action<SlmModel, string> traced, string mode)
    {
        if (traceDir is null)
        {
            return;
        }

        foreach (var spec in specs)
        {
            var descriptor = compiled.Of(spec);
            Devices.Seed(0);
            using var model = descriptor.Create();
            var file = TraceFile(traceDir, descriptor.Name, mode)!;
            traced(model, file);
            AnsiConsole.MarkupLine(Markup.Escape($"{descriptor.Name}: traced into {file}"));
        }
    }

    /// <summary>Where <c>--kernel-trace</c> writes a model's trace (null without it).</summary>
    private static string? TraceFile(string? traceDir, string model, string mode) => traceDir is null ? null : Path.Combine(traceDir, $"{model}-{mode}.json");

    /// <summary><c>--kernel-trace</c> where it cannot trace is refused before anything is timed (the traces come last).</summary>
    private static void RefuseUntraceable(string? traceDir, TorchSharp.torch.Device device)
    {
        if (traceDir is not null && SlmGen.Native.CudaNative.WhyNoTrace(device) is { } noTrace)
        {
            throw new CliException($"--kernel-trace needs CUDA and libslmgen_native's profiler ({noTrace}).");
        }
    }

    /// <summary>With <c>--check-host</c>, the host's cost per kernel now beside the profile's, printed (null without it).</summary>
    private static HostCheck? CheckHost(bool check, SlmGen.DeviceProfile? profile, TorchSharp.torch.Device device, bool decoding)
    {
        if (!check || profile is null)
        {
            return null;
        }

        var host = HostCheck.Measure(device, profile, decoding);
        AnsiConsole.MarkupLine(Markup.Escape(host.Describe()));
        return host;
    }

    /// <summary><c>slmgen time --decode</c>: each model's measured prefill and per-token latency, and the time model's beside them.</summary>
    private static int Decode(string[] specs, int promptTokens, int newTokens, string deviceName, string? json, string? profilePath, bool predictOnly = false, string? traceDir = null, bool checkHost = false, bool fp32 = false)
    {
        if (traceDir is not null)
        {
            Directory.CreateDirectory(traceDir);
        }

        var (profile, compiled, device) = Prepare(specs, deviceName, profilePath);
        RefuseUntraceable(traceDir, device);
        var host = CheckHost(checkHost, profile, device, decoding: true);
        var precision = SlmGen.Generation.DecodePrecision.For(device, bf16: !fp32);
        if (profile is not null && (precision == TorchSharp.torch.ScalarType.Float32 ? 4 : 2) != profile.ElementBytes)
        {
            // The prediction reads the profile's matmul rates and element bytes, measured in its precision.
            AnsiConsole.MarkupLine(Markup.Escape($"warning: {profilePath} describes {profile.ElementBytes}-byte elements, this run decodes in {precision.ToString().ToLowerInvariant()}: the prediction describes the profile's precision"));
        }
        var table = new Table().Border(TableBorder.Markdown).AddColumn("model").AddColumn(new TableColumn("prompt").RightAligned()).AddColumn(new TableColumn("new").RightAligned())
            .AddColumn(new TableColumn("prefill ms").RightAligned()).AddColumn(new TableColumn("ms/token").RightAligned()).AddColumn(new TableColumn("tokens/s").RightAligned());
        if (profile is not null)
        {
            table.AddColumn(new TableColumn("predicted prefill").RightAligned()).AddColumn(new TableColumn("error").RightAligned())
                .AddColumn(new TableColumn("predicted ms/token").RightAligned()).AddColumn(new TableColumn("error").RightAligned());
        }

        foreach (var spec in specs)
        {
            var descriptor = compiled.Of(spec);
            Devices.Seed(0);
            using var model = descriptor.Create();
            var (prompt, fresh) = Lengths(model);
            SlmGen.Generation.DecodeTimer.Check(model, prompt, fresh); // a prediction only for what could be measured
            var traceFile = TraceFile(traceDir, descriptor.Name, "decode");
            var (t, peak) = predictOnly ? (new SlmGen.Generation.DecodeTiming(prompt, fresh, double.NaN, double.NaN, double.NaN), null) : WithPeakMemory(device, () => SlmGen.Generation.DecodeTimer.Time(model, device, prompt, fresh, bf16: !fp32));
            double? predictedPrefill = null, predictedToken = null;
            SlmGen.PredictedTime? middle = null;
            if (profile is not null)
            {
                predictedPrefill = SlmGen.Timing.TimePrediction.Decoding(model, profile, 1, prompt, 0).Seconds * 1e3;
                middle = SlmGen.Timing.TimePrediction.Decoding(model, profile, 1, 1, prompt + (fresh / 2));
                // Token j ≥ 2 reads a cache of prompt + j − 2 positions: the mean over the tokens timed.
                predictedToken = Enumerable.Range(0, fresh - 1).Average(i => SlmGen.Timing.TimePrediction.Decoding(model, profile, 1, 1, prompt + i).Seconds) * 1e3;
            }

            var cells = new System.Collections.Generic.List<string> { Markup.Escape(descriptor.Name), prompt.ToString(), fresh.ToString(), t.PrefillMilliseconds.ToString("0.000"), t.MillisecondsPerToken.ToString("0.000"), (1e3 / t.MillisecondsPerToken).ToString("N0") };
            if (profile is not null)
            {
                cells.Add(predictedPrefill!.Value.ToString("0.000"));
                cells.Add(((predictedPrefill.Value - t.PrefillMilliseconds) / t.PrefillMilliseconds).ToString("+0.0%;-0.0%"));
                cells.Add(predictedToken!.Value.ToString("0.000"));
                cells.Add(((predictedToken.Value - t.MillisecondsPerToken) / t.MillisecondsPerToken).ToString("+0.0%;-0.0%"));
            }

            table.AddRow(cells.ToArray());
            if (json is not null)
            {
                var record = new
                {
                    model = descriptor.Name, spec, mode = "decode", device = Devices.Describe(device), batch = 1, context = model.Context, prompt_tokens = prompt, new_tokens = fresh, precision = precision.ToString().ToLowerInvariant(),
                    prefill_ms = Measured(t.PrefillMilliseconds), ms_per_token = Measured(t.MillisecondsPerToken), spread = Measured(t.Spread),
                    predicted_prefill_ms = predictedPrefill, predicted_ms_per_token = predictedToken,
                    predicted_token_kernels = middle?.Kernels, kernel_trace = traceFile, predicted_token_dominant = middle is null ? null : $"{middle.Dominant.Component} ({middle.Dominant.Bound.ToString().ToLowerInvariant()})", profile = profile?.Device, profile_measured = profile?.Measured,
                    peak_allocated_bytes = peak, host_kernel_us = host?.KernelSeconds * 1e6, host_ratio = host?.Ratio,
                    commit = Cli.Commit(), command = "slmgen " + string.Join(' ', Environment.GetCommandLineArgs()[1..]),
                };
                File.AppendAllText(json, JsonSerializer.Serialize(record) + "\n");
            }

            ReportPeak(descriptor.Name, peak);
        }

        AnsiConsole.Write(table);
        TraceAfterTiming(traceDir, specs, compiled, (model, file) =>
        {
            var (prompt, fresh) = Lengths(model);
            SlmGen.Generation.DecodeTimer.Time(model, device, prompt, fresh, runs: 1, trace: file, bf16: !fp32);
        }, "decode");
        return 0;

        (int Prompt, int Fresh) Lengths(SlmModel model)
        {
            var prompt = promptTokens > 0 ? promptTokens : Math.Max(1, Math.Min(SlmGen.Timing.DeviceCalibration.DecodePrompt, model.Context / 4));
            return (prompt, newTokens > 0 ? newTokens : Math.Min(SlmGen.Timing.DeviceCalibration.DecodeTokens, model.Context - prompt));
        }
    }

    /// <summary>A measured figure for the JSON record: null when nothing was measured (--predict-only).</summary>
    private static double? Measured(double value) => double.IsNaN(value) ? null : value;

    /// <summary>What both modes start from: the profile (checked first: a bad path fails before any compile), the compiled specs, the device.</summary>
    /// <summary>
    /// A timing with the device's peak allocated bytes around it — warm-up, capture and timed steps — where the native
    /// library reports the CUDA caching allocator's statistics; no peak otherwise.
    /// </summary>
    private static (T Result, long? Peak) WithPeakMemory<T>(TorchSharp.torch.Device device, Func<T> timing)
    {
        var index = device.type == TorchSharp.DeviceType.CUDA ? Math.Max(0, (int)device.index) : -1;
        var measured = index >= 0 && Guarded(() => SlmGen.Native.CudaNative.ResetPeakMemory(index));
        var result = timing();
        long? peak = null;
        measured = measured && Guarded(() => peak = SlmGen.Native.CudaNative.Memory(index)?.Peak);
        return (result, measured ? peak : null);
    }

    /// <summary>Peak memory is a by-product of a timing: a library that cannot report it costs the figure, not the timing.</summary>
    private static bool Guarded(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"warning: no peak memory: {e.Message}");
            return false;
        }
    }

    private static void ReportPeak(string model, long? peak)
    {
        if (peak is { } bytes)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{model}: peak {bytes / (double)(1L << 30):0.00} GiB allocated on the device during its timing (CUDA caching allocator)"));
        }
    }

    private static (SlmGen.DeviceProfile? Profile, CompiledSpecs Compiled, TorchSharp.torch.Device Device) Prepare(string[] specs, string deviceName, string? profilePath)
    {
        if (profilePath is not null)
        {
            Cli.EnsureReadable(profilePath, "device profile");
        }

        var profile = profilePath is null ? null : SlmGen.Timing.ProfileFile.Read(profilePath);
        var device = Devices.Resolve(deviceName);
        var fused = SlmGen.Timing.DeviceCalibration.FusedKernelsOn(device);
        if (profile is not null && profile.FusedKernels != fused)
        {
            // The prediction lists the kernels of the path the profile was measured on; this run takes the other.
            AnsiConsole.MarkupLine(Markup.Escape($"warning: {profilePath} was measured with the fused kernels {(profile.FusedKernels ? "on" : "off")}, this run has them {(fused ? "on" : "off")} ({SlmGen.Native.FusedKernels.Status}): the prediction describes the profile's path"));
        }

        return (profile, SpecCompiler.Compile(specs), device);
    }
}
