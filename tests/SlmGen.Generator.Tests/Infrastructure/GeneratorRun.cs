using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using SlmGen.Generator.Hosting;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Tests.Infrastructure;

/// <summary>An in-memory additional file.</summary>
internal sealed record GeneratorRun(Compilation Input, Compilation Output, GeneratorDriverRunResult Result, ImmutableArray<Diagnostic> Diagnostics)
{
    public static GeneratorRun Of(
        IEnumerable<(string Path, string Source)> sources,
        IEnumerable<(string Path, string Yaml)>? specs = null,
        IDictionary<string, string>? properties = null,
        (string Path, string Json)? deviceProfile = null)
    {
        var specList = (specs ?? Enumerable.Empty<(string, string)>()).ToList();
        var compilation = CreateCompilation(sources);
        var driver = deviceProfile is { } profile
            ? InMemoryHost.CreateDriver((CSharpParseOptions)compilation.SyntaxTrees.First().Options, specList.Select(s => new InMemoryText(s.Path, s.Yaml)).ToList(),
                new Dictionary<string, string>(properties ?? new Dictionary<string, string>()) { ["RootNamespace"] = "Test.Models" }, trackSteps: true, new InMemoryText(profile.Path, profile.Json))
            : CreateDriver(compilation, specList, properties);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(compilation, output, driver.GetRunResult(), diagnostics);
    }

    /// <summary>A driver set up as a build would set it up, with step tracking on.</summary>
    public static GeneratorDriver CreateDriver(
        Compilation compilation,
        IReadOnlyList<(string Path, string Yaml)> specs,
        IDictionary<string, string>? properties = null) =>
        CreateDriver(compilation, specs.Select(s => new InMemoryText(s.Path, s.Yaml)).ToList(), properties);

    /// <summary>A driver over the given additional texts (keep them to replace one later).</summary>
    public static GeneratorDriver CreateDriver(
        Compilation compilation,
        IReadOnlyList<InMemoryText> specs,
        IDictionary<string, string>? properties = null)
    {
        var props = new Dictionary<string, string> { ["RootNamespace"] = "Test.Models" };
        foreach (var p in properties ?? new Dictionary<string, string>())
        {
            props[p.Key] = p.Value;
        }

        return InMemoryHost.CreateDriver((CSharpParseOptions)compilation.SyntaxTrees.First().Options, specs, props, trackSteps: true);
    }

    public static CSharpCompilation CreateCompilation(IEnumerable<(string Path, string Source)> sources)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Source, parse, s.Path)).ToList();
        if (trees.Count == 0)
        {
            trees.Add(CSharpSyntaxTree.ParseText(string.Empty, parse, "/0/Empty.cs"));
        }

        return CSharpCompilation.Create(
            "Test",
            trees,
            References.ForGeneratedCode,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>The generated source whose hint name ends with <paramref name="hintSuffix"/>.</summary>
    public string Generated(string hintSuffix) =>
        Result.Results.SelectMany(r => r.GeneratedSources).Single(s => s.HintName.EndsWith(hintSuffix, System.StringComparison.Ordinal)).SourceText.ToString();

    /// <summary>The module file of the model <paramref name="fullName"/>.</summary>
    public string Model(string fullName) => Exact(Identifiers.HintName(fullName, string.Empty));

    /// <summary>The cost file of the model <paramref name="fullName"/>.</summary>
    public string Costs(string fullName) => Exact(Identifiers.HintName(fullName, "Costs"));

    /// <summary>Everything generated for the model: module, costs and (YAML) declaration.</summary>
    public string ModelAndCosts(string fullName) => Model(fullName) + Costs(fullName);

    /// <summary>True when the model <paramref name="fullName"/> was generated.</summary>
    public bool Declares(string fullName) => HintNames.Contains(Identifiers.HintName(fullName, string.Empty));

    /// <summary>True when a YAML declaration file was generated for <paramref name="fullName"/>.</summary>
    public bool DeclaresFromYaml(string fullName) => HintNames.Contains(Identifiers.HintName(fullName, "Declaration"));

    private string Exact(string hintName) =>
        Result.Results.SelectMany(r => r.GeneratedSources).Single(s => s.HintName == hintName).SourceText.ToString();

    public IEnumerable<string> HintNames => Result.Results.SelectMany(r => r.GeneratedSources).Select(s => s.HintName);

    /// <summary>Diagnostics the generator reported.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    /// <summary>Errors of the compilation that includes the generated code.</summary>
    public IReadOnlyList<Diagnostic> CompileErrors =>
        Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Exceptions the generator threw (reported as CS8784/CS8785).</summary>
    public IEnumerable<System.Exception> Exceptions => Result.Results.Where(r => r.Exception is not null).Select(r => r.Exception!);
}
