using System.IO;
using System.Linq;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>The generated code of the sample models, compared with approved files (Snapshots/).</summary>
public class SnapshotTests
{
    public static TheoryData<string> DeclaredModels() => new()
    {
        "LinearPredictor", "MlpPredictor", "SingleAttention", "ThreeLayerTransformer", "BabyGpt",
    };

    [Theory]
    [MemberData(nameof(DeclaredModels))]
    public void Generated_module_matches_the_approved_snapshot(string model)
    {
        var run = RunOnDeclaredSamples();
        Snapshot.Match(model + ".g.cs", run.Model("SlmGen.Samples.Declared." + model));
        Snapshot.Match(model + ".Costs.g.cs", run.Costs("SlmGen.Samples.Declared." + model));
    }

    public static TheoryData<string> LeverSpecs() => new() { "gqa", "layerwise", "block-shared", "shared-lora", "qat" };

    /// <summary>The compact-model levers' sample specs: the generated module and costs, approved.</summary>
    [Theory]
    [MemberData(nameof(LeverSpecs))]
    public void Lever_modules_match_the_approved_snapshots(string spec)
    {
        var path = Repo.Path("specs", "levers", spec + ".yaml");
        var run = GeneratorRun.Of(System.Array.Empty<(string, string)>(), new[] { (path, File.ReadAllText(path)) });
        Assert.Empty(run.CompileErrors);
        var name = "Test.Models." + YamlName(File.ReadAllText(path));
        Snapshot.Match("levers/" + spec + ".g.cs", run.Model(name));
        Snapshot.Match("levers/" + spec + ".Costs.g.cs", run.Costs(name));
    }

    /// <summary>One version: the packages' (Directory.Build.props, also slmgen --version) is the one the generated code and cost report name.</summary>
    [Fact]
    public void The_generated_code_names_the_packages_version()
    {
        var props = System.Xml.Linq.XDocument.Load(Repo.Path("Directory.Build.props"));
        var version = props.Descendants("Version").Single().Value.Trim();
        Assert.Equal(SlmGen.Generator.Emit.ModelEmitter.Version, version);
    }

    private static string YamlName(string yaml) => yaml.Split('\n').First(l => l.StartsWith("name:", System.StringComparison.Ordinal))["name:".Length..].Trim();

    [Fact]
    public void Catalog_matches_the_approved_snapshot()
    {
        var run = RunOnDeclaredSamples();
        Snapshot.Match("SlmGen.Catalog.g.cs", run.Generated("SlmGen.Catalog.g.cs"));
    }

    [Fact]
    public void Sample_declarations_generate_without_diagnostics_and_compile()
    {
        var run = RunOnDeclaredSamples();
        Assert.Empty(run.Exceptions);
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning));
        Assert.Empty(run.CompileErrors);
    }

    /// <summary>
    /// The study's models and baby GPT declared with attributes (Inputs/*.cs.txt). The samples declare each model once,
    /// in YAML under specs/ (samples/Models); the attribute forms are this test's inputs, and YamlTests checks that
    /// both front-ends generate the same code.
    /// </summary>
    internal static GeneratorRun RunOnDeclaredSamples()
    {
        var dir = Repo.Path("tests", "SlmGen.Generator.Tests", "Inputs");
        var sources = Directory.GetFiles(dir, "*.cs.txt").OrderBy(f => Path.GetFileName(f)).Select(f => (f, File.ReadAllText(f)));
        return GeneratorRun.Of(sources);
    }
}
