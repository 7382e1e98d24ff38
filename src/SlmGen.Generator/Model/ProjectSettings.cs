using System.Collections.Generic;
using Microsoft.CodeAnalysis.Diagnostics;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Parsing;

namespace SlmGen.Generator.Model;

/// <summary>What the project tells the generator through MSBuild properties (CompilerVisibleProperty).</summary>
internal sealed record ProjectSettings(string RootNamespace, string ProjectDirectory, BudgetSpec Budget, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static ProjectSettings Read(AnalyzerConfigOptionsProvider provider, System.Threading.CancellationToken ct)
    {
        var options = provider.GlobalOptions;
        var diagnostics = new List<DiagnosticInfo>();

        string Get(string name) => options.TryGetValue("build_property." + name, out var value) ? value.Trim() : string.Empty;

        long Whole(string name)
        {
            var text = Get(name);
            if (text.Length == 0)
            {
                return 0;
            }

            if (HumanNumbers.TryParseWhole(text, out var value, out _) && value > 0)
            {
                return value;
            }

            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadProjectBudget, null, name, text));
            return 0;
        }

        double Real(string name)
        {
            var text = Get(name);
            if (text.Length == 0)
            {
                return 0;
            }

            if (HumanNumbers.TryParse(text, out var value) && value > 0)
            {
                return value;
            }

            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadProjectBudget, null, name, text));
            return 0;
        }

        var budget = new BudgetSpec(
            Whole("SlmGenMaxParameters"),
            Whole("SlmGenMaxForwardFlopsPerToken"),
            Real("SlmGenMaxTrainingFlops"),
            Whole("SlmGenTrainingTokens"),
            Whole("SlmGenMaxWeightBytes"),
            Whole("SlmGenMaxKvCacheBytes"))
        {
            MaxArtifactBytes = Whole("SlmGenMaxArtifactBytes"),
        };

        return new ProjectSettings(Get("RootNamespace"), Get("MSBuildProjectDirectory"), budget, diagnostics.ToEquatableArray());
    }

    /// <summary>Whether an additional file is a model spec: it carries the metadata SlmGenSpec=true (SlmGen.targets sets it on every SlmGenSpec item).</summary>
    public static bool IsSpec(AnalyzerConfigOptions fileOptions) =>
        fileOptions.TryGetValue("build_metadata.AdditionalFiles.SlmGenSpec", out var flag)
        && string.Equals(flag.Trim(), "true", System.StringComparison.OrdinalIgnoreCase);
}
