using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SlmGen.Generator.Model;
using SlmGen.Generator.Hosting;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>The pipeline caches: an unrelated edit re-runs nothing, and pipeline models hold no symbols or syntax.</summary>
public class IncrementalTests
{
    private const string ModelSource = """
        using SlmGen;
        namespace Demo;
        [Model(Vocab = 65, Context = 64, Dropout = 0.1)]
        [TokenEmbedding(Dim = 64)]
        [Positions(PositionKind.Learned)]
        [TransformerBlocks(Layers = 2, Heads = 4)]
        [FinalNorm(NormKind.LayerNorm)]
        [LMHead(TiedToEmbedding = true)]
        public partial class Small { }
        """;

    private const string Spec = """
        vocab: 65
        context: 32
        embedding: 32
        positions: learned
        layers:
          - transformer: { layers: 1, heads: 2 }
        head: tied
        """;

    private static readonly string[] Steps =
    {
        TrackingNames.AttributeSpecs, TrackingNames.YamlSpecs, TrackingNames.ProjectSettings,
        TrackingNames.AllSpecs, TrackingNames.Analyzed, TrackingNames.ModelOutputs, TrackingNames.StrayAttributes,
        TrackingNames.Catalog, TrackingNames.Diagnostics,
    };

    [Fact]
    public void An_unrelated_edit_leaves_every_tracked_step_cached_or_unchanged()
    {
        var specs = new[] { ("/specs/yaml-small.yaml", Spec) };
        var compilation = GeneratorRun.CreateCompilation(new[]
        {
            ("/0/Model.cs", ModelSource),
            ("/0/Other.cs", "namespace Demo; public static class Other { public static int Answer => 41; }"),
        });
        var driver = GeneratorRun.CreateDriver(compilation, specs).RunGenerators(compilation);
        var first = driver.GetRunResult();
        Assert.Empty(first.Diagnostics);
        foreach (var step in Steps.Where(s => s is not (TrackingNames.Diagnostics or TrackingNames.StrayAttributes)))
        {
            Assert.True(first.Results[0].TrackedSteps.ContainsKey(step), $"step {step} did not run");
        }

        Assert.Contains(first.Results[0].GeneratedSources, s => s.HintName == Identifiers.HintName("Demo.Small", string.Empty));
        Assert.Contains(first.Results[0].GeneratedSources, s => s.HintName == Identifiers.HintName("Test.Models.YamlSmall", string.Empty));

        // Edit an unrelated file.
        var oldTree = compilation.SyntaxTrees.Single(t => t.FilePath == "/0/Other.cs");
        var newTree = oldTree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
            "namespace Demo; public static class Other { public static int Answer => 42; }"));
        var edited = compilation.ReplaceSyntaxTree(oldTree, newTree);
        var second = driver.RunGenerators(edited).GetRunResult();

        // A step that did not run at all (Diagnostics, when there is nothing to report) re-ran nothing.
        foreach (var step in Steps.Where(second.Results[0].TrackedSteps.ContainsKey))
        {
            foreach (var run in second.Results[0].TrackedSteps[step])
            {
                foreach (var (_, reason) in run.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}");
                }
            }
        }

        Assert.All(second.Results[0].TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Changing_a_model_re_runs_that_model_only()
    {
        var compilation = GeneratorRun.CreateCompilation(new[] { ("/0/Model.cs", ModelSource) });
        var specs = new[] { ("/specs/yaml-small.yaml", Spec) };
        var driver = GeneratorRun.CreateDriver(compilation, specs).RunGenerators(compilation);

        var oldTree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(oldTree, oldTree.WithChangedText(
            Microsoft.CodeAnalysis.Text.SourceText.From(ModelSource.Replace("Layers = 2", "Layers = 3"))));
        var result = driver.RunGenerators(edited).GetRunResult().Results[0];

        var analyzed = result.TrackedSteps[TrackingNames.Analyzed].SelectMany(r => r.Outputs).ToList();
        Assert.Contains(analyzed, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(analyzed, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        Assert.Contains("ParameterCount = ", result.GeneratedSources.Single(s => s.HintName == Identifiers.HintName("Demo.Small", "Costs")).SourceText.ToString());
    }

    [Fact]
    public void A_blank_line_above_the_model_leaves_its_output_step_and_sources_cached()
    {
        var compilation = GeneratorRun.CreateCompilation(new[] { ("/0/Model.cs", ModelSource) });
        var driver = GeneratorRun.CreateDriver(compilation, new[] { ("/specs/yaml-small.yaml", Spec) }).RunGenerators(compilation);

        var oldTree = compilation.SyntaxTrees.Single();
        var moved = compilation.ReplaceSyntaxTree(oldTree, oldTree.WithChangedText(
            Microsoft.CodeAnalysis.Text.SourceText.From(ModelSource.Replace("namespace Demo;\n", "namespace Demo;\n\n\n"))));
        var result = driver.RunGenerators(moved).GetRunResult().Results[0];

        // The spec moved (its locations changed), so the analysis re-ran; what it generates did not change.
        Assert.Contains(result.TrackedSteps[TrackingNames.AttributeSpecs].SelectMany(r => r.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(result.TrackedSteps[TrackingNames.ModelOutputs].SelectMany(r => r.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"ModelOutputs: {o.Reason}"));
        Assert.All(result.TrackedSteps[TrackingNames.Catalog].SelectMany(r => r.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Catalog: {o.Reason}"));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output: {o.Reason}"));
    }

    [Fact]
    public void Editing_another_spec_leaves_this_model_cached()
    {
        var compilation = GeneratorRun.CreateCompilation(new[] { ("/0/Model.cs", ModelSource) });
        var other = new InMemoryText("/specs/other.yaml", Spec.Replace("context: 32", "context: 16"));
        var driver = GeneratorRun.CreateDriver(compilation, new[] { new InMemoryText("/specs/yaml-small.yaml", Spec), other }).RunGenerators(compilation);
        driver = driver.ReplaceAdditionalText(other, new InMemoryText("/specs/other.yaml", Spec.Replace("context: 32", "context: 24")));
        var result = driver.RunGenerators(compilation).GetRunResult().Results[0];

        var outputs = result.TrackedSteps[TrackingNames.ModelOutputs].SelectMany(r => r.Outputs).ToList();
        Assert.Contains(outputs, o => o.Reason == IncrementalStepRunReason.Modified);   // Other
        Assert.Equal(2, outputs.Count(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)); // Small and YamlSmall
        var yamlSmall = result.TrackedSteps[TrackingNames.YamlSpecs].SelectMany(r => r.Outputs).ToList();
        Assert.Contains(yamlSmall, o => o.Reason == IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_syntax_or_compilations()
    {
        var compilation = GeneratorRun.CreateCompilation(new[] { ("/0/Model.cs", ModelSource) });
        var driver = GeneratorRun.CreateDriver(compilation, new[] { ("/specs/yaml-small.yaml", Spec) }).RunGenerators(compilation);
        var result = driver.GetRunResult().Results[0];
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var step in Steps.Where(result.TrackedSteps.ContainsKey))
        {
            foreach (var run in result.TrackedSteps[step])
            {
                foreach (var (value, _) in run.Outputs)
                {
                    AssertNoRoslynObjects(value, step, visited);
                }
            }
        }

        Assert.NotEmpty(visited);
    }

    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> visited)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value is Enum || value is decimal)
        {
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location,
            $"{path} holds a {value.GetType().Name}");
        if (!value.GetType().IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is IEnumerable items && value.GetType().Namespace?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) != true)
        {
            var i = 0;
            foreach (var item in items)
            {
                AssertNoRoslynObjects(item, $"{path}[{i++}]", visited);
            }
        }

        if (value.GetType().Namespace?.StartsWith("SlmGen", StringComparison.Ordinal) != true && !value.GetType().IsGenericType)
        {
            return; // DiagnosticDescriptor, TextSpan, ...: Roslyn value types or immutable descriptors
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.DeclaringType?.Namespace?.StartsWith("SlmGen", StringComparison.Ordinal) == true)
            {
                AssertNoRoslynObjects(property.GetValue(value), path + "." + property.Name, visited);
            }
        }

        if (value.GetType().IsGenericType && value is not IEnumerable)
        {
            foreach (var field in value.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance))
            {
                AssertNoRoslynObjects(field.GetValue(value), path + "." + field.Name, visited);
            }
        }
    }
}
