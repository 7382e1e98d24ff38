using System;
using System.Linq;
using System.CommandLine;
using SlmGen.Timing;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen calibrate</c>: measure the current device for the time model.</summary>
public static class CalibrateCommand
{
    /// <summary>
    /// Tiny models whose every kernel is launch-bound, spanning the layers SlmGen generates (LayerNorm and RMSNorm, GELU,
    /// SwiGLU and ReLU², rotary and learned positions, grouped-query attention, QK-norm, shared blocks with LoRA, tied
    /// and untied heads), each timed at one and at four blocks (<c>LAYERS</c>): the slope of their time over the kernels the
    /// time model lists is the cost of a kernel in SlmGen's layers, the intercept a step's or a token's fixed time.
    /// </summary>
    public static readonly string[] ReferenceModels =
    {
        "name: CalibrateA\nvocab: 64\ncontext: 32\nembedding: 32\npositions: rope\nlayers:\n  - transformer: { layers: LAYERS, heads: 2, ffn: 4x, activation: gelu, norm: layernorm }\nfinal_norm: layernorm\nhead: tied\n",
        "name: CalibrateB\nvocab: 64\ncontext: 32\nembedding: 32\npositions: learned\nlayers:\n  - transformer: { layers: LAYERS, heads: 4, kv_heads: 2, ffn: 3x, activation: swiglu, norm: rmsnorm, qk_norm: true, attention_bias: false, ffn_bias: false }\nfinal_norm: rmsnorm\nhead: untied\n",
        "name: CalibrateC\nvocab: 64\ncontext: 32\nembedding: 32\npositions: rope\nlayers:\n  - transformer: { layers: LAYERS, heads: 2, ffn: 2x, activation: relu2, norm: rmsnorm, block_repeat: 2, lora_rank: 4 }\nfinal_norm: rmsnorm\nhead: tied\n",
    };

    /// <summary>
    /// The size of the reference models whose steps give the bandwidth inside SlmGen's layers (two blocks, vocabulary
    /// 256): on a CPU width 128, context 128 at batch 8 (activations of 0.5–2 MiB, as the designs a CPU trains; time
    /// model v11); on CUDA width 256, context 256 at batch 32 (4–16 MiB; v12, the step replayed from a graph).
    /// </summary>
    private static (int Width, int Context, int Batch) MidSize(bool cuda) => cuda ? (256, 256, 32) : (128, 128, 8);

