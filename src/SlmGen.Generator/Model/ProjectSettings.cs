using System.Collections.Generic;
using Microsoft.CodeAnalysis.Diagnostics;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Parsing;

namespace SlmGen.Generator.Model;

/// <summary>What the project tells the generator through MSBuild properties (CompilerVisibleProperty).</summary>
internal sealed record ProjectSettings(string RootNamespace, string ProjectDirectory, BudgetSpec Budget, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>Windows per training step that time budgets assume (SlmGenTrainingBatch; 32 by default).</summary>
    public int TrainingBatch { get; init; } = 32;

    /// <summary>Whether time budgets assume each training step is one CUDA graph (SlmGenTrainingGraphed; eager by default, as `slmgen train` runs).</summary>
    public bool TrainingGraphed { get; init; }

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
            MaxTrainingSeconds = Duration("SlmGenMaxTrainingTime"),
            MaxDecodeSeconds = Duration("SlmGenMaxDecodeLatency"),
        };

        double Duration(string name)
        {
            var seconds = DurationText.Seconds(Get(name));
            if (double.IsNaN(seconds))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadProjectBudget, null, name, Get(name)));
                return 0;
            }

            return seconds;
        }

        var batch = Whole("SlmGenTrainingBatch");
        var graphedText = Get("SlmGenTrainingGraphed");
        var graphed = string.Equals(graphedText, "true", System.StringComparison.OrdinalIgnoreCase);
        if (graphedText.Length > 0 && !graphed && !string.Equals(graphedText, "false", System.StringComparison.OrdinalIgnoreCase))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadProjectSwitch, null, "SlmGenTrainingGraphed", graphedText, "false (eager steps)"));
        }

        return new ProjectSettings(Get("RootNamespace"), Get("MSBuildProjectDirectory"), budget, diagnostics.ToEquatableArray())
        {
            TrainingBatch = batch is > 0 and <= 1 << 20 ? (int)batch : 32,
            TrainingGraphed = graphed,
        };
    }

    /// <summary>Whether an additional file is a model spec: it carries the metadata SlmGenSpec=true (SlmGen.targets sets it on every SlmGenSpec item).</summary>
    public static bool IsSpec(AnalyzerConfigOptions fileOptions) =>
        fileOptions.TryGetValue("build_metadata.AdditionalFiles.SlmGenSpec", out var flag)
        && string.Equals(flag.Trim(), "true", System.StringComparison.OrdinalIgnoreCase);
}
