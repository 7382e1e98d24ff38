using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SlmGen.IO;

namespace SlmGen.Cli;

/// <summary>The models of compiled specs: their catalog, their cost report, and the generator's diagnostics.</summary>
/// <param name="Models">The generated models.</param>
/// <param name="CostReportJson">The cost report (what a project's build writes to slmgen-costs.json).</param>
/// <param name="Diagnostics">The generator's diagnostics (budget warnings, advice), located in the specs, as printed (<see cref="SpecCompiler.Format"/>).</param>
public sealed record CompiledSpecs(IReadOnlyList<ModelDescriptor> Models, string CostReportJson, IReadOnlyList<string> Diagnostics)
{
    /// <summary>The one model of a single spec.</summary>
    public ModelDescriptor Single(string path) => Models.Count == 1 ? Models[0] : throw new CliException($"{path} declares {Models.Count} models; expected one.");

    /// <summary>The one model of the spec file <paramref name="path"/> among several compiled together.</summary>
    public ModelDescriptor Of(string path)
    {
        var full = Path.GetFullPath(path);
        var found = Models.Where(m => string.Equals(m.Source, full, StringComparison.Ordinal) || string.Equals(Path.GetFullPath(m.Source), full, StringComparison.Ordinal)).ToList();
        return found.Count == 1 ? found[0] : throw new CliException($"{path} declares {found.Count} models; expected one.");
    }
}

/// <summary>
/// Compiles YAML specs in memory with SlmGen's own generator (the one a project's build runs) and loads the
/// result: the figures the tool prints are the generated constants, and the model it trains is the generated
/// TorchSharp module — there is no second implementation of the layers or of the cost model. A spec compiled before
/// by the same build of the tool is loaded from <see cref="SpecCache"/>.
/// </summary>
public static class SpecCompiler
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        _ = typeof(SlmModel).Assembly;
        _ = typeof(TorchSharp.torch).Assembly;
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return trusted
            .Where(p => Path.GetFileNameWithoutExtension(p) is var n && (n.StartsWith("System", StringComparison.Ordinal) || n is "mscorlib" or "netstandard" or "TorchSharp" or "SlmGen.Runtime"))
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    });

    /// <summary>Compiles the specs (file paths); errors in a spec come back as located diagnostics.</summary>
    /// <exception cref="CliException">A spec file is missing, or the specs have errors.</exception>
    public static CompiledSpecs Compile(IReadOnlyList<string> paths, string rootNamespace = "SlmGen.Cli.Models", string? deviceProfile = null, int? trainingBatch = null, bool trainingGraphed = false)
    {
        var texts = new List<(string Path, string Text)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            // A spec named twice (`slmgen time a.yaml a.yaml`, to time it twice) is compiled once: its models are the same.
            if (seen.Add(Path.GetFullPath(path)))
            {
                texts.Add((Path.GetFullPath(path), Cli.ReadText(path, "spec", SlmGen.IO.InputFile.SpecLimit)));
            }
        }

        (string, string)? profile = deviceProfile is null ? null : (Path.GetFullPath(deviceProfile), Cli.ReadText(deviceProfile, "device profile", 16 << 20));
        return CompileText(texts, rootNamespace, profile, trainingBatch, trainingGraphed);
    }

    /// <summary>Compiles specs given as (path, YAML text).</summary>
    public static CompiledSpecs CompileText(IReadOnlyList<(string Path, string Text)> specs, string rootNamespace = "SlmGen.Cli.Models", (string Path, string Text)? deviceProfile = null, int? trainingBatch = null, bool trainingGraphed = false)
    {
        var properties = new Dictionary<string, string> { ["RootNamespace"] = rootNamespace };
        if (trainingBatch is { } batch)
        {
            properties["SlmGenTrainingBatch"] = batch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (trainingGraphed)
        {
            properties["SlmGenTrainingGraphed"] = "true";
        }

        var key = SpecCache.Key(specs, rootNamespace, properties, deviceProfile);
        if (SpecCache.TryRead(key) is { } cached)
        {
            return Load(cached.Image, cached.Diagnostics);
        }

        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            "SlmGen.Cli.Specs." + key[..16],
            new[] { CSharpSyntaxTree.ParseText(string.Empty, parse, "Empty.cs") },
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release, deterministic: true));
        var texts = specs.Select(s => new SlmGen.Generator.Hosting.InMemoryText(s.Path, s.Text)).ToList();

        // With a device profile the generator checks time budgets as a project's build does (SlmGenDeviceProfile).
        var profile = deviceProfile is { } p ? new SlmGen.Generator.Hosting.InMemoryText(p.Path, p.Text) : null;
        var driver = SlmGen.Generator.Hosting.InMemoryHost.CreateDriver(parse, texts, properties, deviceProfile: profile);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var errors = generatorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            throw new CliException("The spec has errors:\n" + string.Join("\n", errors.Select(Format)));
        }

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        if (!emitted.Success)
        {
            // Never expected: the generator promises compiling code for every spec it accepts.
            throw new CliException("The generated code did not compile (a generator bug; please report it):\n" +
                                   string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        }

        var lines = generatorDiagnostics.Select(Format).ToList();
        var bytes = image.ToArray();
        var compiled = Load(bytes, lines);
        SpecCache.Write(key, bytes, lines);
        return compiled;
    }

    private static CompiledSpecs Load(byte[] image, IReadOnlyList<string> diagnostics)
    {
        var assembly = new AssemblyLoadContext("slmgen-specs", isCollectible: false).LoadFromStream(new MemoryStream(image));
        var report = (string)assembly.GetType("SlmGen.Generated.SlmGenCostReport")!.GetField("Json")!.GetValue(null)!;
        return new CompiledSpecs(ModelCatalog.For(assembly), report, diagnostics);
    }

    /// <summary>A diagnostic as "file(line,col): severity ID: message".</summary>
    public static string Format(Diagnostic d)
    {
        var span = d.Location.GetMappedLineSpan();
        var where = span.IsValid ? $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): " : string.Empty;
        return $"{where}{d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage()}";
    }
}

/// <summary>A user's mistake: printed as one line (or a few), exit status 2.</summary>
public sealed class CliException : Exception
{
    /// <summary>Creates the error.</summary>
    public CliException(string message) : base(message)
    {
    }
}
