using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace SlmGen.Generator.Hosting;

/// <summary>A spec (or any additional file) held in memory.</summary>
internal sealed class InMemoryText : AdditionalText
{
    private readonly SourceText text;

    public InMemoryText(string path, string content)
    {
        Path = path;
        text = SourceText.From(content);
    }

    public override string Path { get; }

    public override SourceText GetText(CancellationToken cancellationToken = default) => text;
}

/// <summary>Analyzer options given as dictionaries: the global build properties and per-file metadata.</summary>
internal sealed class InMemoryOptions : AnalyzerConfigOptionsProvider
{
    private readonly Options global;
    private readonly Dictionary<string, Options> files;

    public InMemoryOptions(IDictionary<string, string> global, IDictionary<string, IDictionary<string, string>>? files = null)
    {
        this.global = new Options(global);
        this.files = (files ?? new Dictionary<string, IDictionary<string, string>>()).ToDictionary(f => f.Key, f => new Options(f.Value), StringComparer.Ordinal);
    }

    public override AnalyzerConfigOptions GlobalOptions => global;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => files.TryGetValue(textFile.Path, out var o) ? o : Options.Empty;

    private sealed class Options : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(new Dictionary<string, string>());
        private readonly IDictionary<string, string> values;

        public Options(IDictionary<string, string> values) => this.values = values;

        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}

/// <summary>
/// Runs the generator outside a build — for slmgen (specs compiled without a project), the tests and the generator
/// benchmark: specs as <see cref="InMemoryText"/> marked as SlmGen specs, MSBuild properties as global options.
/// </summary>
internal static class InMemoryHost
{
    /// <summary>The item metadata a build gives a spec (SlmGenSpec items are additional files with it).</summary>
    public const string SpecMetadata = "build_metadata.AdditionalFiles.SlmGenSpec";

    /// <summary>A driver with the generator, the specs and the properties (names without the build_property. prefix).</summary>
    public static GeneratorDriver CreateDriver(CSharpParseOptions parse, IReadOnlyList<InMemoryText> specs, IDictionary<string, string> properties, bool trackSteps = false, InMemoryText? deviceProfile = null)
    {
        var global = properties.ToDictionary(p => "build_property." + p.Key, p => p.Value);
        var files = specs.ToDictionary(s => s.Path, _ => (IDictionary<string, string>)new Dictionary<string, string> { [SpecMetadata] = "true" }, StringComparer.Ordinal);
        var texts = specs.Cast<AdditionalText>().ToList();
        if (deviceProfile is not null)
        {
            // The device profile time budgets assume (SlmGenDeviceProfile: an additional file with that metadata).
            files[deviceProfile.Path] = new Dictionary<string, string> { ["build_metadata.AdditionalFiles.SlmGenDeviceProfile"] = "true" };
            texts.Add(deviceProfile);
        }

        return CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            texts,
            parse,
            new InMemoryOptions(global, files),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));
    }
}
