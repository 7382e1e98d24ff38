using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Emit;
using SlmGen.Generator.Model;
using SlmGen.Generator.Parsing;
using SlmGen.Generator.Parsing.Yaml;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

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
                static (node, _) => node is TypeDeclarationSyntax,
                AttributeReader.ReadGuarded)
            .Where(static p => p.Spec is not null || p.Diagnostics.Count > 0)
            .WithTrackingName(TrackingNames.AttributeSpecs);

        // Layer attributes on a class without [Model]: one provider per attribute, errors only.
        var stray = AttributeReader.LayerAttributes
            .Select(name => context.SyntaxProvider
                .ForAttributeWithMetadataName(name, static (node, _) => node is TypeDeclarationSyntax, AttributeReader.StrayAttributes)
                .Where(static d => d.Count > 0)
                .Collect())
            .Aggregate((a, b) => a.Combine(b).Select(static (pair, _) => pair.Left.AddRange(pair.Right)))
            .Select(static (all, _) => all.SelectMany(d => d).ToEquatableArray())
            .WithTrackingName(TrackingNames.StrayAttributes);

        var fromYaml = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair => ProjectSettings.IsSpec(pair.Right.GetOptions(pair.Left)))
            .Select(static (pair, _) => pair.Left)
            .Combine(settings.Select(static (s, _) => (s.RootNamespace, s.ProjectDirectory)))
            .Select(static (pair, ct) => YamlSpecReader.Read(
                pair.Left.Path, DisplayPath(pair.Left.Path, pair.Right.ProjectDirectory), pair.Left.GetText(ct), DefaultNamespace(pair.Right.RootNamespace), ct))
            .WithTrackingName(TrackingNames.YamlSpecs);

        // The device the time budgets assume (SlmGenDeviceProfile), the batch of a training step (SlmGenTrainingBatch) and
        // whether the step runs as one CUDA graph (SlmGenTrainingGraphed).
        var time = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair => TimeSettings.IsProfile(pair.Right.GetOptions(pair.Left)))
            .Select(static (pair, _) => pair.Left)
            .Collect()
            .Combine(settings.Select(static (s, _) => (s.TrainingBatch, s.TrainingGraphed)))
            .Select(static (pair, ct) => TimeSettings.Read(pair.Left, pair.Right.TrainingBatch, ct) with { Graphed = pair.Right.TrainingGraphed })
            .WithTrackingName(TrackingNames.TimeSettings);

        var all = fromAttributes.Collect()
            .Combine(fromYaml.Collect())
            .Select(static (pair, _) => Deduplicate(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.AllSpecs);

        var analyzed = all
            .SelectMany(static (specs, _) => specs)
            .Combine(settings.Select(static (s, _) => (s.Budget, NamespaceProblem: DefaultNamespaceProblem(s.RootNamespace))))
            .Combine(time)
            .Select(static (pair, _) => ModelAnalysis.Analyze(pair.Left.Left, pair.Left.Right.Budget, pair.Left.Right.NamespaceProblem, pair.Right))
            .WithTrackingName(TrackingNames.Analyzed);

        // The source branch sees location-free outputs only: moving a declaration changes the analysis
        // (its diagnostics' locations) but not these, so nothing is re-added.
        var outputs = analyzed
            .Where(static m => m.Output is not null)
            .Select(static (m, _) => m.Output!)
            .WithTrackingName(TrackingNames.ModelOutputs);

        // A C# type named like a YAML model must be a partial class that fits the generated parts; otherwise
        // the model is not generated (the type gets the diagnostic). Only YAML models are looked up.
        // Names of the project's top-level types, from syntax (cheap, per tree): symbols are looked up only
        // for a YAML model that one of them names.
        var declaredTypes = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is BaseTypeDeclarationSyntax { Parent: BaseNamespaceDeclarationSyntax or CompilationUnitSyntax },
                static (ctx, _) => CompanionCheck.FullNameOf((BaseTypeDeclarationSyntax)ctx.Node))
            .Collect()
            .Select(static (names, _) => names.Distinct().OrderBy(n => n, System.StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.DeclaredTypes);

        var companions = outputs
            .Where(static o => o.YamlSpec.Length > 0)
            .Collect()
            .Combine(declaredTypes)
            .Select(static (pair, _) => pair.Left.Where(m => pair.Right.AsImmutableArray().BinarySearch(m.Entry.FullName, System.StringComparer.Ordinal) >= 0).ToEquatableArray())
            .Combine(context.CompilationProvider)
            .Select(static (pair, ct) => pair.Left.Count == 0 ? CompanionResult.None : CompanionCheck.Run(pair.Left.AsImmutableArray(), pair.Right, ct))
            .WithTrackingName(TrackingNames.Companions);

        // global::System, global::TorchSharp and global::SlmGen must mean what generated code needs: checked
        // only when there is a model to generate (cheap lookups in the global namespace).
        var references = all
            .Select(static (specs, _) => specs.Any(p => p.Spec is not null))
            .Combine(context.CompilationProvider)
            .Select(static (pair, ct) => pair.Left ? ReferenceCheck.Run(pair.Right, ct) : ReferenceResult.Fine)
            .WithTrackingName(TrackingNames.References);

        var emitted = outputs
            .Combine(companions.Select(static (c, _) => c.Blocked))
            .Where(static pair => !pair.Right.Contains(pair.Left.Entry.FullName))
            .Select(static (pair, _) => pair.Left)
            .Combine(references.Select(static (r, _) => r.Blocked))
            .Where(static pair => !pair.Right)
            .Select(static (pair, _) => pair.Left)
            .WithTrackingName(TrackingNames.EmittedOutputs);

        context.RegisterSourceOutput(emitted, static (spc, output) =>
        {
            foreach (var file in output.Files)
            {
                spc.AddSource(file.HintName, file.Text);
            }
        });

        var catalog = emitted.Select(static (o, _) => o.Entry).Collect()
            .Select(static (entries, _) => entries.OrderBy(e => e.FullName, System.StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.Catalog);
        context.RegisterSourceOutput(catalog, static (spc, entries) =>
        {
            if (entries.Count > 0)
            {
                spc.AddSource(CatalogHintName, CatalogEmitter.Emit(entries));
            }
        });

        // Diagnostics go out with the compilation at hand, so that those in C# files get source locations
        // (#pragma and per-file .editorconfig severities then apply). Only when there are any: an edit to a
        // project without diagnostics re-runs nothing.
        var diagnostics = analyzed.SelectMany(static (m, _) => m.Diagnostics)
            .Collect()
            .Combine(settings.Select(static (s, _) => s.Diagnostics).Combine(time.Select(static (t, _) => t.Diagnostics)).Select(static (pair, _) => pair.Left.Concat(pair.Right).ToEquatableArray()))
            .Combine(stray)
            .Combine(companions.Select(static (c, _) => c.Diagnostics))
            .Combine(references.Select(static (r, _) => r.Diagnostics))
            .Select(static (pair, _) => pair.Left.Left.Left.Left.Concat(pair.Left.Left.Left.Right).Concat(pair.Left.Left.Right).Concat(pair.Left.Right).Concat(pair.Right).ToEquatableArray())
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

    /// <summary>The hint name of the catalog: no model's file can take it (theirs end in a 16-digit hash and a kind).</summary>
    private const string CatalogHintName = "SlmGen.Catalog.g.cs";

    private static string DefaultNamespace(string rootNamespace) => rootNamespace.Length > 0 ? Identifiers.Unescape(rootNamespace) : "SlmGen.Models";

    /// <summary>Why the project's RootNamespace cannot be a namespace ("" when it can, or when it is empty).</summary>
    private static string DefaultNamespaceProblem(string rootNamespace) =>
        rootNamespace.Length == 0 ? string.Empty : Identifiers.NamespaceProblem(rootNamespace) ?? string.Empty;

    /// <summary>
    /// The spec's path relative to the project (so that reports do not depend on the machine), with '/'
    /// separators; the path as given when it cannot be made relative (another drive, characters a path may
    /// not hold). Never throws.
    /// </summary>
    private static string DisplayPath(string path, string projectDirectory)
    {
        try
        {
            var full = System.IO.Path.GetFullPath(path).Replace('\\', '/');
            if (projectDirectory.Length == 0)
            {
                return full;
            }

            var root = System.IO.Path.GetFullPath(projectDirectory).Replace('\\', '/').TrimEnd('/').Split('/');
            var target = full.Split('/');
            var comparison = System.IO.Path.DirectorySeparatorChar == '\\' ? System.StringComparison.OrdinalIgnoreCase : System.StringComparison.Ordinal;
            var common = 0;
            while (common < root.Length && common < target.Length - 1 && string.Equals(root[common], target[common], comparison))
            {
                common++;
            }

            if (common == 0 || (common == 1 && root[0].Length == 0 && root.Length > 1))
            {
                return full; // nothing in common but the file system root: the full path says more
            }

            var up = Enumerable.Repeat("..", root.Length - common);
            return string.Join("/", up.Concat(target.Skip(common)));
        }
        catch (System.Exception ex) when (ex is System.ArgumentException or System.NotSupportedException or System.IO.PathTooLongException or System.Security.SecurityException)
        {
            return path;
        }
    }

    /// <summary>
    /// Keeps the first spec of each model name (attributes first, then YAML files by path) and turns the
    /// others into a located error, so that two specs never fight over one generated file.
    /// </summary>
    private static EquatableArray<ParsedSpec> Deduplicate(ImmutableArray<ParsedSpec> attributes, ImmutableArray<ParsedSpec> yaml)
    {
        var result = new List<ParsedSpec>();
        var seen = new Dictionary<string, ModelSpec>(System.StringComparer.Ordinal);
        foreach (var parsed in attributes.Concat(yaml.OrderBy(p => p.Spec?.SourcePath ?? string.Empty, System.StringComparer.Ordinal)))
        {
            if (parsed.Spec is { } spec && seen.TryGetValue(Identifiers.Canonical(spec.FullName), out var first))
            {
                var where = first.Source == SpecSource.Yaml ? first.SourcePath : "attributes on " + first.FullName;
                var duplicate = DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateModel, spec.Declaration, spec.FullName, where);
                result.Add(new ParsedSpec(null, parsed.Diagnostics.Concat(new[] { duplicate }).ToEquatableArray()));
                continue;
            }

            if (parsed.Spec is { } kept)
            {
                seen[Identifiers.Canonical(kept.FullName)] = kept;
            }

            result.Add(parsed);
        }

        // A model named like the namespace of another (model Foo in N, model Declaration in N.Foo) would
        // make a type and a namespace of one name: the model of that name is an error, the other generates.
        var namespaces = new HashSet<string>(System.StringComparer.Ordinal);
        foreach (var spec in seen.Values)
        {
            for (var ns = spec.Namespace; ns.Length > 0; ns = ns.LastIndexOf('.') is var dot and > 0 ? ns.Substring(0, dot) : string.Empty)
            {
                if (!namespaces.Add(Identifiers.Canonical(ns)))
                {
                    break;
                }
            }
        }

        for (var i = 0; i < result.Count; i++)
        {
            if (result[i].Spec is { } spec && namespaces.Contains(Identifiers.Canonical(spec.FullName)))
            {
                var clash = DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, spec.Has(SettingsTable.Name.Key) ? spec.Where(SettingsTable.Name.Key) : spec.Declaration,
                    spec.FullName, "model", " (another model lives in a namespace of that name; a type and a namespace cannot share a name)");
                result[i] = new ParsedSpec(null, result[i].Diagnostics.Concat(new[] { clash }).ToEquatableArray());
            }
        }

        return result.ToEquatableArray();
    }
}
