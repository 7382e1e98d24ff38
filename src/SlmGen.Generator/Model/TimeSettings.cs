using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Generator.Model;

/// <summary>
/// The device the project's time budgets assume: the profile <c>slmgen calibrate</c> wrote (the MSBuild property
/// <c>SlmGenDeviceProfile</c>, passed to the generator as an additional file) and the windows a training step
/// takes (<c>SlmGenTrainingBatch</c>, 32 by default), eager or as one CUDA graph (<c>SlmGenTrainingGraphed</c>).
/// </summary>
internal sealed record TimeSettings(DeviceProfile? Profile, string ProfilePath, int Batch, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static readonly TimeSettings None = new(null, string.Empty, 32, EquatableArray<DiagnosticInfo>.Empty);

    /// <summary>Whether the training budget assumes each step is one CUDA graph (<c>SlmGenTrainingGraphed</c>): the time model's graphed step.</summary>
    public bool Graphed { get; init; }

    /// <summary>Whether an additional file is the device profile (metadata SlmGenDeviceProfile=true, which SlmGen.targets sets).</summary>
    public static bool IsProfile(Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions fileOptions) =>
        fileOptions.TryGetValue("build_metadata.AdditionalFiles.SlmGenDeviceProfile", out var flag)
        && string.Equals(flag.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the profile (JSON, which YamlDotNet reads as YAML); a file that is not one gets SLM0110 and no profile.</summary>
    public static TimeSettings Read(ImmutableArray<AdditionalText> files, int batch, System.Threading.CancellationToken ct)
    {
        if (files.Length == 0)
        {
            return None with { Batch = batch };
        }

        var file = files[0];
        try
        {
            var text = file.GetText(ct)?.ToString() ?? throw new InvalidDataException("it cannot be read");
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            var root = (YamlMappingNode)stream.Documents[0].RootNode;
            string S(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode { Value: { } s } ? s : throw new InvalidDataException($"it has no '{key}'");
            double D(YamlMappingNode m, string key) => double.TryParse(S(m, key), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && !double.IsNaN(d) ? d : throw new InvalidDataException($"'{key}' is not a number");
            IEnumerable<YamlMappingNode> List(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlSequenceNode seq ? seq.Children.OfType<YamlMappingNode>() : throw new InvalidDataException($"it has no '{key}' list");
            bool Has(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is not YamlScalarNode { Value: null or "null" or "" };
            EquatableArray<MatmulPoint> Matmuls(string key) => List(key).Select(m => new MatmulPoint((long)D(m, "m"), (long)D(m, "n"), (long)D(m, "k"), D(m, "flopsPerSecond"))).ToEquatableArray();
            EquatableArray<AttentionPoint> Attentions(string key) => List(key).Select(m => new AttentionPoint((long)D(m, "batchHeads"), (long)D(m, "t"), (long)D(m, "headSize"), D(m, "forwardFlopsPerSecond"), D(m, "backwardFlopsPerSecond"))).ToEquatableArray();
            var matmul = Matmuls("matmul");
            var attention = Attentions("attention");
            var profile = new DeviceProfile(S(root, "device"), S(root, "backend"), (int)D(root, "elementBytes"), D(root, "bandwidthBytesPerSecond"), D(root, "launchSeconds"),
                string.Equals(S(root, "synchronous"), "true", StringComparison.OrdinalIgnoreCase), matmul, attention)
            {
                Measured = root.Children.ContainsKey(new YamlScalarNode("measured")) ? S(root, "measured") : string.Empty,
                StepSeconds = Has("stepSeconds") ? D(root, "stepSeconds") : 0,
                NoGradLaunchSeconds = Has("noGradLaunchSeconds") ? D(root, "noGradLaunchSeconds") : 0,
                GraphStepSeconds = Has("graphStepSeconds") ? D(root, "graphStepSeconds") : 0,
                TokenSeconds = Has("tokenSeconds") ? D(root, "tokenSeconds") : 0,
                PrefillLaunchSeconds = Has("prefillLaunchSeconds") ? D(root, "prefillLaunchSeconds") : 0,
                PrefillSeconds = Has("prefillSeconds") ? D(root, "prefillSeconds") : 0,
                GraphKernelSeconds = Has("graphKernelSeconds") ? D(root, "graphKernelSeconds") : 0,
                FusedKernels = Has("fusedKernels") && string.Equals(S(root, "fusedKernels"), "true", StringComparison.OrdinalIgnoreCase),
                GraphMatmul = Has("graphMatmul") ? Matmuls("graphMatmul") : EquatableArray<MatmulPoint>.Empty,
                GraphAttention = Has("graphAttention") ? Attentions("graphAttention") : EquatableArray<AttentionPoint>.Empty,
                UnalignedMatmul = Has("unalignedMatmul") ? Matmuls("unalignedMatmul") : EquatableArray<MatmulPoint>.Empty,
                GraphUnalignedMatmul = Has("graphUnalignedMatmul") ? Matmuls("graphUnalignedMatmul") : EquatableArray<MatmulPoint>.Empty,
                UnalignedInputGradient = Has("unalignedInputGradient") ? Matmuls("unalignedInputGradient") : EquatableArray<MatmulPoint>.Empty,
                UnalignedWeightGradient = Has("unalignedWeightGradient") ? Matmuls("unalignedWeightGradient") : EquatableArray<MatmulPoint>.Empty,
                GraphUnalignedInputGradient = Has("graphUnalignedInputGradient") ? Matmuls("graphUnalignedInputGradient") : EquatableArray<MatmulPoint>.Empty,
                GraphUnalignedWeightGradient = Has("graphUnalignedWeightGradient") ? Matmuls("graphUnalignedWeightGradient") : EquatableArray<MatmulPoint>.Empty,
            };
            if (matmul.Count == 0 || !(profile.BandwidthBytesPerSecond > 0) || profile.ElementBytes is not (2 or 4) || matmul.Concat(profile.GraphMatmul).Concat(profile.UnalignedMatmul).Concat(profile.GraphUnalignedMatmul)
                    .Concat(profile.UnalignedInputGradient).Concat(profile.UnalignedWeightGradient).Concat(profile.GraphUnalignedInputGradient).Concat(profile.GraphUnalignedWeightGradient).Any(p => !(p.FlopsPerSecond > 0))
                || profile.NoGradLaunchSeconds < 0 || profile.GraphKernelSeconds < 0 || profile.StepSeconds < 0 || profile.GraphStepSeconds < 0 || profile.TokenSeconds < 0
                || profile.PrefillLaunchSeconds < 0 || profile.PrefillSeconds < 0)
            {
                throw new InvalidDataException("it lacks matmul rates, a bandwidth or an element size of 2 or 4 bytes");
            }

            return new TimeSettings(profile, file.Path, batch, EquatableArray<DiagnosticInfo>.Empty);
        }
        catch (Exception e) when (e is InvalidDataException or YamlDotNet.Core.YamlException or InvalidCastException or ArgumentException or OverflowException)
        {
            return None with { Batch = batch, ProfilePath = file.Path, Diagnostics = new[] { DiagnosticInfo.Create(DiagnosticDescriptors.BadDeviceProfile, null, file.Path, e.Message) }.ToEquatableArray() };
        }
    }
}
