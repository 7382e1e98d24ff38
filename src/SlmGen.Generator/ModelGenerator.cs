using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SlmGen.Generator.Analysis;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Emit;
using SlmGen.Generator.Model;
using SlmGen.Generator.Parsing;

namespace SlmGen.Generator;

/// <summary>
/// The SlmGen generator. Two front-ends (attributed partial classes, YAML specs in AdditionalFiles with
/// SlmGenSpec=true) produce the same <see cref="ModelSpec"/>; one path then validates, costs, checks
/// budgets and emits a TorchSharp module per model, plus the assembly's catalog and cost report.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var settings = context.AnalyzerConfigOptionsProvider
            .Select(ProjectSettings.Read)
            .WithTrackingName(TrackingNames.ProjectSettings);

        var fromAttributes = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeReader.ModelAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                AttributeReader.Read)
            .Where(static p => p.Spec is not null || p.Diagnostics.Count > 0)
            .WithTrackingName(TrackingNames.AttributeSpecs);

        var fromYaml = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair => ProjectSettings.IsSpec(pair.Right.GetOptions(pair.Left)))
            .Select(static (pair, _) => pair.Left)
            .Combine(settings.Select(static (s, _) => (s.RootNamespace, s.ProjectDirectory)))
            .Select(static (pair, ct) => YamlSpecReader.Read(
                pair.Left.Path, DisplayPath(pair.Left.Path, pair.Right.ProjectDirectory), pair.Left.GetText(ct), DefaultNamespace(pair.Right.RootNamespace), ct))
            .WithTrackingName(TrackingNames.YamlSpecs);

        var all = fromAttributes.Collect()
            .Combine(fromYaml.Collect())
            .Select(static (pair, _) => Deduplicate(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.AllSpecs);

        var analyzed = all
            .SelectMany(static (specs, _) => specs)
            .Combine(settings.Select(static (s, _) => s.Budget))
            .Select(static (pair, _) => ModelAnalysis.Analyze(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Analyzed);

        context.RegisterSourceOutput(analyzed.Where(static m => m.CanEmit), static (spc, model) =>
        {
            var spec = model.Spec!;
            spc.AddSource(HintName(spec, string.Empty), ModelEmitter.Emit(spec, model.Costs!, model.Fingerprint));
            if (spec.Source == SpecSource.Yaml)
            {
                spc.AddSource(HintName(spec, ".Declaration"), YamlDeclaration(spec));
            }
        });

        var catalog = analyzed.Where(static m => m.CanEmit).Collect()
            .Select(static (models, _) => models.OrderBy(m => m.Spec!.FullName, System.StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.Catalog);
        context.RegisterSourceOutput(catalog, static (spc, models) =>
        {
            if (models.Count > 0)
            {
                spc.AddSource("SlmGen.Catalog.g.cs", CatalogEmitter.Emit(models));
            }
        });

        // Diagnostics go out with the compilation at hand, so that those in C# files get source locations
        // (#pragma and per-file .editorconfig severities then apply). Only when there are any: an edit to a
        // project without diagnostics re-runs nothing.
        var diagnostics = analyzed.SelectMany(static (m, _) => m.Diagnostics)
            .Collect()
            .Combine(settings.Select(static (s, _) => s.Diagnostics))
            .Select(static (pair, _) => pair.Left.Concat(pair.Right).ToEquatableArray())
            .WithTrackingName(TrackingNames.Diagnostics)
            .Combine(context.CompilationProvider)
            .SelectMany(static (pair, _) => pair.Left.Count == 0
                ? ImmutableArray<(EquatableArray<DiagnosticInfo>, Compilation)>.Empty
                : ImmutableArray.Create(pair));
        context.RegisterSourceOutput(diagnostics, static (spc, pair) =>
        {
            foreach (var d in pair.Item1)
            {
                spc.ReportDiagnostic(d.ToDiagnostic(pair.Item2));
            }
        });
    }

    private static string DefaultNamespace(string rootNamespace) => rootNamespace.Length > 0 ? rootNamespace : "SlmGen.Models";

    /// <summary>The spec's path relative to the project (so that reports do not depend on the machine), with '/' separators.</summary>
    private static string DisplayPath(string path, string projectDirectory)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (projectDirectory.Length > 0)
        {
            var root = System.IO.Path.GetFullPath(projectDirectory).TrimEnd('/', '\\') + System.IO.Path.DirectorySeparatorChar;
            var relative = MakeRelative(root, full);
            if (relative is not null)
            {
                return relative.Replace('\\', '/');
            }
        }

        return full.Replace('\\', '/');
    }

    private static string? MakeRelative(string root, string full)
    {
        var rootUri = new System.Uri(root);
        var fullUri = new System.Uri(full);
        return rootUri.Scheme != fullUri.Scheme ? null : System.Uri.UnescapeDataString(rootUri.MakeRelativeUri(fullUri).ToString());
    }

    private static string HintName(ModelSpec spec, string suffix) => spec.FullName + suffix + ".g.cs";

    private static string YamlDeclaration(ModelSpec spec)
    {
        var w = new IndentedWriter();
        w.Line("// <auto-generated/>");
        w.Line($"// SlmGen {ModelEmitter.Version}: {spec.ClassName} is declared by the YAML spec {spec.SourcePath}.");
        w.Line("#nullable enable");
        w.Line();
        if (spec.Namespace.Length > 0)
        {
            w.Open($"namespace {spec.Namespace}");
        }

        w.Line("public sealed partial class " + spec.ClassName);
        w.Line("{");
        w.Line("}");
        if (spec.Namespace.Length > 0)
        {
            w.Close();
        }

        return w.ToString();
    }

    /// <summary>
    /// Keeps the first spec of each model name (attributes first, then YAML files by path) and turns the
    /// others into a located error, so that two specs never fight over one generated file.
    /// </summary>
    private static EquatableArray<ParsedSpec> Deduplicate(ImmutableArray<ParsedSpec> attributes, ImmutableArray<ParsedSpec> yaml)
    {
        var result = new List<ParsedSpec>();
        var seen = new Dictionary<string, ModelSpec>();
        foreach (var parsed in attributes.Concat(yaml.OrderBy(p => p.Spec?.SourcePath ?? string.Empty, System.StringComparer.Ordinal)))
        {
            if (parsed.Spec is { } spec && seen.TryGetValue(spec.FullName, out var first))
            {
                var where = first.Source == SpecSource.Yaml ? first.SourcePath : "attributes on " + first.FullName;
                var duplicate = DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateModel, spec.Declaration, spec.FullName, where);
                result.Add(new ParsedSpec(null, parsed.Diagnostics.Concat(new[] { duplicate }).ToEquatableArray()));
                continue;
            }

            if (parsed.Spec is { } kept)
            {
                seen[kept.FullName] = kept;
            }

            result.Add(parsed);
        }

        return result.ToEquatableArray();
    }
}
