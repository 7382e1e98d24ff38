using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Analysis;

/// <summary>A model after validation, costing and budget checks: what the emitters need, all equatable.</summary>
internal sealed record AnalyzedModel(
    ModelSpec? Spec,
    ModelCosts? Costs,
    string Fingerprint,
    EquatableArray<BudgetStatus> Budget,
    EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>True when code is generated for the model.</summary>
    public bool CanEmit => Spec is not null && Costs is not null;

    public string Source => Spec is null ? string.Empty
        : Spec.Source == SpecSource.Yaml ? Spec.SourcePath : "attributes on " + Spec.FullName;
}

/// <summary>Runs the single path every spec takes after its front-end: validate, cost, check budgets.</summary>
internal static class ModelAnalysis
{
    public static AnalyzedModel Analyze(ParsedSpec parsed, BudgetSpec projectBudget)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        var spec = parsed.Spec;
        if (spec is null)
        {
            return new AnalyzedModel(null, null, string.Empty, EquatableArray<BudgetStatus>.Empty, diagnostics.ToEquatableArray());
        }

        diagnostics.AddRange(SpecValidator.Validate(spec));
        if (diagnostics.Any(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error))
        {
            return new AnalyzedModel(null, null, string.Empty, EquatableArray<BudgetStatus>.Empty, diagnostics.ToEquatableArray());
        }

        ModelCosts costs;
        try
        {
            costs = CostModel.Compute(spec);
        }
        catch (OverflowException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CostOverflow, spec.Declaration, spec.ClassName, "parameter or FLOP count"));
            return new AnalyzedModel(null, null, string.Empty, EquatableArray<BudgetStatus>.Empty, diagnostics.ToEquatableArray());
        }

        var budget = spec.Budget.Over(projectBudget);
        diagnostics.AddRange(BudgetAnalyzer.Diagnose(spec, costs, budget));
        return new AnalyzedModel(spec, costs, Fingerprint.Of(spec), BudgetAnalyzer.Status(spec, costs, budget).ToEquatableArray(), diagnostics.ToEquatableArray());
    }
}