    /// <summary>A reference model at <see cref="MidSize"/>, under its own name.</summary>
    private static string MidSized(string yaml, bool cuda)
    {
        var (width, context, _) = MidSize(cuda);
        static string I(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Depth(yaml.Replace("vocab: 64\n", "vocab: 256\n", StringComparison.Ordinal).Replace("context: 32\n", $"context: {I(context)}\n", StringComparison.Ordinal)
            .Replace("embedding: 32\n", $"embedding: {I(width)}\n", StringComparison.Ordinal), 2, "M");
    }

    /// <summary>A reference model at a depth, under its own name.</summary>
    private static string Depth(string yaml, int layers, string suffix) =>
        yaml.Replace("LAYERS", layers.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal).Insert(yaml.IndexOf('\n', StringComparison.Ordinal), suffix);

    /// <summary>
    /// Reference model <paramref name="index"/> at one and at four blocks for the training step, then the same at a
    /// context that holds the default decoding measurement (a prompt of 64, 128 new tokens) for decoding: four specs.
    /// </summary>
    public static (string Path, string Yaml)[] ReferenceSpecs(int index)
    {
        var yaml = ReferenceModels[index];
        var decodeContext = (DeviceCalibration.DecodePrompt + DeviceCalibration.DecodeTokens).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var longer = yaml.Replace("context: 32\n", $"context: {decodeContext}\n", StringComparison.Ordinal);
        return new[]
        {
            ($"/slmgen/calibrate/reference{index}a.yaml", Depth(yaml, 1, "A")), ($"/slmgen/calibrate/reference{index}b.yaml", Depth(yaml, 4, "B")),
            ($"/slmgen/calibrate/reference{index}da.yaml", Depth(longer, 1, "DA")), ($"/slmgen/calibrate/reference{index}db.yaml", Depth(longer, 4, "DB")),
        };
    }

    /// <summary>The reference specs compiled in one compilation and created in order, each from seed 0.</summary>
    internal static System.Collections.Generic.List<SlmModel> CreateModels(System.Collections.Generic.IReadOnlyList<(string Path, string Yaml)> specs)
    {
        var models = SpecCompiler.CompileText(specs, "SlmGen.Calibrate").Models;
        return specs.Select(s => { Devices.Seed(0); return models.Single(m => m.Source == s.Path).Create(); }).ToList();
    }

    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var output = new Option<string>("--out") { Description = "the profile file (JSON)", Required = true };
        var quick = new Option<bool>("--quick") { Description = "a few shapes only (a smoke test, not a profile to predict with)" };
        var command = new Command("calibrate", "Measure this device through SlmGen's runtime (matmul rates over shapes, attention, bandwidth, kernel launch) and write a device profile for slmgen costs --device-profile and slmgen time --device-profile (docs/time.md).") { device, output, quick };
        command.SetAction(r =>
        {
            var dev = Devices.Resolve(r.GetValue(device));
            static void Progress(string line) => Console.WriteLine(line); // a log line each, not wrapped
            var profile = DeviceCalibration.Measure(dev, r.GetValue(quick), Progress);

            // The launch figures the time model uses: measured inside SlmGen's layers (tiny reference models at two
            // depths), which the one-element kernels above underrate; theirs stay in the log.
            var specs = Enumerable.Range(0, ReferenceModels.Length).SelectMany(ReferenceSpecs).ToList();
            var created = CreateModels(specs);
            try
            {
                var pairs = Enumerable.Range(0, ReferenceModels.Length).Select(i => (created[4 * i], created[(4 * i) + 1])).ToList();
                var decodePairs = Enumerable.Range(0, ReferenceModels.Length).Select(i => (created[(4 * i) + 2], created[(4 * i) + 3])).ToList();
                var costs = DeviceCalibration.MeasureInModels(pairs, decodePairs, dev, profile.ElementBytes, r.GetValue(quick), Progress);
                Progress($"in SlmGen's layers: a kernel {costs.Kernel * 1e6:0.0} µs through autograd (one-element kernels: {profile.LaunchSeconds * 1e6:0.0}), {costs.NoGradKernel * 1e6:0.0} µs without (one-element: {profile.NoGradLaunchSeconds * 1e6:0.0}); "
                    + $"a training step {costs.Step * 1e6:0} µs and a token {costs.Token * 1e6:0} µs besides their kernels; a prefill {costs.PrefillKernel * 1e6:0.0} µs a kernel and {costs.Prefill * 1e6:0} µs besides"
                    + (costs.GraphKernel > 0 ? $"; replayed from a graph {costs.GraphKernel * 1e6:0.00} µs a kernel (one-element: {profile.GraphKernelSeconds * 1e6:0.00}) and {costs.GraphStep * 1e6:0} µs a step" : string.Empty));
                profile = profile with
                {
                    LaunchSeconds = costs.Kernel,
                    StepSeconds = costs.Step,
                    NoGradLaunchSeconds = costs.NoGradKernel,
                    TokenSeconds = costs.Token,
                    PrefillLaunchSeconds = costs.PrefillKernel,
                    PrefillSeconds = costs.Prefill,
                    GraphKernelSeconds = costs.GraphKernel > 0 ? costs.GraphKernel : profile.GraphKernelSeconds,
                    GraphStepSeconds = costs.GraphStep,
                    FusedKernels = DeviceCalibration.FusedKernelsOn(dev),
                };
            }
            finally
            {
                created.ForEach(m => m.Dispose());
            }

            // Memory-bound kernels inside SlmGen's layers: the bandwidth at which the model predicts mid-sized reference
            // models' steps, with the figures measured above — a CPU's eager step (time model v11), a CUDA step replayed
            // from a graph where graphs can be made (v12: the fused kernels' own bandwidth, which v10's traces measured
            // at 1.3× the time a large copy's bandwidth gives them). Without graphs, CUDA keeps the large copy's.
            var cudaGraphs = dev.type == TorchSharp.DeviceType.CUDA && SlmGen.Native.CudaNative.Available;
            if (profile.Synchronous || cudaGraphs)
            {
                var midSpecs = ReferenceModels.Select((yaml, i) => ($"/slmgen/calibrate/reference{i}m.yaml", MidSized(yaml, cudaGraphs))).ToList();
                var midModels = SpecCompiler.CompileText(midSpecs, "SlmGen.Calibrate").Models;
                var mid = midSpecs.Select(s => { Devices.Seed(0); return midModels.Single(m => m.Source == s.Item1).Create(); }).ToList();
                try
                {
                    var inLayers = DeviceCalibration.MeasureBandwidthInModels(mid, dev, profile, MidSize(cudaGraphs).Batch, r.GetValue(quick), Progress, graphed: cudaGraphs);
                    if (inLayers is > DeviceCalibration.LowestBandwidth and < DeviceCalibration.HighestBandwidth)
                    {
                        Progress($"memory-bound kernels in SlmGen's layers: {inLayers / 1e9:0.0} GB/s (a large copy into a fresh tensor: {profile.BandwidthBytesPerSecond / 1e9:0.0} GB/s)");
                        profile = profile with { CopyBandwidthBytesPerSecond = profile.BandwidthBytesPerSecond, BandwidthBytesPerSecond = inLayers };
                    }
                    else
                    {
                        // The median reference's step lies outside what any bandwidth predicts (the other figures are off
                        // for it, or --quick measured too few shapes): no figure to trust, so the copy's stays.
                        Progress($"memory-bound kernels in SlmGen's layers: no bandwidth between {DeviceCalibration.LowestBandwidth / 1e9:0.0} GB/s and {DeviceCalibration.HighestBandwidth / 1e9:0} GB/s predicts the reference models' steps; the large copy's {profile.BandwidthBytesPerSecond / 1e9:0.0} GB/s is kept");
                    }
                }
                finally
                {
                    mid.ForEach(m => m.Dispose());
                }
            }

            profile = profile with
            {
                Measured = $"{DateTime.UtcNow:yyyy-MM-dd} by slmgen {string.Join(' ', Environment.GetCommandLineArgs()[1..])} at commit {Cli.Commit()}",
            };
            ProfileFile.Write(profile, r.GetValue(output)!);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(r.GetValue(output)!)}: {Markup.Escape(profile.Device)}, {profile.Matmul.Count} matmul and {profile.Attention.Count} attention shapes, {profile.BandwidthBytesPerSecond / 1e9:0.0} GB/s, {profile.LaunchSeconds * 1e6:0.0} µs a kernel");
            return 0;
        });
        return command;
    }
}
