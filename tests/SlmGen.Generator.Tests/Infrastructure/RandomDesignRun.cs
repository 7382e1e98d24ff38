using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace SlmGen.Generator.Tests.Infrastructure;

/// <summary>Random valid designs (both front-ends) generated, compiled with the generator and loaded: the models and the run that made them.</summary>
internal sealed record RandomDesignRun(GeneratorRun Run, IReadOnlyList<ModelDescriptor> Models)
{
    /// <summary>
    /// <paramref name="count"/> designs of <see cref="RandomDesigns"/>(<paramref name="seed"/>, levers, <paramref name="recent"/>), named
    /// <paramref name="prefix"/>{seed}_{i}; <paramref name="edit"/> may rewrite each one's text (YAML when its flag is true, else
    /// attributes). The run must have no errors and its code must compile.
    /// </summary>
    public static RandomDesignRun Compile(int seed, int count, string prefix, bool recent = true, Func<string, bool, string>? edit = null, bool grouped = false)
    {
        var designs = new RandomDesigns(seed, levers: true, recent: recent, grouped: grouped);
        var sources = new StringBuilder($"using SlmGen;\nnamespace {prefix}Designs;\n");
        var specs = new List<(string, string)>();
        for (var i = 0; i < count; i++)
        {
            var (yaml, attributes) = designs.Next($"{prefix}{seed}_{i}");
            if (yaml is not null)
            {
                specs.Add(($"/specs/{prefix.ToLowerInvariant()}{i}.yaml", edit is null ? yaml : edit(yaml, true)));
            }
            else
            {
                sources.Append(edit is null ? attributes : edit(attributes!, false));
            }
        }

        var run = GeneratorRun.Of(new[] { ("/0/Designs.cs", sources.ToString()) }, specs);
        var errors = run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, $"seed {seed}: valid designs were refused: {string.Join("\n", errors.Take(5))}");
        Assert.Empty(run.CompileErrors);
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        return new RandomDesignRun(run, ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray())));
    }
}
